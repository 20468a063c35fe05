// What the Cluster page computes from the API's answers.

import type { TopicDetail } from "./types.ts";

/** Partitions of `topics` each node leads (node id → count). */
export function partitionsPerNode(topics: TopicDetail[]): Map<number, number> {
  const led = new Map<number, number>();
  for (const t of topics) {
    for (const p of t.partitions) led.set(p.leader, (led.get(p.leader) ?? 0) + 1);
  }
  return led;
}
