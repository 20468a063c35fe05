// Topics: a searchable, sortable list (throughput from the change in stored records between
// refreshes), create, and delete with confirmation.

import { useRef, useState } from "preact/hooks";
import { request } from "../api.ts";
import { Confirm, CopyAs, Empty, ErrorBox, Loading, useInterval } from "../components/ui.tsx";
import { formatBytes, formatDuration, formatNumber, formatRate } from "../lib/format.ts";
import type { Call } from "../lib/snippets.ts";
import type { TopicSummary } from "../lib/types.ts";
import { href, navigate, onLink } from "../router.ts";
import { useSession } from "../session.tsx";

const POLL_MS = 5000;

type SortKey = "name" | "partitions" | "records" | "size_bytes" | "retention" | "rate";

interface Row extends TopicSummary {
  rate: number | null;
}

export function createTopicCall(tenant: string, name: string, partitions: number, retentionMs: number | null): Call {
  const body: Record<string, unknown> = { name, partitions };
  if (retentionMs !== null) body.config = { retention_ms: retentionMs };
  return { method: "POST", path: `/v1/tenants/${encodeURIComponent(tenant)}/topics`, body };
}

export function deleteTopicCall(tenant: string, name: string): Call {
  return { method: "DELETE", path: `/v1/tenants/${encodeURIComponent(tenant)}/topics/${encodeURIComponent(name)}` };
}

const RETENTIONS: [string, number | null][] = [
  ["server default", null],
  ["1 hour", 3_600_000],
  ["1 day", 86_400_000],
  ["7 days", 604_800_000],
  ["30 days", 2_592_000_000],
  ["forever", -1],
];

function CreateTopic({ tenant, onCreated }: { tenant: string; onCreated: (name: string) => void }) {
  const [name, setName] = useState("");
  const [partitions, setPartitions] = useState(1);
  const [retention, setRetention] = useState(0);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const call = () => createTopicCall(tenant, name.trim(), partitions, RETENTIONS[retention]![1]);
  return (
    <form
      class="card inline-form"
      aria-label="Create a topic"
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        setError(undefined);
        try {
          await request(call());
          onCreated(name.trim());
          setName("");
        } catch (err) {
          setError(err);
        } finally {
          setBusy(false);
        }
      }}
    >
      <h2>Create a topic</h2>
      <div class="row wrap">
        <label>
          Name
          <input
            name="topic-name"
            required
            pattern="[a-zA-Z0-9._\-]{1,249}"
            title="1 to 249 of a-z, A-Z, 0-9, '.', '_', '-'"
            value={name}
            onInput={(e) => setName(e.currentTarget.value)}
          />
        </label>
        <label>
          Partitions
          <input
            name="topic-partitions"
            type="number"
            min={1}
            max={1000}
            value={partitions}
            onInput={(e) => setPartitions(Number(e.currentTarget.value) || 1)}
          />
        </label>
        <label>
          Retention
          <select value={retention} onChange={(e) => setRetention(Number(e.currentTarget.value))}>
            {RETENTIONS.map(([label], i) => (
              <option value={i}>{label}</option>
            ))}
          </select>
        </label>
        <button type="submit" class="primary" disabled={busy || !name.trim()}>
          {busy ? "Creating…" : "Create topic"}
        </button>
      </div>
      <CopyAs call={call} />
      <ErrorBox error={error} />
    </form>
  );
}

