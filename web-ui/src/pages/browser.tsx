// The message browser of a topic: partitions, start position, paging both ways, filters,
// record details (JSON tree, text, hex/base64), copy and export.

import { useEffect, useRef, useState } from "preact/hooks";
import { get } from "../api.ts";
import { JsonView } from "../components/json.tsx";
import { SafeText } from "../components/text.tsx";
import { CopyAs, CopyButton, Empty, ErrorBox, Loading, download } from "../components/ui.tsx";
import { makeFilter, type RecordFilter } from "../lib/filter.ts";
import {
  allHeaders,
  bytesToBase64,
  countControls,
  escapeControls,
  exportRecord,
  formatTimestamp,
  hexDump,
  keyText,
  parseTimestamp,
  plural,
  prettyJson,
  previewText,
  toCsv,
  toJsonExport,
  valueBytes,
  valueText,
} from "../lib/format.ts";
import { describeRange, firstPage, pageBackward, pageForward, type Bounds, type Page, type Source, type Start } from "../lib/paging.ts";
import type { Call } from "../lib/snippets.ts";
import type { FetchResponse, Rec, TopicDetail } from "../lib/types.ts";

/** Most records one REST fetch returns here (the server's default cap is 10,000). */
const READ_RECORDS_MAX = 500;

export function fetchCall(tenant: string, topic: string, p: number, query: Record<string, string | number>): Call {
  const qs = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)])).toString();
  return {
    method: "GET",
    path: `/v1/tenants/${encodeURIComponent(tenant)}/topics/${encodeURIComponent(topic)}/partitions/${p}/records?${qs}`,
  };
}

export function restSource(tenant: string, topic: string): Source {
  return {
    async read(p, offset, max) {
      const call = fetchCall(tenant, topic, p, { offset, max_records: Math.min(max, READ_RECORDS_MAX), wait_ms: 0 });
      const r = await get<FetchResponse>(call.path);
      return {
        records: r.records.map((x) => ({ ...x, partition: p })),
        next: r.next_offset,
        bounds: { logStart: r.log_start_offset, highWatermark: r.high_watermark },
      };
    },
    async locate(p, timestamp) {
      const r = await get<FetchResponse>(fetchCall(tenant, topic, p, { timestamp, max_records: 1, wait_ms: 0 }).path);
      return r.records[0]?.offset ?? r.next_offset;
    },
  };
}

type StartKind = Start["kind"];

type BytesAs = "text" | "hex" | "base64";

function ViewButtons({ views, shown, onShow }: { views: BytesAs[]; shown: BytesAs; onShow: (v: BytesAs) => void }) {
  const names: Record<BytesAs, string> = { text: "Text", hex: "Hex", base64: "Base64" };
  return (
    <>
      {views.map((v) => (
        <button type="button" class="small" aria-pressed={shown === v} onClick={() => onShow(v)}>
          {names[v]}
        </button>
      ))}
    </>
  );
}

function BytesPre({ bytes, as }: { bytes: Uint8Array; as: "hex" | "base64" }) {
  if (bytes.length === 0) return <p class="hint">no bytes (an empty value)</p>;
  return <pre class="value mono">{as === "hex" ? hexDump(bytes) : bytesToBase64(bytes)}</pre>;
}

