// A JSON value as a collapsible tree (native <details>: keyboard and screen-reader friendly).

import { escapeControls, plural } from "../lib/format.ts";

const COLLAPSE_AT_DEPTH = 2;

function Scalar({ v }: { v: unknown }) {
  if (v === null) return <span class="j-null">null</span>;
  switch (typeof v) {
    case "string":
      return <span class="j-str">{escapeControls(JSON.stringify(v))}</span>;
    case "number":
      return <span class="j-num">{String(v)}</span>;
    case "boolean":
      return <span class="j-bool">{String(v)}</span>;
    default:
      return <span>{String(v)}</span>;
  }
}

function Node({ name, v, depth }: { name?: string; v: unknown; depth: number }) {
  const label = name !== undefined ? <span class="j-key">{escapeControls(JSON.stringify(name))}: </span> : null;
  if (v === null || typeof v !== "object") {
    return (
      <div class="j-line">
        {label}
        <Scalar v={v} />
      </div>
    );
  }
  const isArray = Array.isArray(v);
  const entries: [string | undefined, unknown][] = isArray
    ? (v as unknown[]).map((x) => [undefined, x])
    : Object.entries(v as Record<string, unknown>);
  const [open, close] = isArray ? ["[", "]"] : ["{", "}"];
  if (entries.length === 0) {
    return (
      <div class="j-line">
        {label}
        {open}
        {close}
      </div>
    );
  }
  return (
    <details class="j-node" open={depth < COLLAPSE_AT_DEPTH}>
      <summary>
        {label}
        {open}
        <span class="j-count">
          {" "}
          {isArray ? plural(entries.length, "item") : plural(entries.length, "key")} {close}
        </span>
      </summary>
      <div class="j-children">
        {entries.map(([k, x]) => (
          <Node name={k} v={x} depth={depth + 1} />
        ))}
      </div>
      <div class="j-line">{close}</div>
    </details>
  );
}

export function JsonView({ value }: { value: unknown }) {
  return (
    <div class="json">
      <Node v={value} depth={0} />
    </div>
  );
}
