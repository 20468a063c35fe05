// Paging through the records of one or more partitions, forward and backward, with filters.
//
// A page is, for each partition, a contiguous range of offsets [start, end). The records of
// all chosen partitions are merged by timestamp: forward, the head with the smallest
// (timestamp, partition) goes first; backward, the tail with the largest goes first. Each
// partition's records stay in offset order, so paging forward from a page's `end` and back
// from its `start` visits every record exactly once in each direction, and with timestamps
// that do not go down within a partition the two directions see the same pages.
//
// A filter does not change which records are visited, only which are shown: a page stops
// after `limit` matching records or `scanMax` visited ones, whichever comes first.
//
// Pure logic over a `Source` (the REST fetch in the app, an in-memory log in the tests).

import type { Rec } from "./types.ts";

/** Partition → offset. */
export type Cursors = Record<number, number>;

export interface Bounds {
  logStart: number;
  highWatermark: number;
}

export interface Window {
  /** Records at or after the offset asked for, in offset order. */
  records: Rec[];
  /** Offset to read next. */
  next: number;
  bounds: Bounds;
}

export interface Source {
  /** At most `max` records of `partition` from `offset` on (no waiting). */
  read(partition: number, offset: number, max: number): Promise<Window>;
  /** First offset whose timestamp is at or after `timestamp` (the high watermark if none). */
  locate(partition: number, timestamp: number): Promise<number>;
}

export interface PageOptions {
  /** Records shown per page. */
  limit: number;
  /** Which records to show; all when absent. */
  match?: (r: Rec) => boolean;
  /** Most records looked at for one page (bounds the work a rare filter causes). */
  scanMax?: number;
  /** Records asked for per read. */
  chunk?: number;
}

export interface Page {
  /** Shown records, oldest first in merge order. */
  records: Rec[];
  start: Cursors;
  end: Cursors;
  bounds: Record<number, Bounds>;
  /** Records looked at (matching or not). */
  scanned: number;
  hasPrev: boolean;
  hasNext: boolean;
  /** The scan budget ran out before `limit` records matched. */
  truncated: boolean;
}

export type Start =
  | { kind: "oldest" }
  | { kind: "newest" }
  | { kind: "offset"; offset: number }
  | { kind: "timestamp"; timestamp: number };

/** Default scan budget for a filtered page, in pages' worth of records. */
const SCAN_PAGES_MAX = 50;

function scanBudget(o: PageOptions): number {
  return o.scanMax ?? (o.match ? o.limit * SCAN_PAGES_MAX : o.limit);
}

function chunkOf(o: PageOptions): number {
  return Math.max(1, Math.min(o.chunk ?? o.limit, 1000));
}

function finish(
  records: Rec[],
  start: Cursors,
  end: Cursors,
  bounds: Record<number, Bounds>,
  scanned: number,
  truncated: boolean,
): Page {
  const ps = Object.keys(start).map(Number);
  return {
    records,
    start,
    end,
    bounds,
    scanned,
    truncated,
    hasPrev: ps.some((p) => start[p]! > bounds[p]!.logStart),
    hasNext: ps.some((p) => end[p]! < bounds[p]!.highWatermark),
  };
}

function clamp(offset: number, b: Bounds): number {
  return Math.min(Math.max(offset, b.logStart), b.highWatermark);
}

/** The page that begins at `from` (per partition) and goes forward. */
export async function pageForward(
  source: Source,
  from: Cursors,
  bounds: Record<number, Bounds>,
  opts: PageOptions,
): Promise<Page> {
  const ps = Object.keys(from).map(Number).sort((a, b) => a - b);
  const b: Record<number, Bounds> = { ...bounds };
  const start: Cursors = {};
  const end: Cursors = {};
  const pos: Cursors = {};
  const buf: Record<number, Rec[]> = {};
  const done: Record<number, boolean> = {};
  for (const p of ps) {
    start[p] = clamp(from[p]!, b[p]!);
    end[p] = start[p]!;
    pos[p] = start[p]!;
    buf[p] = [];
    done[p] = pos[p]! >= b[p]!.highWatermark;
  }
  const chunk = chunkOf(opts);
  const budget = scanBudget(opts);
  const shown: Rec[] = [];
  let scanned = 0;
  for (;;) {
    if (shown.length >= opts.limit || scanned >= budget) break;
    const empty = ps.filter((p) => buf[p]!.length === 0 && !done[p]);
    if (empty.length > 0) {
      await Promise.all(
        empty.map(async (p) => {
          const w = await source.read(p, pos[p]!, chunk);
          b[p] = w.bounds;
          const got = w.records.filter((r) => r.offset >= pos[p]!);
          const progressed = w.next > pos[p]!;
          buf[p] = got;
          pos[p] = Math.max(w.next, pos[p]!);
          if (got.length === 0 && (!progressed || pos[p]! >= w.bounds.highWatermark)) done[p] = true;
        }),
      );
      continue;
    }
    let pick = -1;
    for (const p of ps) {
      const head = buf[p]![0];
      if (!head) continue;
      if (pick < 0 || head.timestamp < buf[pick]![0]!.timestamp) pick = p;
    }
    if (pick < 0) break;
    const r = buf[pick]!.shift()!;
    scanned++;
    end[pick] = r.offset + 1;
    if (!opts.match || opts.match(r)) shown.push(r);
  }
  const truncated = shown.length < opts.limit && scanned >= budget && !!opts.match;
  return finish(shown, start, end, b, scanned, truncated);
}

