// Live tail of a topic over Server-Sent Events, read with fetch() streaming so the credential
// stays in the Authorization header. Pause closes the stream; resume reopens it with
// Last-Event-ID, so nothing produced in between is missed.

import { useEffect, useRef, useState } from "preact/hooks";
import { readEventStream } from "../api.ts";
import { CopyAs, CopyButton, Empty, ErrorBox } from "../components/ui.tsx";
import { allHeaders, escapeControls, exportRecord, formatTimestamp, keyText, previewText } from "../lib/format.ts";
import type { Rec, TopicDetail } from "../lib/types.ts";

const SHOWN_MAX = 500;
const RETRY_MS = 2000;

type Status = "connecting" | "live" | "paused" | "retrying";

export function LiveTail({ tenant, detail }: { tenant: string; detail: TopicDetail }) {
  const [from, setFrom] = useState<"latest" | "earliest">("latest");
  const [paused, setPaused] = useState(false);
  const [status, setStatus] = useState<Status>("connecting");
  const [rows, setRows] = useState<Rec[]>([]);
  const [count, setCount] = useState(0);
  const [error, setError] = useState<unknown>(undefined);
  const lastId = useRef<string | undefined>(undefined);
  const path = `/v1/tenants/${encodeURIComponent(tenant)}/topics/${encodeURIComponent(detail.name)}/records:stream?from=${from}`;

  useEffect(() => {
    if (paused) {
      setStatus("paused");
      return;
    }
    const ctl = new AbortController();
    let retry: number | undefined;
    const connect = async () => {
      setStatus(lastId.current ? "retrying" : "connecting");
      try {
        lastId.current = await readEventStream(
          path,
          {
            onOpen: () => {
              setStatus("live");
              setError(undefined);
            },
            onEvent: (ev) => {
              if (ev.event !== "record") return;
              if (ev.id) lastId.current = ev.id;
              const r = JSON.parse(ev.data) as Rec;
              setCount((c) => c + 1);
              setRows((list) => [r, ...list].slice(0, SHOWN_MAX));
            },
          },
          ctl.signal,
          lastId.current,
        );
      } catch (e) {
        setError(e);
      }
      if (!ctl.signal.aborted) {
        setStatus("retrying");
        retry = window.setTimeout(connect, RETRY_MS);
      }
    };
    void connect();
    return () => {
      ctl.abort();
      if (retry !== undefined) window.clearTimeout(retry);
    };
  }, [paused, path]);

  return (
    <section class="tail" aria-label="Live tail">
      <div class="row wrap toolbar">
        <button type="button" class={paused ? "primary" : ""} onClick={() => setPaused(!paused)}>
          {paused ? "Resume" : "Pause"}
        </button>
        <label>
          Start
          <select
            value={from}
            onChange={(e) => {
              lastId.current = undefined;
              setRows([]);
              setCount(0);
              setFrom(e.currentTarget.value as "latest" | "earliest");
            }}
          >
            <option value="latest">new records only</option>
            <option value="earliest">from the oldest record</option>
          </select>
        </label>
        <button type="button" class="small" onClick={() => setRows([])}>
          Clear
        </button>
        <span class={`badge status-${status}`} role="status" data-testid="tail-status">
          {status}
        </span>
        <span class="hint">
          {count} received{rows.length < count ? `, last ${rows.length} shown` : ""}
        </span>
        <span class="grow" />
        <CopyAs call={() => ({ method: "GET", path })} label="Copy stream as…" />
      </div>
      <ErrorBox error={error} title="The live tail lost its connection; retrying" />
      {rows.length === 0 ? (
        <Empty>{status === "live" ? "Waiting for records… new ones appear here as they are produced." : "Not connected."}</Empty>
      ) : (
        <div class="table-wrap">
          <table class="records tail-records">
            <thead>
              <tr>
                <th scope="col" class="num">Partition</th>
                <th scope="col" class="num">Offset</th>
                <th scope="col">Time (UTC)</th>
                <th scope="col">Key</th>
                <th scope="col">Value</th>
                <th scope="col">Headers</th>
                <th scope="col">
                  <span class="sr-only">Copy</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={`${r.partition}:${r.offset}`} data-offset={r.offset} data-partition={r.partition}>
                  <td class="num">{r.partition}</td>
                  <td class="num">{r.offset}</td>
                  <td class="nowrap">{formatTimestamp(r.timestamp)}</td>
                  <td class="key">{escapeControls(keyText(r))}</td>
                  <td class="preview">
                    <span class={`fmt fmt-${r.value_format}`}>{r.value_format}</span> {previewText(r, 200)}
                  </td>
                  <td>
                    {escapeControls(
                      Object.entries(allHeaders(r))
                        .map(([k, v]) => `${k}=${v}`)
                        .join(", "),
                    )}
                  </td>
                  <td>
                    <CopyButton text={() => JSON.stringify(exportRecord(r), null, 2)} label="Copy" />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
