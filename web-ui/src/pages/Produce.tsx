// Produce one record: key, value (JSON checked as you type, plain text or base64 bytes),
// headers, partition. Shows where the record landed.

import { useEffect, useState } from "preact/hooks";
import { get, request } from "../api.ts";
import { CopyAs, ErrorBox } from "../components/ui.tsx";
import { formatTimestamp, textToBase64 } from "../lib/format.ts";
import type { Call } from "../lib/snippets.ts";
import type { ProduceRecord, ProduceResponse, TopicSummary } from "../lib/types.ts";
import { href, onLink } from "../router.ts";
import { useSession } from "../session.tsx";

type ValueMode = "json" | "text" | "base64";

export interface ProduceForm {
  key: string;
  value: string;
  mode: ValueMode;
  headers: [string, string][];
  partition: string;
}

/** Checks the form; returns the record to send or the problem in plain words. */
export function buildRecord(f: ProduceForm): { record?: ProduceRecord; problem?: string } {
  const record: ProduceRecord = {};
  if (f.key !== "") record.key = f.key;
  switch (f.mode) {
    case "json":
      if (f.value.trim() === "") {
        record.value = null;
        break;
      }
      try {
        record.value = JSON.parse(f.value);
      } catch (e) {
        return { problem: `The value is not valid JSON: ${e instanceof Error ? e.message : String(e)}` };
      }
      break;
    case "text":
      record.value_b64 = textToBase64(f.value);
      break;
    case "base64": {
      const v = f.value.replace(/\s+/g, "");
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(v) || v.length % 4 !== 0) return { problem: "The value is not valid base64." };
      record.value_b64 = v;
      break;
    }
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of f.headers) {
    if (k.trim() === "" && v === "") continue;
    if (k.trim() === "") return { problem: "Every header needs a name." };
    headers[k.trim()] = v;
  }
  if (Object.keys(headers).length) record.headers = headers;
  if (f.partition.trim() !== "") {
    const p = Number(f.partition);
    if (!Number.isInteger(p) || p < 0) return { problem: "The partition must be a whole number, 0 or more." };
    record.partition = p;
  }
  return { record };
}

export function produceCall(tenant: string, topic: string, record: ProduceRecord): Call {
  return {
    method: "POST",
    path: `/v1/tenants/${encodeURIComponent(tenant)}/topics/${encodeURIComponent(topic)}/records`,
    body: { records: [record] },
  };
}

