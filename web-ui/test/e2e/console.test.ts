// The console in a real browser (Debian's chromium through playwright-core) against a real
// `weir serve`: sign in, topics, produce, browse, live tail, consumer-group lag and reset,
// API keys. What the console shows is checked against the REST API itself. Screenshots of
// each page go to web-ui/test-results/screenshots/ for review.

import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { REPO, rest, startWeir, type Weir } from "./server.ts";

const SHOTS = join(REPO, "web-ui/test-results/screenshots");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const TIMEOUT_MS = 15_000;

let weir: Weir;
let browser: Browser;
let context: BrowserContext;
let page: Page;
/** Console errors, failed requests, server errors and CSP violations: the run must end with none. */
const problems: string[] = [];
/** Every request the pages made, with its Authorization header (checked for leaks). */
const requests: { url: string; auth: string | undefined }[] = [];

async function shot(name: string, p: Page = page): Promise<void> {
  await p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

function watch(p: Page): void {
  p.on("console", (m) => {
    // Chrome logs every 4xx answer as "Failed to load resource"; the tests provoke some on
    // purpose (a wrong key, a duplicate topic) and check them where they happen.
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) problems.push(`console: ${m.text()}`);
  });
  p.on("response", (r) => {
    if (r.status() >= 500) problems.push(`server error: ${r.status()} ${r.url()}`);
  });
  p.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  p.on("requestfailed", (r) => {
    // A request the page itself cut short is not a failure: the live tail's stream when it
    // pauses or its tab closes, and a periodic refresh still in flight when a test closes
    // its page (on a loaded machine that happens). The server failing shows as an error
    // status or as another net:: error (reset, refused, empty response).
    const error = r.failure()?.errorText ?? "";
    if (r.url().includes("records:stream") || error === "net::ERR_ABORTED") return;
    problems.push(`request failed: ${r.url()} ${error}`);
  });
  p.on("request", (r) => {
    requests.push({ url: r.url(), auth: r.headers().authorization });
    if (!r.url().startsWith(weir.url) && !r.url().startsWith("data:") && !r.url().startsWith("blob:")) {
      problems.push(`request to another origin: ${r.url()}`);
    }
  });
}

async function newPage(ctx: BrowserContext): Promise<Page> {
  const p = await ctx.newPage();
  p.setDefaultTimeout(TIMEOUT_MS);
  watch(p);
  return p;
}

async function go(path: string): Promise<void> {
  await page.goto(weir.url + path);
}

