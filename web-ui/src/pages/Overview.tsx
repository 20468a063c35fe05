// Overview: node status, counts, live throughput (from /metrics for admins, from the tenant's
// usage otherwise) and storage against its quota.

import { useRef, useState } from "preact/hooks";
import { get } from "../api.ts";
import { Chart, type Point } from "../components/chart.tsx";
import { ErrorBox, Meter, Stat, useInterval } from "../components/ui.tsx";
import { formatBytes, formatNumber, formatRate, quotaShare } from "../lib/format.ts";
import { parseProm, rate, sum } from "../lib/prom.ts";
import { isAdmin } from "../lib/session.ts";
import type { GroupSummary, TopicSummary, Usage } from "../lib/types.ts";
import { href, onLink } from "../router.ts";
import { useSession } from "../session.tsx";

const POLL_MS = 2000;
const POINTS = 90;

interface Counters {
  bytesIn: number;
  bytesOut: number;
  recordsIn: number;
  recordsOut: number;
}

interface Series {
  bytesIn: Point[];
  bytesOut: Point[];
  recordsIn: Point[];
  recordsOut: Point[];
}

function push(list: Point[], p: Point): Point[] {
  const next = [...list, p];
  return next.length > POINTS ? next.slice(next.length - POINTS) : next;
}

export function OverviewPage() {
  const { session } = useSession();
  const t = encodeURIComponent(session.tenant);
  const [health, setHealth] = useState<{ live: boolean; ready: boolean } | null>(null);
  const [topics, setTopics] = useState<TopicSummary[] | null>(null);
  const [groups, setGroups] = useState<GroupSummary[] | null>(null);
  const [usage, setUsage] = useState<Usage | null>(null);
  const [error, setError] = useState<unknown>(undefined);
  const [series, setSeries] = useState<Series>({ bytesIn: [], bytesOut: [], recordsIn: [], recordsOut: [] });
  const [source, setSource] = useState<"metrics" | "usage">(isAdmin(session.identity) ? "metrics" : "usage");
  const prev = useRef<{ at: number; c: Counters; records: number } | null>(null);

  useInterval(async () => {
    const now = Date.now();
    const [live, ready] = await Promise.all([
      fetch("/healthz", { cache: "no-store" }).then((r) => r.ok, () => false),
      fetch("/readyz", { cache: "no-store" }).then((r) => r.ok, () => false),
    ]);
    setHealth({ live, ready });
    try {
      const [tl, gl, u] = await Promise.all([
        get<{ topics: TopicSummary[] }>(`/v1/tenants/${t}/topics`),
        get<{ groups: GroupSummary[] }>(`/v1/tenants/${t}/groups`),
        get<Usage>(`/v1/tenants/${t}/usage`),
      ]);
      setTopics(tl.topics);
      setGroups(gl.groups);
      setUsage(u);
      setError(undefined);
      let c: Counters | null = null;
      if (source === "metrics") {
        try {
          const text = await get<string>("/metrics", { text: true });
          const s = parseProm(text);
          const w = { tenant: session.tenant };
          c = {
            bytesIn: sum(s, "weir_bytes_in_total", w),
            bytesOut: sum(s, "weir_bytes_out_total", w),
            recordsIn: sum(s, "weir_records_in_total", w),
            recordsOut: sum(s, "weir_records_out_total", w),
          };
        } catch {
          setSource("usage");
        }
      }
      const records = tl.topics.reduce((a, x) => a + x.records, 0);
      const p = prev.current;
      if (c && p) {
        const dt = (now - p.at) / 1000;
        setSeries((s) => ({
          bytesIn: push(s.bytesIn, { t: now, v: rate(p.c.bytesIn, c!.bytesIn, dt) }),
          bytesOut: push(s.bytesOut, { t: now, v: rate(p.c.bytesOut, c!.bytesOut, dt) }),
          recordsIn: push(s.recordsIn, { t: now, v: rate(p.c.recordsIn, c!.recordsIn, dt) }),
          recordsOut: push(s.recordsOut, { t: now, v: rate(p.c.recordsOut, c!.recordsOut, dt) }),
        }));
      } else if (!c && p) {
        const dt = (now - p.at) / 1000;
        setSeries((s) => ({
          bytesIn: push(s.bytesIn, { t: now, v: u.produce_bytes_per_sec }),
          bytesOut: push(s.bytesOut, { t: now, v: u.fetch_bytes_per_sec }),
          recordsIn: push(s.recordsIn, { t: now, v: Math.max(0, rate(p.records, records, dt)) }),
          recordsOut: s.recordsOut,
        }));
      }
      prev.current = { at: now, c: c ?? { bytesIn: 0, bytesOut: 0, recordsIn: 0, recordsOut: 0 }, records };
    } catch (e) {
      setError(e);
    }
  }, POLL_MS, [session.tenant, source]);

  const partitions = topics?.reduce((a, x) => a + x.partitions, 0);
  const lag = groups?.reduce((a, g) => a + g.total_lag, 0);
  return (
    <div class="page">
      <h1>Overview</h1>
      <ErrorBox error={error} />
      <section class="stats" aria-label="Status and counts">
        <Stat
          label="Node"
          value={
            health === null ? (
              "…"
            ) : (
              <span class={health.ready ? "ok" : "bad"} data-testid="node-status">
                {health.ready ? "ready" : health.live ? "not ready" : "unreachable"}
              </span>
            )
          }
          hint="/healthz · /readyz"
        />
        <Stat
          label="Topics"
          value={<a href={href("topics")} onClick={onLink}>{topics ? formatNumber(topics.length) : "…"}</a>}
        />
        <Stat label="Partitions" value={partitions === undefined ? "…" : formatNumber(partitions)} />
        <Stat
          label="Consumer groups"
          value={<a href={href("groups")} onClick={onLink}>{groups ? formatNumber(groups.length) : "…"}</a>}
          hint={lag === undefined ? undefined : `total lag ${formatNumber(lag)}`}
        />
        <Stat
          label="Storage"
          value={usage ? formatBytes(usage.storage_bytes) : "…"}
          hint={
            usage ? (
              <>
                {usage.quotas.storage_bytes ? (
                  <>
                    of {formatBytes(usage.quotas.storage_bytes)}{" "}
                    <Meter share={quotaShare(usage.storage_bytes, usage.quotas.storage_bytes)} label="Storage used of quota" />
                  </>
                ) : (
                  "no storage quota"
                )}
              </>
            ) : undefined
          }
        />
      </section>
      <section aria-label="Throughput">
        <h2>Throughput</h2>
        <p class="hint">
          {source === "metrics"
            ? `From /metrics, tenant ${session.tenant}, every ${POLL_MS / 1000} s.`
            : `From the tenant's usage (bytes in the last second) and stored record counts, every ${POLL_MS / 1000} s. Admins see /metrics.`}
        </p>
        <div class="charts">
          <Chart label="Bytes in" points={series.bytesIn} format={(v) => formatRate(v, "bytes")} />
          <Chart label="Bytes out" points={series.bytesOut} format={(v) => formatRate(v, "bytes")} />
          <Chart label="Records in" points={series.recordsIn} format={(v) => formatRate(v, "records")} />
          {source === "metrics" ? (
            <Chart label="Records out" points={series.recordsOut} format={(v) => formatRate(v, "records")} />
          ) : null}
        </div>
      </section>
    </div>
  );
}