export function ProduceFormView({ tenant, topic: fixedTopic }: { tenant: string; topic?: string }) {
  const [topics, setTopics] = useState<string[] | null>(fixedTopic ? [fixedTopic] : null);
  const [topic, setTopic] = useState(fixedTopic ?? "");
  const [form, setForm] = useState<ProduceForm>({ key: "", value: "", mode: "json", headers: [["", ""]], partition: "" });
  const [result, setResult] = useState<ProduceResponse | null>(null);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (fixedTopic) return;
    get<{ topics: TopicSummary[] }>(`/v1/tenants/${encodeURIComponent(tenant)}/topics`).then(
      (r) => {
        setTopics(r.topics.map((t) => t.name));
        if (!topic && r.topics[0]) setTopic(r.topics[0].name);
      },
      (e) => setError(e),
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [tenant, fixedTopic]);

  const built = buildRecord(form);
  const jsonProblem = form.mode === "json" && built.problem?.startsWith("The value") ? built.problem : undefined;
  const landed = result?.results[0];
  return (
    <form
      class="card produce"
      aria-label="Produce a record"
      onSubmit={async (e) => {
        e.preventDefault();
        if (!built.record || !topic) return;
        setBusy(true);
        setError(undefined);
        setResult(null);
        try {
          setResult(await request<ProduceResponse>(produceCall(tenant, topic, built.record)));
        } catch (err) {
          setError(err);
        } finally {
          setBusy(false);
        }
      }}
    >
      <div class="row wrap">
        {fixedTopic ? null : (
          <label>
            Topic
            <select name="produce-topic" value={topic} onChange={(e) => setTopic(e.currentTarget.value)} required>
              {(topics ?? []).map((t) => (
                <option value={t}>{t}</option>
              ))}
            </select>
          </label>
        )}
        <label>
          Key
          <input name="produce-key" value={form.key} onInput={(e) => setForm({ ...form, key: e.currentTarget.value })} placeholder="none" />
        </label>
        <label>
          Partition
          <input
            name="produce-partition"
            inputMode="numeric"
            value={form.partition}
            onInput={(e) => setForm({ ...form, partition: e.currentTarget.value })}
            placeholder="by key / spread"
          />
        </label>
        <label>
          Value is
          <select name="produce-mode" value={form.mode} onChange={(e) => setForm({ ...form, mode: e.currentTarget.value as ValueMode })}>
            <option value="json">JSON</option>
            <option value="text">text</option>
            <option value="base64">bytes (base64)</option>
          </select>
        </label>
      </div>
      <label>
        Value
        <textarea
          name="produce-value"
          rows={6}
          spellcheck={false}
          value={form.value}
          aria-invalid={!!jsonProblem}
          aria-describedby="value-check"
          onInput={(e) => setForm({ ...form, value: e.currentTarget.value })}
          placeholder={form.mode === "json" ? '{"item": "book", "qty": 2}' : ""}
        />
      </label>
      <p id="value-check" class={jsonProblem ? "invalid" : "hint"} aria-live="polite">
        {form.mode === "json" ? (jsonProblem ?? (form.value.trim() ? "Valid JSON." : "Empty: a null value (tombstone).")) : ""}
      </p>
      <fieldset>
        <legend>Headers</legend>
        {form.headers.map(([k, v], i) => (
          <div class="row">
            <input
              aria-label={`Header ${i + 1} name`}
              placeholder="name"
              value={k}
              onInput={(e) => {
                const h = [...form.headers];
                h[i] = [e.currentTarget.value, v];
                setForm({ ...form, headers: h });
              }}
            />
            <input
              aria-label={`Header ${i + 1} value`}
              placeholder="value"
              value={v}
              onInput={(e) => {
                const h = [...form.headers];
                h[i] = [k, e.currentTarget.value];
                setForm({ ...form, headers: h });
              }}
            />
            <button
              type="button"
              class="small"
              aria-label={`Remove header ${i + 1}`}
              onClick={() => setForm({ ...form, headers: form.headers.filter((_, j) => j !== i) })}
            >
              ×
            </button>
          </div>
        ))}
        <button type="button" class="small" onClick={() => setForm({ ...form, headers: [...form.headers, ["", ""]] })}>
          Add header
        </button>
      </fieldset>
      {built.problem && !jsonProblem ? <p class="invalid">{built.problem}</p> : null}
      <div class="row wrap">
        <button type="submit" class="primary" disabled={busy || !built.record || !topic}>
          {busy ? "Sending…" : "Produce"}
        </button>
        {built.record && topic ? <CopyAs call={() => produceCall(tenant, topic, built.record!)} /> : null}
      </div>
      <ErrorBox error={error} />
      {landed ? (
        "error" in landed ? (
          <ErrorBox error={new Error(`${landed.error.code}: ${landed.error.message}`)} title="The record was not stored" />
        ) : (
          <p class="success" role="status" data-testid="produce-result">
            Stored in partition <strong>{landed.partition}</strong> at offset <strong>{landed.offset}</strong> (
            {formatTimestamp(landed.timestamp)} UTC).{" "}
            <a href={href("topics", topic)} onClick={onLink}>
              Browse {topic}
            </a>
          </p>
        )
      ) : null}
    </form>
  );
}

export function ProducePage({ initialTopic }: { initialTopic: string }) {
  const { session } = useSession();
  return (
    <div class="page">
      <h1>Produce</h1>
      <ProduceFormView tenant={session.tenant} {...(initialTopic ? { topic: initialTopic } : {})} />
    </div>
  );
}
