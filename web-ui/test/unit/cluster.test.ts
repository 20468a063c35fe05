import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { partitionsPerNode } from "../../src/lib/cluster.ts";
import type { TopicDetail } from "../../src/lib/types.ts";

const topic = (name: string, leaders: number[]): TopicDetail => ({
  name,
  partitions: leaders.map((leader, partition) => ({
    partition,
    leader,
    log_start_offset: 0,
    high_watermark: 0,
    size_bytes: 0,
  })),
  config: {} as TopicDetail["config"],
});

describe("partitions per node", () => {
  test("counts each topic's partitions by leader", () => {
    const led = partitionsPerNode([topic("a", [1, 2, 3, 1]), topic("b", [2])]);
    assert.deepEqual([...led.entries()].sort(), [
      [1, 2],
      [2, 2],
      [3, 1],
    ]);
  });
  test("no topics: no node leads anything", () => {
    assert.equal(partitionsPerNode([]).size, 0);
  });
});
