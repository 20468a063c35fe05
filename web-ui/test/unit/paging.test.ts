import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { describeRange, firstPage, pageBackward, pageForward, type Page } from "../../src/lib/paging.ts";
import type { Rec } from "../../src/lib/types.ts";
import { ids, MemLog, rng } from "./memlog.ts";

/** Walks forward from the oldest record to the end; returns every page. */
async function walkForward(log: MemLog, limit: number, match?: (r: Rec) => boolean): Promise<Page[]> {
  const pages: Page[] = [];
  let page = await firstPage(log, { kind: "oldest" }, log.bounds(), { limit, ...(match ? { match } : {}) });
  pages.push(page);
  let guard = 0;
  while (page.hasNext) {
    page = await pageForward(log, page.end, page.bounds, { limit, ...(match ? { match } : {}) });
    pages.push(page);
    assert.ok(++guard < 10_000, "paging forward must end");
  }
  return pages;
}

describe("paging across partitions", () => {
  test("one partition: pages of `limit` records in offset order, then back again", async () => {
    const log = MemLog.build([[1, 2, 3, 4, 5, 6, 7]]);
    const pages = await walkForward(log, 3);
    assert.deepEqual(pages.map((p) => ids(p.records)), [
      ["0:0", "0:1", "0:2"],
      ["0:3", "0:4", "0:5"],
      ["0:6"],
    ]);
    assert.equal(pages[0]!.hasPrev, false);
    assert.equal(pages[2]!.hasNext, false);
    const back = await pageBackward(log, pages[2]!.start, pages[2]!.bounds, { limit: 3 });
    assert.deepEqual(ids(back.records), ["0:3", "0:4", "0:5"]);
    assert.deepEqual(back.end, pages[1]!.end);
    assert.deepEqual(back.start, pages[1]!.start);
  });

  test("merges partitions by timestamp, ties to the lower partition", async () => {
    const log = MemLog.build([
      [10, 20, 30],
      [10, 15, 40],
    ]);
    const page = await firstPage(log, { kind: "oldest" }, log.bounds(), { limit: 10 });
    assert.deepEqual(ids(page.records), ["0:0", "1:0", "1:1", "0:1", "0:2", "1:2"]);
  });

  test("the newest page (what opening a topic shows) reads no empty partition and ends the log", async () => {
    const log = new MemLog(MemLog.build([[1, 2, 3], [], [4, 5], [6]]).parts, [0, 0, 0, 1]);
    const page = await firstPage(log, { kind: "newest" }, log.bounds(), { limit: 20 });
    assert.deepEqual(ids(page.records), ["0:0", "0:1", "0:2", "2:0", "2:1"]);
    assert.equal(log.reads, 2, "partition 1 is empty and partition 3 holds nothing past its log start");
    assert.equal(page.hasNext, false);
    assert.equal(page.hasPrev, false);
  });

  test("newest shows the last `limit` records in merge order; previous pages go back to the start", async () => {
    const log = MemLog.build([
      [1, 3, 5, 7, 9],
      [2, 4, 6, 8, 10],
    ]);
    const last = await firstPage(log, { kind: "newest" }, log.bounds(), { limit: 4 });
    assert.deepEqual(ids(last.records), ["0:3", "1:3", "0:4", "1:4"]);
    assert.equal(last.hasNext, false);
    assert.equal(last.hasPrev, true);
    const before = await pageBackward(log, last.start, last.bounds, { limit: 4 });
    assert.deepEqual(ids(before.records), ["0:1", "1:1", "0:2", "1:2"]);
    const first = await pageBackward(log, before.start, before.bounds, { limit: 4 });
    assert.deepEqual(ids(first.records), ["0:0", "1:0"]);
    assert.equal(first.hasPrev, false);
    // And forward again from there lands on the same pages.
    const again = await pageForward(log, first.end, first.bounds, { limit: 4 });
    assert.deepEqual(ids(again.records), ids(before.records));
  });

  test("forward then backward visits the same pages (property, monotonic timestamps)", async () => {
    for (let seed = 1; seed <= 40; seed++) {
      const r = rng(seed);
      const parts = 1 + Math.floor(r() * 4);
      const ts = Array.from({ length: parts }, () => {
        let t = 0;
        return Array.from({ length: Math.floor(r() * 25) }, () => (t += Math.floor(r() * 3)));
      });
      const log = MemLog.build(ts);
      const limit = 1 + Math.floor(r() * 6);
      const pages = await walkForward(log, limit);
      const forward = pages.flatMap((p) => ids(p.records));
      const total = ts.reduce((a, x) => a + x.length, 0);
      assert.equal(forward.length, total, `seed ${seed}: every record once`);
      assert.equal(new Set(forward).size, total, `seed ${seed}: no record twice`);
      // Walk back from the end: the same pages in reverse.
      let page = pages[pages.length - 1]!;
      for (let i = pages.length - 2; i >= 0; i--) {
        page = await pageBackward(log, page.start, page.bounds, { limit });
        if (page.records.length === 0) break;
        assert.deepEqual(ids(page.records), ids(pages[i]!.records), `seed ${seed}: page ${i} backward`);
      }
    }
  });

  test("with timestamps going down inside a partition, each direction still visits every record once", async () => {
    for (let seed = 100; seed < 130; seed++) {
      const r = rng(seed);
      const ts = Array.from({ length: 3 }, () => Array.from({ length: Math.floor(r() * 20) }, () => Math.floor(r() * 50)));
      const log = MemLog.build(ts);
      const total = ts.reduce((a, x) => a + x.length, 0);
      const forward = (await walkForward(log, 4)).flatMap((p) => ids(p.records));
      assert.equal(new Set(forward).size, total, `seed ${seed}`);
      assert.equal(forward.length, total, `seed ${seed}`);
      const backward: string[] = [];
      let page = await firstPage(log, { kind: "newest" }, log.bounds(), { limit: 4 });
      backward.push(...ids(page.records));
      while (page.hasPrev) {
        page = await pageBackward(log, page.start, page.bounds, { limit: 4 });
        backward.push(...ids(page.records));
      }
      assert.equal(backward.length, total, `seed ${seed}`);
      assert.deepEqual(new Set(backward), new Set(forward), `seed ${seed}`);
      // Within a partition, records keep offset order in both walks.
      for (let p = 0; p < 3; p++) {
        const fw = forward.filter((x) => x.startsWith(`${p}:`)).map((x) => Number(x.split(":")[1]));
        assert.deepEqual(fw, [...fw].sort((a, b) => a - b));
      }
    }
  });

  test("a filter shows only matches, keeps scanning past non-matching records, and stops at its budget", async () => {
    const log = MemLog.build([Array.from({ length: 100 }, (_, i) => i)], (_p, o) => ({ even: o % 2 === 0 }));
    const match = (r: Rec) => (r.value as { even: boolean }).even;
    const page = await firstPage(log, { kind: "oldest" }, log.bounds(), { limit: 5, match });
    assert.deepEqual(ids(page.records), ["0:0", "0:2", "0:4", "0:6", "0:8"]);
    assert.equal(page.scanned, 9);
    assert.equal(page.end[0], 9);
    const next = await pageForward(log, page.end, page.bounds, { limit: 5, match });
    assert.deepEqual(ids(next.records), ["0:10", "0:12", "0:14", "0:16", "0:18"]);
    const rare = await firstPage(log, { kind: "oldest" }, log.bounds(), { limit: 5, match: (r) => r.offset === 99, scanMax: 30 });
    assert.equal(rare.records.length, 0);
    assert.equal(rare.truncated, true);
    assert.equal(rare.scanned, 30);
    assert.equal(rare.hasNext, true);
    const found = await pageForward(log, rare.end, rare.bounds, { limit: 5, match: (r) => r.offset === 99, scanMax: 100 });
    assert.deepEqual(ids(found.records), ["0:99"]);
    assert.equal(found.truncated, false);
  });

  test("backward reads survive short reads (byte limits) and respect the log start", async () => {
    const base = MemLog.build([Array.from({ length: 30 }, (_, i) => i)]);
    const log = new MemLog(base.parts, [7], 3);
    const page = await firstPage(log, { kind: "newest" }, log.bounds(), { limit: 10 });
    assert.deepEqual(ids(page.records), Array.from({ length: 10 }, (_, i) => `0:${20 + i}`));
    const prev = await pageBackward(log, page.start, page.bounds, { limit: 10 });
    assert.deepEqual(ids(prev.records), Array.from({ length: 10 }, (_, i) => `0:${10 + i}`));
    const first = await pageBackward(log, prev.start, prev.bounds, { limit: 10 });
    assert.deepEqual(ids(first.records), ["0:7", "0:8", "0:9"]);
    assert.equal(first.hasPrev, false);
  });

  test("start at an offset (clamped to the log) or at a timestamp", async () => {
    const log = MemLog.build([
      [100, 200, 300, 400],
      [150, 250, 350],
    ]);
    const at = await firstPage(log, { kind: "offset", offset: 2 }, log.bounds(), { limit: 10 });
    assert.deepEqual(ids(at.records), ["0:2", "1:2", "0:3"]);
    const past = await firstPage(log, { kind: "offset", offset: 99 }, log.bounds(), { limit: 10 });
    assert.deepEqual(ids(past.records), []);
    assert.equal(past.hasNext, false);
    assert.equal(past.hasPrev, true);
    const t = await firstPage(log, { kind: "timestamp", timestamp: 240 }, log.bounds(), { limit: 2 });
    assert.deepEqual(ids(t.records), ["1:1", "0:2"]);
    assert.equal(describeRange(t), "p0 2–2 · p1 1–1");
  });

  test("an empty topic has one empty page and nowhere to go", async () => {
    const log = MemLog.build([[], []]);
    for (const kind of ["oldest", "newest"] as const) {
      const p = await firstPage(log, { kind }, log.bounds(), { limit: 5 });
      assert.deepEqual(p.records, []);
      assert.equal(p.hasNext, false);
      assert.equal(p.hasPrev, false);
      assert.equal(describeRange(p), "no records");
    }
  });
});