/** Reads [from, to) of a partition whole (a read may stop early at its byte limit). */
async function readRange(source: Source, p: number, from: number, to: number): Promise<Window> {
  const out: Rec[] = [];
  let cur = from;
  let last: Window | undefined;
  while (cur < to) {
    const w = await source.read(p, cur, to - cur);
    last = w;
    const got = w.records.filter((r) => r.offset >= cur && r.offset < to);
    out.push(...got);
    if (got.length === 0 || w.next <= cur) break;
    cur = w.next;
  }
  return { records: out, next: cur, bounds: last?.bounds ?? { logStart: from, highWatermark: to } };
}

/** The page that ends just before `to` (per partition), read backward. */
export async function pageBackward(
  source: Source,
  to: Cursors,
  bounds: Record<number, Bounds>,
  opts: PageOptions,
): Promise<Page> {
  const ps = Object.keys(to).map(Number).sort((a, b) => a - b);
  const b: Record<number, Bounds> = { ...bounds };
  const start: Cursors = {};
  const end: Cursors = {};
  const low: Cursors = {};
  const buf: Record<number, Rec[]> = {};
  const done: Record<number, boolean> = {};
  for (const p of ps) {
    end[p] = clamp(to[p]!, b[p]!);
    start[p] = end[p]!;
    low[p] = end[p]!;
    buf[p] = [];
    done[p] = low[p]! <= b[p]!.logStart;
  }
  const chunk = chunkOf(opts);
  const budget = scanBudget(opts);
  const shown: Rec[] = [];
  let scanned = 0;
  for (;;) {
    if (shown.length >= opts.limit || scanned >= budget) break;
    const empty = ps.filter((p) => buf[p]!.length === 0 && !done[p]);
    if (empty.length > 0) {
      await Promise.all(
        empty.map(async (p) => {
          const from = Math.max(b[p]!.logStart, low[p]! - chunk);
          const w = await readRange(source, p, from, low[p]!);
          b[p] = { logStart: w.bounds.logStart, highWatermark: Math.max(w.bounds.highWatermark, end[p]!) };
          buf[p] = w.records;
          low[p] = from;
          if (from <= b[p]!.logStart || w.records.length === 0) done[p] = true;
        }),
      );
      continue;
    }
    let pick = -1;
    for (const p of ps) {
      const tail = buf[p]![buf[p]!.length - 1];
      if (!tail) continue;
      const best = pick < 0 ? undefined : buf[pick]![buf[pick]!.length - 1]!;
      // Ties go to the higher partition: the mirror of forward's "lower partition first".
      if (!best || tail.timestamp >= best.timestamp) pick = p;
    }
    if (pick < 0) break;
    const r = buf[pick]!.pop()!;
    scanned++;
    start[pick] = r.offset;
    if (!opts.match || opts.match(r)) shown.push(r);
  }
  shown.reverse();
  const truncated = shown.length < opts.limit && scanned >= budget && !!opts.match;
  return finish(shown, start, end, b, scanned, truncated);
}

/** The first page for a start position. */
export async function firstPage(
  source: Source,
  start: Start,
  bounds: Record<number, Bounds>,
  opts: PageOptions,
): Promise<Page> {
  const ps = Object.keys(bounds).map(Number);
  const cursors: Cursors = {};
  switch (start.kind) {
    case "oldest":
      for (const p of ps) cursors[p] = bounds[p]!.logStart;
      return pageForward(source, cursors, bounds, opts);
    case "newest":
      for (const p of ps) cursors[p] = bounds[p]!.highWatermark;
      return pageBackward(source, cursors, bounds, opts);
    case "offset":
      for (const p of ps) cursors[p] = start.offset;
      return pageForward(source, cursors, bounds, opts);
    case "timestamp":
      await Promise.all(
        ps.map(async (p) => {
          cursors[p] = await source.locate(p, start.timestamp);
        }),
      );
      return pageForward(source, cursors, bounds, opts);
  }
}

/** "p0 10–19 · p1 5–9" (inclusive offsets; empty ranges left out). */
export function describeRange(page: Page): string {
  const parts = Object.keys(page.start)
    .map(Number)
    .sort((a, b) => a - b)
    .filter((p) => page.end[p]! > page.start[p]!)
    .map((p) => `p${p} ${page.start[p]}–${page.end[p]! - 1}`);
  return parts.length ? parts.join(" · ") : "no records";
}
