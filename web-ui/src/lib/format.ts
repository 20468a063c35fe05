// Formatting of numbers, sizes, durations, timestamps and record contents, and the exports
// (JSON, CSV) of a selection of records. Pure functions.

import type { Rec } from "./types.ts";

const BYTE_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/** 1536 → "1.5 KiB"; negative values mean "unlimited" in topic settings. */
export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || Number.isNaN(n)) return "—";
  if (n < 0) return "unlimited";
  let v = n;
  let u = 0;
  while (v >= 1024 && u < BYTE_UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  const digits = u === 0 || v >= 100 ? 0 : v >= 10 ? 1 : 2;
  const fixed = v.toFixed(digits);
  const text = fixed.includes(".") ? fixed.replace(/\.?0+$/, "") : fixed;
  return `${text} ${BYTE_UNITS[u]}`;
}

/** 1234567 → "1,234,567". */
export function formatNumber(n: number | null | undefined): string {
  if (n === null || n === undefined || Number.isNaN(n)) return "—";
  return Math.round(n).toLocaleString("en-US");
}

/**
 * A count with its noun, singular for exactly one: (1, "record") → "1 record", (0, "record") →
 * "0 records", (1234, "record") → "1,234 records"; `many` for irregular plurals.
 */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatNumber(n)} ${Math.round(n) === 1 ? one : many}`;
}

/** Rates: 0.25 → "0.25/s", 1234.5 → "1,235/s". */
export function formatRate(perSec: number, unit: "records" | "bytes"): string {
  if (!Number.isFinite(perSec)) return "—";
  if (unit === "bytes") return `${formatBytes(perSec)}/s`;
  if (perSec > 0 && perSec < 10) return `${perSec.toFixed(perSec < 1 ? 2 : 1)}/s`;
  return `${formatNumber(perSec)}/s`;
}

const DURATION_UNITS: [number, string][] = [
  [86_400_000, "d"],
  [3_600_000, "h"],
  [60_000, "min"],
  [1000, "s"],
  [1, "ms"],
];

/** 604800000 → "7 d", 90000 → "1 min 30 s", -1 → "forever". */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return "—";
  if (ms < 0) return "forever";
  if (ms === 0) return "0 ms";
  const parts: string[] = [];
  let rest = ms;
  for (const [size, name] of DURATION_UNITS) {
    if (rest >= size) {
      const k = Math.floor(rest / size);
      parts.push(`${k} ${name}`);
      rest -= k * size;
    }
    if (parts.length === 2) break;
  }
  return parts.join(" ");
}

/** Milliseconds since the epoch → "2026-11-05 14:03:07.123" in UTC. */
export function formatTimestamp(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "—";
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return "—";
  return d.toISOString().replace("T", " ").replace("Z", "");
}

/** "2026-11-05 14:03:07" or "2026-11-05T14:03" (UTC) or a number of ms → ms; null if not a time. */
export function parseTimestamp(text: string): number | null {
  const t = text.trim();
  if (t === "") return null;
  if (/^\d+$/.test(t)) return Number(t);
  const iso = t.replace(" ", "T");
  const withZone = /[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? iso : `${iso}Z`;
  const ms = Date.parse(withZone);
  return Number.isNaN(ms) ? null : ms;
}

/**
 * Characters that must never reach the page raw: the C0 controls but tab, newline and carriage
 * return, DEL, and the C1 controls (U+0080–U+009F). A terminal escape (ESC [ 3 1 m) or a NUL
 * in a value would otherwise be invisible or garble what is around it.
 */
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g;

/** How many control characters `escapeControls` would escape. */
export function countControls(s: string): number {
  return s.match(CONTROL)?.length ?? 0;
}

/** The escape shown for a control character: JSON's form, "\u001b" for ESC. */
export function controlEscape(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

/** Text with every control character (see `CONTROL`) written as its "\uXXXX" escape. */
export function escapeControls(s: string): string {
  return s.replace(CONTROL, controlEscape);
}

/** Text cut into plain runs and single control characters, for showing the latter marked. */
export function splitControls(s: string): { text: string; control: boolean }[] {
  const out: { text: string; control: boolean }[] = [];
  let last = 0;
  for (const m of s.matchAll(CONTROL)) {
    if (m.index > last) out.push({ text: s.slice(last, m.index), control: false });
    out.push({ text: m[0], control: true });
    last = m.index + m[0].length;
  }
  if (last < s.length) out.push({ text: s.slice(last), control: false });
  return out;
}

export function base64ToBytes(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function bytesToBase64(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

/** UTF-8 text → base64 (for `key_b64` / `value_b64`). */
export function textToBase64(text: string): string {
  return bytesToBase64(new TextEncoder().encode(text));
}

/** Hex dump: 16 bytes a line, offset, hex in two groups of 8, printable ASCII. */
export function hexDump(bytes: Uint8Array): string {
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) {
    const row = bytes.subarray(i, i + 16);
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, "0"));
    const left = hex.slice(0, 8).join(" ");
    const right = hex.slice(8).join(" ");
    const ascii = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".")).join("");
    lines.push(`${i.toString(16).padStart(8, "0")}  ${left.padEnd(23)}  ${right.padEnd(23)}  |${ascii}|`);
  }
  return lines.join("\n");
}

/** A record's key as text: the UTF-8 key, or "base64:…" for a binary one, or "" for none. */
export function keyText(r: Rec): string {
  if (r.key !== null && r.key !== undefined) return r.key;
  if (r.key_b64) return `base64:${r.key_b64}`;
  return "";
}

/** A record's value as one string: JSON text, the string, base64 for binary, "" for null. */
export function valueText(r: Rec): string {
  switch (r.value_format) {
    case "json":
      return JSON.stringify(r.value);
    case "string":
      return String(r.value ?? "");
    case "binary":
      return r.value_b64 ?? "";
    case "null":
      return "";
  }
}

/**
 * The bytes of a record's value, for hex and base64 views: a binary value decoded, a string
 * as UTF-8 (what was stored, since the server sends a value as text only when it is UTF-8).
 * Null for JSON, null values, and base64 that does not decode.
 */
export function valueBytes(r: Rec): Uint8Array | null {
  switch (r.value_format) {
    case "binary":
      try {
        return base64ToBytes(r.value_b64 ?? "");
      } catch {
        return null;
      }
    case "string":
      return new TextEncoder().encode(String(r.value ?? ""));
    default:
      return null;
  }
}

/** Bytes as spaced hex, the first `max` of them: "00 ff 10 20". */
export function hexPrefix(bytes: Uint8Array, max: number): string {
  const hex = Array.from(bytes.subarray(0, max), (b) => b.toString(16).padStart(2, "0")).join(" ");
  return bytes.length > max ? `${hex} …` : hex;
}

/** Bytes shown at the start of a binary value's one-line preview. */
const PREVIEW_BYTES = 16;

/**
 * A record's value on one line, safe to show as it is: JSON text or the string with control
 * characters escaped, a binary value as its size and first bytes in hex ("‹4 bytes› 00 ff 10
 * 20"), "" for null; cut to `max` characters.
 */
export function previewText(r: Rec, max = 120): string {
  let t: string;
  if (r.value_format === "binary") {
    const bytes = valueBytes(r);
    t = bytes === null ? "‹not base64›" : `‹${plural(bytes.length, "byte")}› ${hexPrefix(bytes, PREVIEW_BYTES)}`.trimEnd();
  } else {
    t = escapeControls(valueText(r));
  }
  return t.length > max ? `${t.slice(0, max)}…` : t;
}

/** JSON with two-space indents; strings that are not JSON come back unchanged. */
export function prettyJson(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

/** Headers (text and base64 ones) as one flat map for display and export. */
export function allHeaders(r: Rec): Record<string, string> {
  const out: Record<string, string> = { ...r.headers };
  for (const [k, v] of Object.entries(r.headers_b64 ?? {})) out[k] = `base64:${v}`;
  return out;
}

/** A record as exported: partition, offset, time, key, value (JSON kept as JSON), headers. */
export function exportRecord(r: Rec): Record<string, unknown> {
  const out: Record<string, unknown> = {
    partition: r.partition,
    offset: r.offset,
    timestamp: r.timestamp,
    time: formatTimestamp(r.timestamp),
  };
  if (r.key_b64) out.key_b64 = r.key_b64;
  else out.key = r.key ?? null;
  if (r.value_format === "binary") out.value_b64 = r.value_b64 ?? null;
  else out.value = r.value_format === "null" ? null : r.value;
  out.headers = allHeaders(r);
  return out;
}

export function toJsonExport(records: Rec[]): string {
  return `${JSON.stringify(records.map(exportRecord), null, 2)}\n`;
}

/** RFC 4180: quote when needed, double the quotes. */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) || /^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const CSV_COLUMNS = ["partition", "offset", "timestamp", "key", "value_format", "value", "headers"];

export function toCsv(records: Rec[]): string {
  const rows = [CSV_COLUMNS.join(",")];
  for (const r of records) {
    rows.push(
      [
        String(r.partition),
        String(r.offset),
        formatTimestamp(r.timestamp),
        keyText(r),
        r.value_format,
        valueText(r),
        Object.keys(allHeaders(r)).length ? JSON.stringify(allHeaders(r)) : "",
      ]
        .map(csvField)
        .join(","),
    );
  }
  return `${rows.join("\r\n")}\r\n`;
}

/** Percentage of a quota (0 = unlimited → null). */
export function quotaShare(used: number, quota: number): number | null {
  if (!quota) return null;
  return Math.min(1, used / quota);
}
