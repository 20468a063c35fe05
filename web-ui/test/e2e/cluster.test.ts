// The Cluster page in chromium against a real three-node cluster (`weir dev cluster`, auth
// off): every node listed live with its addresses, one controller, a topic's six partitions
// led two by each node, and the topic's page showing each partition's leader.

import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { chromium, type Browser, type Page } from "playwright-core";
import { REPO, weirBinary } from "./server.ts";

const SHOTS = join(REPO, "web-ui/test-results/screenshots");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const TIMEOUT_MS = 30_000;

let dev: ChildProcess;
let dir: string;
let urls: string[] = [];
let output = "";
let browser: Browser;
let page: Page;
const problems: string[] = [];

async function startCluster(): Promise<void> {
  dir = mkdtempSync(join(tmpdir(), "weir-ui-cluster-"));
  dev = spawn(weirBinary(), ["dev", "cluster", "--nodes", "3", "--base-port", "0", "--auth", "none", "--dir", dir], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, WEIR_LOG: process.env.WEIR_LOG ?? "warn" },
  });
  dev.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  dev.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  await new Promise<void>((ok, fail) => {
    const deadline = setTimeout(() => fail(new Error(`the cluster did not start in 60 s:\n${output}`)), 60_000);
    const check = () => {
      urls = [...output.matchAll(/weir dev: node \d+: REST (http:\/\/127\.0\.0\.1:\d+)/g)].map((m) => m[1]!);
      if (urls.length === 3) {
        clearTimeout(deadline);
        ok();
      }
    };
    dev.stdout!.on("data", check);
    dev.on("exit", (code) => {
      clearTimeout(deadline);
      fail(new Error(`weir dev cluster exited (${code}):\n${output}`));
    });
  });
}

/** Waits until `url`'s `/v1/cluster` shows three live nodes and a controller. */
async function formed(url: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const v = (await (await fetch(`${url}/v1/cluster`)).json()) as {
        controller: number | null;
        nodes: { liveness: string }[];
      };
      if (v.controller !== null && v.nodes.length === 3 && v.nodes.every((n) => n.liveness === "live")) return;
    } catch {
      // Not listening yet.
    }
    assert.ok(Date.now() < deadline, `no cluster of three:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe("cluster console", { timeout: 300_000 }, () => {
  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    await startCluster();
    await formed(urls[0]!);
    const created = await fetch(`${urls[1]}/v1/tenants/default/topics`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "spread", partitions: 6 }),
    });
    assert.equal(created.status, 201, await created.text());
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    });
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    page = await context.newPage();
    page.setDefaultTimeout(TIMEOUT_MS);
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("response", (r) => {
      if (r.status() >= 500) problems.push(`server error: ${r.status()} ${r.url()}`);
    });
  });

  after(async () => {
    await browser?.close();
    if (dev?.exitCode === null && dev.pid) {
      const exited = new Promise((r) => dev.once("exit", r));
      process.kill(dev.pid, "SIGTERM");
      // The timer must not hold the test process open once the cluster is gone.
      await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000).unref())]);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  test("the Cluster page lists every node live, the controller, and the partitions each leads", async () => {
    await page.goto(`${urls[0]}/ui/cluster`);
    await page.getByRole("heading", { name: "Cluster" }).waitFor();
    const rows = page.locator("table.cluster-nodes tbody tr");
    await page.waitForFunction(() => {
      const cells = [...document.querySelectorAll("table.cluster-nodes tbody tr td:nth-child(7)")];
      return cells.length === 3 && cells.every((c) => c.textContent === "2");
    });
    assert.equal(await rows.count(), 3);
    for (let i = 0; i < 3; i++) {
      const row = rows.nth(i);
      assert.equal(await row.locator("td").nth(2).innerText(), "live");
      const rest = await row.locator("td").nth(3).innerText();
      assert.ok(urls.includes(`http://${rest}`), `${rest} is one of ${urls.join(", ")}`);
    }
    assert.equal(await page.locator("table.cluster-nodes .badge", { hasText: "controller" }).count(), 1);
    await page.screenshot({ path: join(SHOTS, "cluster.png"), fullPage: true });
  });

  test("a topic's page shows each partition's leader, the same from any node", async () => {
    const leadersFrom = async (url: string): Promise<string[]> => {
      await page.goto(`${url}/ui/topics/spread/partitions`);
      const cells = page.locator("table.partitions tbody tr td:nth-child(6)");
      await page.waitForFunction(() => document.querySelectorAll("table.partitions tbody tr").length === 6);
      return cells.allInnerTexts();
    };
    const first = await leadersFrom(urls[0]!);
    assert.deepEqual([...new Set(first)].sort(), ["1", "2", "3"]);
    assert.deepEqual(await leadersFrom(urls[2]!), first);
    await page.screenshot({ path: join(SHOTS, "cluster-topic-partitions.png"), fullPage: true });
  });

  test("no page errors or server errors", () => {
    assert.deepEqual(problems, []);
  });
});
