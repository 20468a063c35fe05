import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { describeLag, lagSummary } from "../../src/lib/lag.ts";
import type { PartitionLag } from "../../src/lib/types.ts";

const part = (partition: number, committed: number | null, hw: number): PartitionLag => ({
  topic: "orders",
  partition,
  high_watermark: hw,
  committed_offset: committed,
  lag: committed === null ? null : Math.max(0, hw - committed),
});

describe("a group's total lag", () => {
  test("nothing committed: unknown, not zero", () => {
    const s = lagSummary([part(0, null, 10), part(1, null, 0), part(2, null, 4)]);
    assert.deepEqual(s, { total: null, known: 0, partitions: 3 });
    const t = describeLag(s);
    assert.equal(t.value, "—");
    assert.equal(t.note, "nothing committed yet");
    assert.match(t.title, /no partition has a committed offset/i);
  });
  test("absent fields count as not committed", () => {
    assert.equal(lagSummary([{ committed_offset: undefined, lag: undefined }]).total, null);
    // A lag without a committed offset is not one the group has.
    assert.equal(lagSummary([{ committed_offset: null, lag: 3 }]).total, null);
  });
  test("some committed: the sum of the known lags, and says over how many", () => {
    const s = lagSummary([part(0, 4, 10), part(1, null, 7), part(2, 1, 2)]);
    assert.deepEqual(s, { total: 7, known: 2, partitions: 3 });
    const t = describeLag(s);
    assert.equal(t.value, "7");
    assert.equal(t.note, "2 of 3 partitions committed");
    assert.match(t.title, /2 partitions with a committed offset; 1 partition has none/);
  });
  test("one partition of one committed, at the end: 0 is a real zero", () => {
    const t = describeLag(lagSummary([part(0, 5, 5)]));
    assert.deepEqual(t, { value: "0", note: null, title: "Sum of the lags of 1 partition." });
  });
  test("all committed: the plain sum, formatted", () => {
    const t = describeLag(lagSummary([part(0, 0, 1000), part(1, 0, 500)]));
    assert.equal(t.value, "1,500");
    assert.equal(t.note, null);
  });
  test("no partitions at all", () => {
    const t = describeLag(lagSummary([]));
    assert.equal(t.value, "—");
    assert.equal(t.note, null);
  });
});
