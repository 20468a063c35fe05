// One topic: partitions, message browser, live tail, produce, settings (edit, add
// partitions, delete).

import { useState } from "preact/hooks";
import { get, request } from "../api.ts";
import { Confirm, CopyAs, ErrorBox, Show, useAsync, useInterval } from "../components/ui.tsx";
import { formatBytes, formatDuration, formatNumber, plural } from "../lib/format.ts";
import type { Call } from "../lib/snippets.ts";
import type { TopicConfig, TopicDetail } from "../lib/types.ts";
import { href, navigate, onLink } from "../router.ts";
import { useSession } from "../session.tsx";
import { MessageBrowser } from "./browser.tsx";
import { ProduceFormView } from "./Produce.tsx";
import { LiveTail } from "./tail.tsx";
import { deleteTopicCall } from "./Topics.tsx";

/** How often the topic's partitions (offsets, sizes) are read again. */
const REFRESH_MS = 5000;

const TABS: [string, string][] = [
  ["messages", "Messages"],
  ["tail", "Live tail"],
  ["partitions", "Partitions"],
  ["produce", "Produce"],
  ["settings", "Settings"],
];

const FIELDS: { key: keyof TopicConfig; label: string; hint: string; kind: "ms" | "bytes" | "count" }[] = [
  { key: "retention_ms", label: "Retention time (ms)", hint: "-1 keeps records forever", kind: "ms" },
  { key: "retention_bytes", label: "Retention size per partition (bytes)", hint: "-1 = no limit", kind: "bytes" },
  { key: "segment_bytes", label: "Segment size (bytes)", hint: "roll a segment past this size", kind: "bytes" },
  { key: "segment_ms", label: "Segment age (ms)", hint: "roll a segment this old", kind: "ms" },
  { key: "batch_bytes_max", label: "Largest batch (bytes)", hint: "per produce batch", kind: "bytes" },
  { key: "flush_records", label: "fsync every N records", hint: "empty: on roll and shutdown only", kind: "count" },
  { key: "flush_ms", label: "fsync every N ms", hint: "empty: not by time", kind: "ms" },
];

function topicPath(tenant: string, topic: string): string {
  return `/v1/tenants/${encodeURIComponent(tenant)}/topics/${encodeURIComponent(topic)}`;
}

export function alterTopicCall(tenant: string, topic: string, body: { config?: TopicConfig; partitions?: number }): Call {
  return { method: "PATCH", path: topicPath(tenant, topic), body };
}

function human(kind: "ms" | "bytes" | "count", v: number | null | undefined): string {
  if (v === null || v === undefined) return "—";
  return kind === "ms" ? formatDuration(v) : kind === "bytes" ? formatBytes(v) : formatNumber(v);
}