function ValueView({ r }: { r: Rec }) {
  const [as, setAs] = useState<BytesAs | null>(null);
  const [raw, setRaw] = useState(false);
  switch (r.value_format) {
    case "null":
      return <p class="hint">null (tombstone)</p>;
    case "string": {
      const text = String(r.value ?? "");
      const controls = countControls(text);
      if (controls === 0) return <pre class="value">{text}</pre>;
      // Text with control characters: escaped by default, or its bytes.
      const shown = as ?? "text";
      return (
        <div>
          <div class="row">
            <ViewButtons views={["text", "hex", "base64"]} shown={shown} onShow={setAs} />
            <span class="hint" data-testid="control-note">
              {plural(controls, "control character")} shown as \u escapes
            </span>
          </div>
          {shown === "text" ? (
            <pre class="value">
              <SafeText text={text} />
            </pre>
          ) : (
            <BytesPre bytes={valueBytes(r)!} as={shown} />
          )}
        </div>
      );
    }
    case "json":
      return (
        <div>
          <div class="row">
            <button type="button" class="small" aria-pressed={!raw} onClick={() => setRaw(false)}>
              Tree
            </button>
            <button type="button" class="small" aria-pressed={raw} onClick={() => setRaw(true)}>
              Pretty text
            </button>
          </div>
          {raw ? (
            <pre class="value">
              <SafeText text={prettyJson(r.value)} />
            </pre>
          ) : (
            <JsonView value={r.value} />
          )}
        </div>
      );
    case "binary": {
      const bytes = valueBytes(r);
      if (bytes === null) return <p class="hint">The server sent a value that is not base64.</p>;
      const shown = as === "base64" ? "base64" : "hex";
      return (
        <div>
          <div class="row">
            <ViewButtons views={["hex", "base64"]} shown={shown} onShow={setAs} />
            <span class="hint">{plural(bytes.length, "byte")}</span>
          </div>
          <BytesPre bytes={bytes} as={shown} />
        </div>
      );
    }
  }
}

function RecordDetail({ r, tenant, topic }: { r: Rec; tenant: string; topic: string }) {
  const headers = allHeaders(r);
  return (
    <div class="record-detail">
      <div class="row wrap">
        <CopyButton text={() => JSON.stringify(exportRecord(r), null, 2)} label="Copy record" />
        <CopyButton text={() => valueText(r)} label="Copy value" />
        <CopyAs call={() => fetchCall(tenant, topic, r.partition, { offset: r.offset, max_records: 1 })} label="Copy fetch as…" />
      </div>
      <dl class="kv">
        <dt>Partition / offset</dt>
        <dd>
          {r.partition} / {r.offset}
        </dd>
        <dt>Time (UTC)</dt>
        <dd>
          {formatTimestamp(r.timestamp)} <span class="hint">({r.timestamp})</span>
        </dd>
        <dt>Key</dt>
        <dd>{keyText(r) ? <SafeText text={keyText(r)} /> : <span class="hint">none</span>}</dd>
        <dt>Headers</dt>
        <dd>
          {Object.keys(headers).length === 0 ? (
            <span class="hint">none</span>
          ) : (
            <ul class="headers">
              {Object.entries(headers).map(([k, v]) => (
                <li>
                  <code>
                    <SafeText text={k} />
                  </code>
                  : <SafeText text={v} />
                </li>
              ))}
            </ul>
          )}
        </dd>
        <dt>Value ({r.value_format})</dt>
        <dd>
          <ValueView r={r} />
        </dd>
      </dl>
    </div>
  );
}