export function TopicsPage() {
  const { session } = useSession();
  const tenant = session.tenant;
  const [rows, setRows] = useState<Row[] | null>(null);
  const [error, setError] = useState<unknown>(undefined);
  const [query, setQuery] = useState("");
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean }>({ key: "name", desc: false });
  const [deleting, setDeleting] = useState<string | null>(null);
  const [deleteError, setDeleteError] = useState<unknown>(undefined);
  const [tick, setTick] = useState(0);
  const last = useRef<{ at: number; records: Record<string, number> } | null>(null);

  useInterval(
    async () => {
      try {
        const r = await request<{ topics: TopicSummary[] }>({ method: "GET", path: `/v1/tenants/${encodeURIComponent(tenant)}/topics` });
        const now = Date.now();
        const prev = last.current;
        setRows(
          r.topics.map((t) => {
            const before = prev?.records[t.name];
            const dt = prev ? (now - prev.at) / 1000 : 0;
            return { ...t, rate: before === undefined || dt <= 0 ? null : Math.max(0, (t.records - before) / dt) };
          }),
        );
        last.current = { at: now, records: Object.fromEntries(r.topics.map((t) => [t.name, t.records])) };
        setError(undefined);
      } catch (e) {
        setError(e);
      }
    },
    POLL_MS,
    [tenant, tick],
  );

  const q = query.trim().toLowerCase();
  const shown = (rows ?? [])
    .filter((r) => !q || r.name.toLowerCase().includes(q))
    .sort((a, b) => {
      const v = (r: Row): number | string => {
        switch (sort.key) {
          case "name":
            return r.name;
          case "retention": {
            const ms = r.config.retention_ms ?? -1;
            return ms < 0 ? Infinity : ms;
          }
          case "rate":
            return r.rate ?? -1;
          default:
            return r[sort.key];
        }
      };
      const x = v(a);
      const y = v(b);
      const c = x < y ? -1 : x > y ? 1 : 0;
      return sort.desc ? -c : c;
    });

  const header = (key: SortKey, label: string, numeric = false) => (
    <th
      scope="col"
      class={numeric ? "num" : ""}
      aria-sort={sort.key === key ? (sort.desc ? "descending" : "ascending") : "none"}
    >
      <button
        type="button"
        class="th-sort"
        onClick={() => setSort((s) => ({ key, desc: s.key === key ? !s.desc : numeric }))}
      >
        {label}
        <span aria-hidden="true">{sort.key === key ? (sort.desc ? " ▼" : " ▲") : ""}</span>
      </button>
    </th>
  );

  return (
    <div class="page">
      <h1>Topics</h1>
      <CreateTopic tenant={tenant} onCreated={(name) => navigate(href("topics", name))} />
      <div class="row wrap toolbar">
        <label class="grow">
          <span class="sr-only">Search topics</span>
          <input type="search" placeholder="Search topics" value={query} onInput={(e) => setQuery(e.currentTarget.value)} aria-label="Search topics" />
        </label>
        <span class="hint">{rows ? `${shown.length} of ${rows.length}` : ""}</span>
      </div>
      <ErrorBox error={error} />
      <ErrorBox error={deleteError} title="The topic was not deleted" />
      {rows === null && !error ? <Loading what="topics" /> : null}
      {rows !== null && rows.length === 0 ? <Empty>No topics yet. Create one above, or with the REST API.</Empty> : null}
      {rows !== null && rows.length > 0 ? (
        <div class="table-wrap">
          <table class="topics">
            <thead>
              <tr>
                {header("name", "Name")}
                {header("partitions", "Partitions", true)}
                {header("records", "Records", true)}
                {header("size_bytes", "Size", true)}
                {header("retention", "Retention", true)}
                {header("rate", "Records/s", true)}
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {shown.map((t) => (
                <tr data-topic={t.name}>
                  <td>
                    <a href={href("topics", t.name)} onClick={onLink}>
                      {t.name}
                    </a>
                  </td>
                  <td class="num">{t.partitions}</td>
                  <td class="num">{formatNumber(t.records)}</td>
                  <td class="num">{formatBytes(t.size_bytes)}</td>
                  <td class="num">{formatDuration(t.config.retention_ms)}</td>
                  <td class="num">{t.rate === null ? "…" : formatRate(t.rate, "records")}</td>
                  <td class="actions">
                    <button type="button" class="small danger" onClick={() => setDeleting(t.name)} aria-label={`Delete topic ${t.name}`}>
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <Confirm
        open={deleting !== null}
        title={`Delete topic ${deleting ?? ""}?`}
        confirmLabel="Delete topic"
        danger
        requireText={deleting ?? ""}
        onCancel={() => setDeleting(null)}
        onConfirm={async () => {
          const name = deleting!;
          setDeleting(null);
          setDeleteError(undefined);
          try {
            await request(deleteTopicCall(tenant, name));
            setTick((x) => x + 1);
          } catch (e) {
            setDeleteError(e);
          }
        }}
      >
        <p>Every record of every partition is removed. This cannot be undone.</p>
        {deleting ? <CopyAs call={() => deleteTopicCall(tenant, deleting)} /> : null}
      </Confirm>
    </div>
  );
}
