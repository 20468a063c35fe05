// A consumer group's total lag as the console shows it. The server's `total_lag` sums the lags
// it knows and counts a partition without a committed offset as nothing, so a group that has
// committed nothing reads "0" though nothing about its lag is known. Pure.

import { formatNumber, plural } from "./format.ts";
import type { PartitionLag } from "./types.ts";

export interface LagSummary {
  /** Sum of the known lags; null when no partition has one (nothing committed). */
  total: number | null;
  /** Partitions whose lag is known (they have a committed offset). */
  known: number;
  /** Partitions listed. */
  partitions: number;
}

export function lagSummary(partitions: Pick<PartitionLag, "committed_offset" | "lag">[]): LagSummary {
  let total = 0;
  let known = 0;
  for (const p of partitions) {
    if (p.committed_offset === null || p.committed_offset === undefined) continue;
    if (p.lag === null || p.lag === undefined) continue;
    total += p.lag;
    known++;
  }
  return { total: known ? total : null, known, partitions: partitions.length };
}

export interface LagText {
  /** The figure: "—" when unknown. */
  value: string;
  /** A line under it when the figure is not over every partition, else null. */
  note: string | null;
  /** What the figure means, for a tooltip. */
  title: string;
}

export function describeLag(s: LagSummary): LagText {
  if (s.total === null) {
    return {
      value: "—",
      note: s.partitions ? "nothing committed yet" : null,
      title: s.partitions
        ? "No partition has a committed offset, so the lag is unknown until the group commits."
        : "The group has no partitions.",
    };
  }
  if (s.known < s.partitions) {
    const missing = s.partitions - s.known;
    return {
      value: formatNumber(s.total),
      note: `${s.known} of ${plural(s.partitions, "partition")} committed`,
      title: `Sum of the lags of the ${plural(s.known, "partition")} with a committed offset; ${plural(missing, "partition")} ${missing === 1 ? "has" : "have"} none, so ${missing === 1 ? "its" : "their"} lag is unknown.`,
    };
  }
  return { value: formatNumber(s.total), note: null, title: `Sum of the lags of ${plural(s.partitions, "partition")}.` };
}