export function MessageBrowser({ tenant, detail }: { tenant: string; detail: TopicDetail }) {
  const all = detail.partitions.map((p) => p.partition);
  const [chosen, setChosen] = useState<number[]>(all);
  // Opening a topic shows its newest records at once (and "newest" stays the start chosen).
  const [startKind, setStartKind] = useState<StartKind>("newest");
  const [startValue, setStartValue] = useState("");
  const [limit, setLimit] = useState(20);
  const [filter, setFilter] = useState<RecordFilter>({});
  const [page, setPage] = useState<Page | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [open, setOpen] = useState<string | null>(null);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const source = restSource(tenant, detail.name);
  const idOf = (r: Rec) => `${r.partition}:${r.offset}`;

  // Fresh offsets for each new start: the topic keeps growing while the page is open.
  const bounds = async (): Promise<Record<number, Bounds>> => {
    const fresh = await get<TopicDetail>(`/v1/tenants/${encodeURIComponent(tenant)}/topics/${encodeURIComponent(detail.name)}`);
    const b: Record<number, Bounds> = {};
    for (const p of fresh.partitions) {
      if (chosen.includes(p.partition)) b[p.partition] = { logStart: p.log_start_offset, highWatermark: p.high_watermark };
    }
    return b;
  };
  const opts = () => ({ limit, match: makeFilter(filter) });

  // Only the latest read may show its page: the one started on opening can still be under way
  // when the form is sent, and none may land after the browser is gone.
  const latest = useRef(0);
  const run = async (f: () => Promise<Page>) => {
    const mine = ++latest.current;
    setBusy(true);
    setError(undefined);
    try {
      const p = await f();
      if (mine !== latest.current) return;
      setPage(p);
      setOpen(null);
      setSelected(new Set());
    } catch (e) {
      if (mine === latest.current) setError(e);
    } finally {
      if (mine === latest.current) setBusy(false);
    }
  };

  useEffect(() => {
    void run(async () => firstPage(source, { kind: "newest" }, await bounds(), opts()));
    return () => {
      latest.current++;
    };
  }, []);

  const start = (): Start | null => {
    switch (startKind) {
      case "oldest":
      case "newest":
        return { kind: startKind };
      case "offset": {
        const n = Number(startValue);
        return startValue.trim() !== "" && Number.isInteger(n) && n >= 0 ? { kind: "offset", offset: n } : null;
      }
      case "timestamp": {
        const ms = parseTimestamp(startValue);
        return ms === null ? null : { kind: "timestamp", timestamp: ms };
      }
    }
  };
  const s = start();
  const records = page?.records ?? [];
  const exportSet = selected.size ? records.filter((r) => selected.has(idOf(r))) : records;
  const base = `${detail.name}-${describeRange(page ?? ({ start: {}, end: {} } as Page)).replace(/[^a-z0-9-]+/gi, "_")}`;

  return (
    <section class="browser" aria-label="Message browser">
      <form
        class="card"
        onSubmit={(e) => {
          e.preventDefault();
          if (s && chosen.length) void run(async () => firstPage(source, s, await bounds(), opts()));
        }}
      >
        <fieldset class="partitions">
          <legend>Partitions</legend>
          <label class="check">
            <input
              type="checkbox"
              checked={chosen.length === all.length}
              onChange={(e) => setChosen(e.currentTarget.checked ? all : [])}
            />
            all
          </label>
          {all.map((p) => (
            <label class="check">
              <input
                type="checkbox"
                name={`partition-${p}`}
                checked={chosen.includes(p)}
                onChange={(e) =>
                  setChosen(e.currentTarget.checked ? [...chosen, p].sort((a, b) => a - b) : chosen.filter((x) => x !== p))
                }
              />
              {p}
            </label>
          ))}
        </fieldset>
        <div class="row wrap">
          <label>
            Start at
            <select name="start" value={startKind} onChange={(e) => setStartKind(e.currentTarget.value as StartKind)}>
              <option value="oldest">oldest</option>
              <option value="newest">newest</option>
              <option value="offset">offset</option>
              <option value="timestamp">timestamp</option>
            </select>
          </label>
          {startKind === "offset" || startKind === "timestamp" ? (
            <label>
              {startKind === "offset" ? "Offset" : "Time (UTC) or ms"}
              <input
                name="start-value"
                value={startValue}
                placeholder={startKind === "offset" ? "0" : "2026-11-05 14:00:00"}
                onInput={(e) => setStartValue(e.currentTarget.value)}
                aria-invalid={!s}
              />
            </label>
          ) : null}
          <label>
            Per page
            <select value={limit} onChange={(e) => setLimit(Number(e.currentTarget.value))}>
              {[10, 20, 50, 100, 200].map((n) => (
                <option value={n}>{n}</option>
              ))}
            </select>
          </label>
        </div>
        <div class="row wrap">
          <label>
            Key contains
            <input name="filter-key" value={filter.key ?? ""} onInput={(e) => setFilter({ ...filter, key: e.currentTarget.value })} />
          </label>
          <label>
            Header (name or name=text)
            <input name="filter-header" value={filter.header ?? ""} onInput={(e) => setFilter({ ...filter, header: e.currentTarget.value })} />
          </label>
          <label>
            Value contains
            <input name="filter-text" value={filter.text ?? ""} onInput={(e) => setFilter({ ...filter, text: e.currentTarget.value })} />
          </label>
          <button type="submit" class="primary" disabled={busy || !s || chosen.length === 0}>
            {busy ? "Reading…" : "Show records"}
          </button>
        </div>
        {chosen.length === 1 ? (
          <CopyAs call={() => fetchCall(tenant, detail.name, chosen[0]!, s?.kind === "timestamp" ? { timestamp: s.timestamp, max_records: limit } : { offset: s?.kind === "offset" ? s.offset : 0, max_records: limit })} label="Copy fetch as…" />
        ) : null}
      </form>
      <ErrorBox error={error} />
      {busy && !page ? <Loading what="records" /> : null}
      {page ? (
        <div class="page-nav row wrap" role="navigation" aria-label="Record pages">
          <button type="button" disabled={busy || !page.hasPrev} onClick={() => run(() => pageBackward(source, page.start, page.bounds, opts()))}>
            ← Previous
          </button>
          <button type="button" disabled={busy || !page.hasNext} onClick={() => run(() => pageForward(source, page.end, page.bounds, opts()))}>
            Next →
          </button>
          <span class="hint" data-testid="page-range">
            {describeRange(page)} · {records.length} shown{makeFilter(filter) ? ` of ${page.scanned} read` : ""}
            {page.truncated ? " (stopped reading: refine the filter or go on)" : ""}
          </span>
          <span class="grow" />
          <button type="button" class="small" disabled={!exportSet.length} onClick={() => download(`${base}.json`, "application/json", toJsonExport(exportSet))}>
            Export JSON{selected.size ? ` (${selected.size})` : ""}
          </button>
          <button type="button" class="small" disabled={!exportSet.length} onClick={() => download(`${base}.csv`, "text/csv", toCsv(exportSet))}>
            Export CSV{selected.size ? ` (${selected.size})` : ""}
          </button>
        </div>
      ) : null}
      {page && records.length === 0 ? (
        <Empty>
          {Object.values(page.bounds).some((b) => b.highWatermark > b.logStart)
            ? `No records here${makeFilter(filter) ? " match the filters" : ""}.`
            : Object.keys(page.bounds).length === all.length
              ? "The topic holds no records yet: produce some, or watch the live tail."
              : "These partitions hold no records."}
        </Empty>
      ) : null}
      {records.length > 0 ? (
        <div class="table-wrap">
          <table class="records">
            <thead>
              <tr>
                <th scope="col">
                  <input
                    type="checkbox"
                    aria-label="Select all shown records"
                    checked={selected.size === records.length}
                    onChange={(e) => setSelected(e.currentTarget.checked ? new Set(records.map(idOf)) : new Set())}
                  />
                </th>
                <th scope="col" class="num">Partition</th>
                <th scope="col" class="num">Offset</th>
                <th scope="col">Time (UTC)</th>
                <th scope="col">Key</th>
                <th scope="col">Value</th>
                <th scope="col" class="num">Headers</th>
              </tr>
            </thead>
            <tbody>
              {records.map((r) => {
                const id = idOf(r);
                const isOpen = open === id;
                return (
                  <>
                    <tr class={isOpen ? "open" : ""} data-offset={r.offset} data-partition={r.partition}>
                      <td>
                        <input
                          type="checkbox"
                          aria-label={`Select record ${id}`}
                          checked={selected.has(id)}
                          onChange={(e) => {
                            const next = new Set(selected);
                            if (e.currentTarget.checked) next.add(id);
                            else next.delete(id);
                            setSelected(next);
                          }}
                        />
                      </td>
                      <td class="num">{r.partition}</td>
                      <td class="num">
                        <button type="button" class="link" aria-expanded={isOpen} onClick={() => setOpen(isOpen ? null : id)}>
                          {r.offset}
                        </button>
                      </td>
                      <td class="nowrap">{formatTimestamp(r.timestamp)}</td>
                      <td class="key">{escapeControls(keyText(r))}</td>
                      <td class="preview">
                        <span class={`fmt fmt-${r.value_format}`}>{r.value_format}</span> {previewText(r)}
                      </td>
                      <td class="num">{Object.keys(allHeaders(r)).length}</td>
                    </tr>
                    {isOpen ? (
                      <tr class="detail-row">
                        <td colSpan={7}>
                          <RecordDetail r={r} tenant={tenant} topic={detail.name} />
                        </td>
                      </tr>
                    ) : null}
                  </>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
