// An in-memory partitioned log with the REST fetch's semantics (records at or after the
// offset, at most max, next offset, log start and high watermark), for paging tests.

import type { Source, Window } from "../../src/lib/paging.ts";
import type { Rec } from "../../src/lib/types.ts";

export class MemLog implements Source {
  reads = 0;
  constructor(
    readonly parts: Rec[][],
    readonly logStart: number[] = parts.map(() => 0),
    /** Most records a read returns whatever is asked (like max_bytes cutting a read short). */
    readonly readCap = Infinity,
  ) {}

  static build(timestamps: number[][], value: (p: number, o: number) => unknown = (p, o) => ({ p, o })): MemLog {
    return new MemLog(
      timestamps.map((ts, p) =>
        ts.map((t, o) => ({ partition: p, offset: o, timestamp: t, value: value(p, o), value_format: "json", headers: {} }) as Rec),
      ),
    );
  }

  bounds(): Record<number, { logStart: number; highWatermark: number }> {
    return Object.fromEntries(this.parts.map((recs, p) => [p, { logStart: this.logStart[p]!, highWatermark: recs.length }]));
  }

  async read(p: number, offset: number, max: number): Promise<Window> {
    this.reads++;
    const all = this.parts[p]!;
    if (offset < this.logStart[p]! || offset > all.length) throw new Error(`OFFSET_OUT_OF_RANGE ${p}:${offset}`);
    const records = all.slice(offset, offset + Math.min(max, this.readCap));
    return {
      records,
      next: offset + records.length,
      bounds: { logStart: this.logStart[p]!, highWatermark: all.length },
    };
  }

  async locate(p: number, timestamp: number): Promise<number> {
    const all = this.parts[p]!;
    const hit = all.find((r) => r.offset >= this.logStart[p]! && r.timestamp >= timestamp);
    return hit ? hit.offset : all.length;
  }
}

/** Deterministic pseudo-random numbers (mulberry32) so failures can be replayed by seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const ids = (rs: Rec[]) => rs.map((r) => `${r.partition}:${r.offset}`);