function Partitions({ detail }: { detail: TopicDetail }) {
  return (
    <div class="table-wrap">
      <table class="partitions">
        <thead>
          <tr>
            <th scope="col" class="num">Partition</th>
            <th scope="col" class="num">Log start offset</th>
            <th scope="col" class="num">High watermark</th>
            <th scope="col" class="num">Records</th>
            <th scope="col" class="num">Size</th>
            <th scope="col" class="num">Leader</th>
          </tr>
        </thead>
        <tbody>
          {detail.partitions.map((p) => (
            <tr data-partition={p.partition}>
              <td class="num">{p.partition}</td>
              <td class="num">{formatNumber(p.log_start_offset)}</td>
              <td class="num">{formatNumber(p.high_watermark)}</td>
              <td class="num">{formatNumber(p.high_watermark - p.log_start_offset)}</td>
              <td class="num">{formatBytes(p.size_bytes)}</td>
              <td class="num">{p.leader}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="hint">
        Leader: the node that holds the partition (0 on a node run alone). Partitions have one replica each until
        replication arrives.
      </p>
    </div>
  );
}

/** `onChanged` gets what was done (shown by the page, which reloads the topic). */
function Settings({ tenant, detail, onChanged }: { tenant: string; detail: TopicDetail; onChanged: (done: string) => void }) {
  const initial = Object.fromEntries(FIELDS.map((f) => [f.key, detail.config[f.key] == null ? "" : String(detail.config[f.key])]));
  const [values, setValues] = useState<Record<string, string>>(initial);
  const [partitions, setPartitions] = useState(String(detail.partitions.length));
  const [error, setError] = useState<unknown>(undefined);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [confirmPartitions, setConfirmPartitions] = useState(false);

  const changed: TopicConfig = {};
  let invalid: string | null = null;
  for (const f of FIELDS) {
    const v = values[f.key]!.trim();
    if (v === initial[f.key]) continue;
    if (v === "") continue;
    const n = Number(v);
    if (!Number.isInteger(n)) invalid = `${f.label} must be a whole number`;
    else changed[f.key] = n;
  }
  const configCall = () => alterTopicCall(tenant, detail.name, { config: changed });
  const newCount = Number(partitions);
  const partitionsCall = () => alterTopicCall(tenant, detail.name, { partitions: newCount });
  const act = async (call: Call, what: string) => {
    setError(undefined);
    try {
      await request(call);
      onChanged(what);
    } catch (e) {
      setError(e);
    }
  };

  return (
    <div class="settings">
      <form
        class="card"
        aria-label="Topic settings"
        onSubmit={(e) => {
          e.preventDefault();
          if (!invalid && Object.keys(changed).length) void act(configCall(), "Settings saved.");
        }}
      >
        <h2>Settings</h2>
        <div class="grid-form">
          {FIELDS.map((f) => (
            <label>
              {f.label}
              <input
                name={`config-${f.key}`}
                inputMode="numeric"
                value={values[f.key]}
                onInput={(e) => setValues({ ...values, [f.key]: e.currentTarget.value })}
              />
              <span class="hint">
                now {human(f.kind, detail.config[f.key])} · {f.hint}
              </span>
            </label>
          ))}
        </div>
        {invalid ? <p class="invalid">{invalid}</p> : null}
        <div class="row wrap">
          <button type="submit" class="primary" disabled={!!invalid || Object.keys(changed).length === 0}>
            Save settings
          </button>
          <CopyAs call={configCall} />
        </div>
      </form>
      <form
        class="card"
        aria-label="Add partitions"
        onSubmit={(e) => {
          e.preventDefault();
          if (newCount > detail.partitions.length) setConfirmPartitions(true);
        }}
      >
        <h2>Partitions</h2>
        <p class="hint">
          Partitions can only be added. Keys map to partitions by murmur2(key) % count, so adding partitions moves
          where existing keys land from now on.
        </p>
        <div class="row wrap">
          <label>
            Partition count
            <input
              name="partition-count"
              type="number"
              min={detail.partitions.length}
              max={1000}
              value={partitions}
              onInput={(e) => setPartitions(e.currentTarget.value)}
            />
          </label>
          <button type="submit" disabled={!(newCount > detail.partitions.length)}>
            Add partitions
          </button>
          <CopyAs call={partitionsCall} />
        </div>
      </form>
      <div class="card danger-zone">
        <h2>Delete topic</h2>
        <p>Removes the topic and every record in it.</p>
        <button type="button" class="danger" onClick={() => setConfirmDelete(true)}>
          Delete {detail.name}…
        </button>
      </div>
      <ErrorBox error={error} />
      <Confirm
        open={confirmPartitions}
        title={`Grow ${detail.name} to ${plural(newCount, "partition")}?`}
        confirmLabel="Add partitions"
        onCancel={() => setConfirmPartitions(false)}
        onConfirm={() => {
          setConfirmPartitions(false);
          void act(partitionsCall(), `Now ${plural(newCount, "partition")}.`);
        }}
      >
        <p>This cannot be undone: partitions are never removed.</p>
      </Confirm>
      <Confirm
        open={confirmDelete}
        title={`Delete topic ${detail.name}?`}
        confirmLabel="Delete topic"
        danger
        requireText={detail.name}
        onCancel={() => setConfirmDelete(false)}
        onConfirm={async () => {
          setConfirmDelete(false);
          try {
            await request(deleteTopicCall(tenant, detail.name));
            navigate(href("topics"));
          } catch (e) {
            setError(e);
          }
        }}
      >
        <p>Every record of every partition is removed. This cannot be undone.</p>
        <CopyAs call={() => deleteTopicCall(tenant, detail.name)} />
      </Confirm>
    </div>
  );
}

export function TopicDetailPage({ topic, tab }: { topic: string; tab: string }) {
  const { session } = useSession();
  const tenant = session.tenant;
  const a = useAsync(() => get<TopicDetail>(topicPath(tenant, topic)), [tenant, topic]);
  const [notice, setNotice] = useState<string | null>(null);
  // Offsets and sizes move while the page is open.
  useInterval(() => {
    if (a.data) a.reload();
  }, REFRESH_MS);
  const current = TABS.some(([id]) => id === tab) ? tab : "messages";
  return (
    <div class="page">
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={href("topics")} onClick={onLink}>
          Topics
        </a>{" "}
        / <span>{topic}</span>
      </nav>
      <div class="row wrap center">
        <h1>{topic}</h1>
        <button type="button" class="small" onClick={a.reload}>
          Refresh
        </button>
      </div>
      <Show a={a} what="the topic">
        {(d) => (
          <>
            <p class="hint" data-testid="topic-summary">
              {plural(d.partitions.length, "partition")} ·{" "}
              {plural(d.partitions.reduce((s, p) => s + p.high_watermark - p.log_start_offset, 0), "record")} · {formatBytes(d.partitions.reduce((s, p) => s + p.size_bytes, 0))} · retention {formatDuration(d.config.retention_ms)}
            </p>
            <div class="tabs" role="tablist" aria-label="Topic views">
              {TABS.map(([id, label]) => (
                <a
                  role="tab"
                  aria-selected={current === id}
                  href={href("topics", topic, id)}
                  onClick={(e) => {
                    setNotice(null);
                    onLink(e);
                  }}
                >
                  {label}
                </a>
              ))}
            </div>
            {notice ? (
              <p class="success" role="status">
                {notice}
              </p>
            ) : null}
            <div role="tabpanel">
              {current === "messages" ? <MessageBrowser key={`${tenant}/${topic}/${d.partitions.length}`} tenant={tenant} detail={d} /> : null}
              {current === "tail" ? <LiveTail tenant={tenant} detail={d} /> : null}
              {current === "partitions" ? <Partitions detail={d} /> : null}
              {current === "produce" ? <ProduceFormView tenant={tenant} topic={topic} /> : null}
              {current === "settings" ? <Settings tenant={tenant} detail={d} onChanged={(done) => (setNotice(done), a.reload())} /> : null}
            </div>
          </>
        )}
      </Show>
    </div>
  );
}