describe("web console", { timeout: 300_000 }, () => {
  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    weir = await startWeir();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    });
    context = await browser.newContext({ viewport: { width: 1280, height: 860 }, acceptDownloads: true });
    page = await newPage(context);
  });

  after(async () => {
    await browser?.close();
    await weir?.stop();
  });

  test("weir serve prints the console address, never the key", () => {
    assert.match(weir.output(), /console: +http:\/\/127\.0\.0\.1:\d+\/ui\/\n/);
    assert.ok(!weir.output().includes(weir.token), "the bootstrap key must not be printed");
  });

  test("the binary serves the console with the right caching and content types", async () => {
    const index = await fetch(`${weir.url}/ui/`);
    assert.equal(index.status, 200);
    assert.equal(index.headers.get("content-type"), "text/html; charset=utf-8");
    assert.equal(index.headers.get("cache-control"), "no-cache");
    assert.match(index.headers.get("content-security-policy") ?? "", /default-src 'self'/);
    const html = await index.text();
    const script = /src="(\/ui\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    assert.ok(script, "index.html loads a hashed script");
    const js = await fetch(weir.url + script);
    assert.equal(js.status, 200);
    assert.equal(js.headers.get("content-type"), "text/javascript; charset=utf-8");
    assert.equal(js.headers.get("cache-control"), "public, max-age=31536000, immutable");
    // Revalidation: the ETag answers 304.
    const again = await fetch(`${weir.url}/ui/`, { headers: { "if-none-match": index.headers.get("etag")! } });
    assert.equal(again.status, 304);
    // Console routes get index.html; a missing asset is a 404 problem, not HTML.
    const deep = await fetch(`${weir.url}/ui/topics/anything`);
    assert.equal(deep.status, 200);
    assert.equal(await deep.text(), html);
    const missing = await fetch(`${weir.url}/ui/assets/nope-123.js`);
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).code, "ROUTE_NOT_FOUND");
    const bare = await fetch(`${weir.url}/ui`, { redirect: "manual" });
    assert.equal(bare.status, 308);
    assert.equal(bare.headers.get("location"), "/ui/");
  });

  test("a wrong credential is refused in plain words; the right one signs in", async () => {
    await go("/ui/");
    await page.getByLabel("API key or JWT").fill("weir_0000000000000000_" + "0".repeat(64));
    await page.getByRole("button", { name: "Sign in" }).click();
    const err = page.getByRole("alert");
    await err.waitFor();
    assert.match(await err.innerText(), /UNAUTHENTICATED/);
    await shot("01-sign-in-refused");
    await page.getByLabel("API key or JWT").fill(weir.token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Overview" }).waitFor();
    await page.getByTestId("node-status").filter({ hasText: "ready" }).waitFor();
    const stored = await page.evaluate(() => [sessionStorage.getItem("weir.token"), localStorage.getItem("weir.token")]);
    assert.deepEqual(stored, [weir.token, null], "the credential lives in session storage only");
  });

  test("a sign-in link signs in and leaves no token in the address bar", async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const p = await newPage(ctx);
    await p.goto(`${weir.url}/ui/#token=${encodeURIComponent(weir.token)}`);
    await p.getByRole("heading", { name: "Overview" }).waitFor();
    assert.equal(new URL(p.url()).hash, "");
    assert.ok(!p.url().includes(weir.token));
    assert.equal(await p.evaluate(() => sessionStorage.getItem("weir.token")), weir.token);
    await ctx.close();
  });

  test("create a topic from the Topics page", async () => {
    await page.getByRole("link", { name: "Topics" }).first().click();
    await page.getByRole("heading", { name: "Topics" }).waitFor();
    await page.getByText("No topics yet").waitFor();
    await shot("02-topics-empty");
    await page.locator('input[name="topic-name"]').fill("orders");
    await page.locator('input[name="topic-partitions"]').fill("3");
    await page.getByRole("button", { name: "Create topic" }).click();
    await page.getByRole("heading", { name: "orders" }).waitFor();
    const described = await rest<{ partitions: unknown[] }>(weir, "GET", "/v1/tenants/default/topics/orders");
    assert.equal(described.status, 200);
    assert.equal(described.body.partitions.length, 3);
    // The same name again: the API's refusal, in plain words with its code.
    await go("/ui/topics");
    await page.locator('input[name="topic-name"]').fill("orders");
    await page.getByRole("button", { name: "Create topic" }).click();
    const err = page.getByRole("alert").filter({ hasText: "TOPIC_ALREADY_EXISTS" });
    await err.waitFor();
    assert.match(await err.innerText(), /already exists/);
    await page.locator('tr[data-topic="orders"]').waitFor();
    await shot("03-topics");
  });

  test("produce from the form: JSON is checked, the offset is shown, the record is stored", async () => {
    await go("/ui/topics/orders/produce");
    await page.locator('input[name="produce-key"]').fill("user-1");
    await page.locator('textarea[name="produce-value"]').fill('{"item": "book", ');
    await page.getByText("The value is not valid JSON").waitFor();
    assert.equal(await page.getByRole("button", { name: "Produce" }).isDisabled(), true);
    await page.locator('textarea[name="produce-value"]').fill('{"item": "book", "qty": 2, "tags": ["a", "b"]}');
    await page.getByText("Valid JSON.").waitFor();
    await page.getByLabel("Header 1 name").fill("source");
    await page.getByLabel("Header 1 value").fill("web");
    await page.getByRole("button", { name: "Produce" }).click();
    const result = page.getByTestId("produce-result");
    await result.waitFor();
    const m = /partition (\d+) at offset (\d+)/.exec(await result.innerText());
    assert.ok(m, await result.innerText());
    const [p, o] = [Number(m[1]), Number(m[2])];
    assert.equal(o, 0);
    await shot("04-produce");
    const fetched = await rest<{ records: { key: string; value: unknown; headers: Record<string, string> }[] }>(
      weir,
      "GET",
      `/v1/tenants/default/topics/orders/partitions/${p}/records?offset=${o}&max_records=1`,
    );
    assert.deepEqual(fetched.body.records[0]!.value, { item: "book", qty: 2, tags: ["a", "b"] });
    assert.equal(fetched.body.records[0]!.key, "user-1");
    assert.deepEqual(fetched.body.records[0]!.headers, { source: "web" });
  });

  test("the message browser shows the record, pretty JSON, pages across partitions and exports", async () => {
    // More records on every partition, so paging has something to cross.
    // (Server timestamps: they never go down, so back and forth see the very same pages.)
    const records = Array.from({ length: 12 }, (_, i) => ({ key: `k-${i}`, value: { n: i }, partition: i % 3 }));
    assert.equal((await rest(weir, "POST", "/v1/tenants/default/topics/orders/records", { records })).status, 200);
    // Opening the topic shows its newest page (all 13 records fit) without pressing a button.
    await go("/ui/topics/orders");
    const row = page.locator("table.records tbody tr", { hasText: "user-1" });
    await row.waitFor();
    await row.getByRole("button").first().click();
    await page.locator(".record-detail .j-key", { hasText: '"item"' }).waitFor();
    await page.locator(".record-detail ul.headers code", { hasText: "source" }).waitFor();
    await shot("05-browser-record");
    // 13 records, 10 a page from the oldest: forward 10 then 3, then back to the same first page.
    await page.getByLabel("Start at").selectOption("oldest");
    const perPage = page.getByLabel("Per page");
    await perPage.selectOption("10");
    await page.getByRole("button", { name: "Show records" }).click();
    await page.getByTestId("page-range").filter({ hasText: "10 shown" }).waitFor();
    const firstIds = await page.locator("table.records tbody tr[data-offset]").evaluateAll((rows) =>
      rows.map((r) => `${r.getAttribute("data-partition")}:${r.getAttribute("data-offset")}`),
    );
    await page.getByRole("button", { name: "Next →" }).click();
    await page.getByTestId("page-range").filter({ hasText: "3 shown" }).waitFor();
    assert.equal(await page.getByRole("button", { name: "Next →" }).isDisabled(), true);
    await page.getByRole("button", { name: "← Previous" }).click();
    await page.getByTestId("page-range").filter({ hasText: "10 shown" }).waitFor();
    const backIds = await page.locator("table.records tbody tr[data-offset]").evaluateAll((rows) =>
      rows.map((r) => `${r.getAttribute("data-partition")}:${r.getAttribute("data-offset")}`),
    );
    assert.deepEqual(backIds, firstIds, "back returns exactly the first page");
    assert.equal(new Set(firstIds.map((x) => x.split(":")[0])).size, 3, "the page mixes all partitions");
    // Filter by key: only the matching record.
    await page.locator('input[name="filter-key"]').fill("k-7");
    await page.getByRole("button", { name: "Show records" }).click();
    await page.getByTestId("page-range").filter({ hasText: "1 shown of 13 read" }).waitFor();
    await shot("06-browser-filtered");
    const download = page.waitForEvent("download");
    await page.getByRole("button", { name: /Export JSON/ }).click();
    const file = await (await download).path();
    const exported = JSON.parse(readFileSync(file, "utf8"));
    assert.deepEqual(exported.map((r: { key: string; value: unknown }) => [r.key, r.value]), [["k-7", { n: 7 }]]);
    // Bytes that are neither JSON nor UTF-8: a hex dump, or base64.
    await rest(weir, "POST", "/v1/tenants/default/topics/orders/records", { records: [{ key: "bin-1", value_b64: "AP8QIA==" }] });
    await page.locator('input[name="filter-key"]').fill("bin-1");
    await page.getByRole("button", { name: "Show records" }).click();
    const bin = page.locator("table.records tbody tr", { hasText: "bin-1" });
    await bin.getByRole("button").first().click();
    await page.locator(".record-detail pre.value", { hasText: "00 ff 10 20" }).waitFor();
    await page.locator(".record-detail").getByRole("button", { name: "Base64" }).click();
    assert.equal(await page.locator(".record-detail pre.value").innerText(), "AP8QIA==");
    await shot("06b-browser-binary");
  });

  test("opening a topic shows its newest records at once; one of a thing reads singular", async () => {
    const topic = "single";
    const path = `/v1/tenants/default/topics/${topic}`;
    assert.equal((await rest(weir, "POST", "/v1/tenants/default/topics", { name: topic, partitions: 1 })).status, 201);
    assert.equal((await rest(weir, "POST", `${path}/records`, { records: [{ key: "only", value: { n: 0 } }] })).status, 200);
    await go(`/ui/topics/${topic}`);
    // Nothing pressed: the record is there.
    const only = page.locator("table.records tbody tr", { hasText: "only" });
    await only.waitFor();
    await page.getByTestId("page-range").filter({ hasText: "1 shown" }).waitFor();
    const summary = page.getByTestId("topic-summary");
    await summary.filter({ hasText: /^1 partition · 1 record · / }).waitFor();
    assert.doesNotMatch(await summary.innerText(), /\b1 (partitions|records)\b/);
    await only.getByRole("button").first().click();
    const count = page.locator(".record-detail .j-count").first();
    assert.equal((await count.innerText()).trim(), "1 key }");
    await shot("06c-browser-opened");
    // 26 records: the newest 20 (offsets 6 to 25), oldest first; Previous goes back to the rest.
    const records = Array.from({ length: 25 }, (_, i) => ({ key: `more-${i + 1}`, value: { n: i + 1 } }));
    assert.equal((await rest(weir, "POST", `${path}/records`, { records })).status, 200);
    await go(`/ui/topics/${topic}`);
    await page.getByTestId("page-range").filter({ hasText: "20 shown" }).waitFor();
    const offsets = () =>
      page.locator("table.records tbody tr[data-offset]").evaluateAll((rows) => rows.map((r) => Number(r.getAttribute("data-offset"))));
    assert.deepEqual(await offsets(), Array.from({ length: 20 }, (_, i) => i + 6));
    assert.equal(await page.getByRole("button", { name: "Next →" }).isDisabled(), true);
    await page.getByRole("button", { name: "← Previous" }).click();
    await page.getByTestId("page-range").filter({ hasText: "6 shown" }).waitFor();
    assert.deepEqual(await offsets(), [0, 1, 2, 3, 4, 5]);
  });

  test("a value with control characters is never shown raw, whether it comes as string or binary", async () => {
    // "hi", SOH, ESC [31m (a terminal colour), "red", DEL: valid UTF-8 but not text to print.
    const value = Buffer.from("hi\u0001\u001b[31mred\u007f", "latin1");
    const sent = await rest(weir, "POST", "/v1/tenants/default/topics/single/records", { records: [{ key: "ctl-1", value_b64: value.toString("base64") }] });
    assert.equal(sent.status, 200);
    const RAW = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
    await go("/ui/topics/single");
    const row = page.locator("table.records tbody tr", { hasText: "ctl-1" });
    await row.waitFor();
    const preview = await row.locator("td.preview").innerText();
    assert.doesNotMatch(preview, RAW, JSON.stringify(preview));
    await row.getByRole("button").first().click();
    const detail = page.locator(".record-detail");
    const pre = detail.locator("pre.value");
    await pre.waitFor();
    assert.doesNotMatch(await detail.innerText(), RAW);
    const format = (await row.locator(".fmt").innerText()).trim();
    if (format === "string") {
      // Text: escaped, and its bytes one click away.
      assert.match(preview, /hi\\u0001\\u001b\[31mred\\u007f/);
      assert.equal(await pre.innerText(), "hi\\u0001\\u001b[31mred\\u007f");
      await detail.getByTestId("control-note").filter({ hasText: "3 control characters" }).waitFor();
      await detail.getByRole("button", { name: "Hex" }).click();
    } else {
      // The server sends such bytes as binary: a hex dump.
      assert.equal(format, "binary");
      assert.match(preview, /‹12 bytes› 68 69 01 1b 5b 33 31 6d/);
    }
    await pre.filter({ hasText: "68 69 01 1b 5b 33 31 6d  72 65 64" }).waitFor();
    await detail.getByRole("button", { name: "Base64" }).click();
    assert.equal(await pre.innerText(), value.toString("base64"));
    await shot("06d-browser-control-characters");
  });

  test("the live tail shows a record produced by REST, and pause/resume misses nothing", async () => {
    await go("/ui/topics/orders/tail");
    await page.getByTestId("tail-status").filter({ hasText: "live" }).waitFor();
    await rest(weir, "POST", "/v1/tenants/default/topics/orders/records", { records: [{ key: "tail-1", value: { live: true } }] });
    await page.locator("table.tail-records tbody tr", { hasText: "tail-1" }).waitFor();
    await page.getByRole("button", { name: "Pause" }).click();
    await page.getByTestId("tail-status").filter({ hasText: "paused" }).waitFor();
    await rest(weir, "POST", "/v1/tenants/default/topics/orders/records", { records: [{ key: "tail-2", value: "while paused" }] });
    await page.waitForTimeout(500);
    assert.equal(await page.locator("table.tail-records tbody tr", { hasText: "tail-2" }).count(), 0);
    await page.getByRole("button", { name: "Resume" }).click();
    await page.locator("table.tail-records tbody tr", { hasText: "tail-2" }).waitFor();
    await shot("07-live-tail");
    // Two streams (before and after the pause), each authenticated by header, never by URL.
    const streams = requests.filter((r) => r.url.includes("records:stream"));
    assert.ok(streams.length >= 2, JSON.stringify(streams));
    for (const r of streams) {
      assert.equal(r.auth, `Bearer ${weir.token}`);
      assert.ok(!r.url.includes(weir.token) && !r.url.includes("token="), `no credential in ${r.url}`);
    }
  });

  test("a consumer group's lag, and an offset reset previewed then applied", async () => {
    const topic = (await rest<{ partitions: { partition: number; high_watermark: number }[] }>(weir, "GET", "/v1/tenants/default/topics/orders")).body;
    const offsets = topic.partitions.map((p) => ({ topic: "orders", partition: p.partition, offset: 1 }));
    assert.equal((await rest(weir, "POST", "/v1/tenants/default/groups/billing/offsets", { offsets })).status, 204);
    const expected = topic.partitions.reduce((a, p) => a + p.high_watermark - 1, 0);
    assert.ok(expected > 0);
    await page.getByRole("link", { name: "Consumer groups" }).click();
    const row = page.locator('tr[data-group="billing"]');
    await row.waitFor();
    assert.equal(await row.getByTestId("group-lag").innerText(), String(expected));
    await shot("08-groups");
    await row.getByRole("link", { name: "billing" }).click();
    await page.getByTestId("total-lag").filter({ hasText: String(expected) }).waitFor();
    for (const p of topic.partitions) {
      const cell = page.locator(`tr[data-topic="orders"][data-partition="${p.partition}"]`).getByTestId("partition-lag");
      assert.equal(await cell.innerText(), String(p.high_watermark - 1));
    }
    await page.getByLabel("Move to").selectOption("earliest");
    await page.getByRole("button", { name: "Preview (dry run)" }).click();
    await page.getByText("Preview: nothing was written.").waitFor();
    let committed = await rest<{ offsets: { offset: number }[] }>(weir, "GET", "/v1/tenants/default/groups/billing/offsets");
    assert.ok(committed.body.offsets.every((o) => o.offset === 1), "a dry run changes nothing");
    await shot("09-group-detail");
    await page.getByRole("button", { name: "Apply reset" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Apply reset" }).click();
    await page.getByText("Applied.").waitFor();
    committed = await rest(weir, "GET", "/v1/tenants/default/groups/billing/offsets");
    assert.ok(committed.body.offsets.every((o) => o.offset === 0), JSON.stringify(committed.body));
    await page.getByTestId("total-lag").filter({ hasText: String(expected + topic.partitions.length) }).waitFor();
  });

  test("a group that committed nothing has an unknown total lag, not 0; a partial one says over how many", async () => {
    const topic = (await rest<{ partitions: { partition: number; high_watermark: number }[] }>(weir, "GET", "/v1/tenants/default/topics/orders")).body;
    // A member joins (a REST group fetch) and commits nothing.
    const joined = await rest(weir, "POST", "/v1/tenants/default/groups/fresh/fetch", { topics: ["orders"], wait_ms: 0, max_records: 1 });
    assert.equal(joined.status, 200, JSON.stringify(joined.body));
    await go("/ui/groups/fresh");
    await page.getByTestId("total-lag").waitFor();
    assert.equal(await page.getByTestId("total-lag").innerText(), "—");
    assert.equal(await page.getByTestId("total-lag-note").innerText(), "nothing committed yet");
    const cells = page.getByTestId("partition-lag");
    assert.equal(await cells.count(), topic.partitions.length);
    assert.deepEqual(await cells.allInnerTexts(), topic.partitions.map(() => "—"));
    await shot("09b-group-nothing-committed");
    // Partition 0 committed (before any member), then a member subscribes to all of orders.
    const p0 = topic.partitions.find((p) => p.partition === 0)!;
    const offsets = [{ topic: "orders", partition: 0, offset: 0 }];
    assert.equal((await rest(weir, "POST", "/v1/tenants/default/groups/partial/offsets", { offsets })).status, 204);
    assert.equal((await rest(weir, "POST", "/v1/tenants/default/groups/partial/fetch", { topics: ["orders"], wait_ms: 0, max_records: 1 })).status, 200);
    await go("/ui/groups/partial");
    await page.getByTestId("total-lag").filter({ hasText: String(p0.high_watermark) }).waitFor();
    assert.equal(await page.getByTestId("total-lag-note").innerText(), `1 of ${topic.partitions.length} partitions committed`);
  });

  test("create an API key (shown once, and it works), then revoke it (and it stops working)", async () => {
    await page.getByRole("link", { name: "Tenant" }).click();
    await page.getByRole("heading", { name: "Tenant default" }).waitFor();
    await page.locator('input[name="key-name"]').fill("ci-reader");
    await page.locator('input[name="key-scopes"]').fill("topics:read");
    await page.getByRole("button", { name: "Create key" }).click();
    const secret = (await page.getByTestId("new-key-secret").innerText()).trim();
    assert.match(secret, /^weir_[0-9a-f]{16}_[0-9a-f]{64}$/);
    assert.equal((await rest(weir, "GET", "/v1/tenants/default/topics", undefined, secret)).status, 200);
    assert.equal((await rest(weir, "POST", "/v1/tenants/default/topics", { name: "nope" }, secret)).status, 403);
    await shot("10-tenant-key-created");
    await page.getByRole("button", { name: "Done, hide it" }).click();
    assert.equal(await page.getByText(secret).count(), 0, "the secret is gone once hidden");
    const keyRow = page.locator('tr[data-key-name="ci-reader"]');
    await keyRow.getByRole("button", { name: "Revoke key ci-reader" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Revoke key" }).click();
    await keyRow.getByTestId("key-state").filter({ hasText: "revoked" }).waitFor();
    assert.equal((await rest(weir, "GET", "/v1/tenants/default/topics", undefined, secret)).status, 401);
    await page.locator('tr[data-quota="topics"]').waitFor();
    await page.locator('tr[data-tenant="default"]').waitFor();
    await shot("11-tenant");
  });

  test("topic settings: change retention, add partitions (confirmed), delete (typed confirmation)", async () => {
    await go("/ui/topics/orders/settings");
    await page.locator('input[name="config-retention_ms"]').fill("3600000");
    await page.getByRole("button", { name: "Save settings" }).click();
    await page.getByText("Settings saved.").waitFor();
    await page.locator('input[name="partition-count"]').fill("4");
    await page.getByRole("button", { name: "Add partitions" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Add partitions" }).click();
    await page.getByText("Now 4 partitions.").waitFor();
    const d = await rest<{ partitions: unknown[]; config: { retention_ms: number } }>(weir, "GET", "/v1/tenants/default/topics/orders");
    assert.equal(d.body.partitions.length, 4);
    assert.equal(d.body.config.retention_ms, 3_600_000);
    await page.locator("details.copy-as summary").first().click();
    await page.getByRole("button", { name: "Python" }).click();
    assert.match(await page.locator("pre.snippet").first().innerText(), /WEIR_TOKEN/);
    await shot("12-topic-settings");
    await rest(weir, "POST", "/v1/tenants/default/topics", { name: "scratch" });
    await go("/ui/topics");
    await page.getByRole("button", { name: "Delete topic scratch" }).click();
    const dialog = page.getByRole("dialog");
    assert.equal(await dialog.getByRole("button", { name: "Delete topic" }).isDisabled(), true);
    await dialog.getByRole("textbox").fill("scratch");
    await dialog.getByRole("button", { name: "Delete topic" }).click();
    await page.locator('tr[data-topic="scratch"]').waitFor({ state: "detached" });
    assert.equal((await rest(weir, "GET", "/v1/tenants/default/topics/scratch")).status, 404);
  });

  test("narrow window, dark mode and keyboard", async () => {
    await go("/ui/");
    await page.getByLabel("Colour scheme").selectOption("dark");
    // The dark palette's background (the light one is rgb(246, 247, 249)).
    await page.waitForFunction(() => getComputedStyle(document.body).backgroundColor === "rgb(17, 20, 24)");
    await page.getByTestId("node-status").filter({ hasText: "ready" }).waitFor();
    // The throughput charts: records produced now show up as a rate from /metrics.
    await page.locator(".chart polyline").first().waitFor({ state: "attached" });
    const records = Array.from({ length: 20 }, (_, i) => ({ value: { burst: i } }));
    await rest(weir, "POST", "/v1/tenants/default/topics/orders/records", { records });
    const recordsIn = page.locator("figure.chart", { hasText: "Records in" });
    await recordsIn.locator(".chart-foot").filter({ hasNotText: "max 0/s" }).waitFor();
    await shot("13-overview-dark");
    await page.setViewportSize({ width: 390, height: 800 });
    await go("/ui/topics");
    await page.locator('tr[data-topic="orders"]').waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `the page does not scroll sideways at 390 px (by ${overflow} px)`);
    await page.getByRole("button", { name: "Menu" }).click();
    await page.getByRole("link", { name: "Consumer groups" }).waitFor();
    await shot("14-topics-narrow-dark");
    await page.getByLabel("Colour scheme").selectOption("light");
    await page.setViewportSize({ width: 1280, height: 860 });
    // Keyboard: Tab from the top reaches the skip link, then the navigation.
    await go("/ui/");
    await page.getByRole("heading", { name: "Overview" }).waitFor();
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Skip to content");
    await page.keyboard.press("Tab");
    await page.keyboard.press("Tab");
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Topics");
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Topics" }).waitFor();
    await shot("15-topics-by-keyboard");
  });

  test("no console errors, failed requests or requests to other origins", () => {
    assert.deepEqual(problems, []);
  });
});
