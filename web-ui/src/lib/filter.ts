// The message browser's filters: key, header and text in value. Pure.

import { allHeaders, keyText, valueBytes, valueText } from "./format.ts";
import type { Rec } from "./types.ts";

export interface RecordFilter {
  /** Substring of the key (case-insensitive). */
  key?: string;
  /** `name` (header present) or `name=text` (value contains text), case-insensitive. */
  header?: string;
  /** Substring of the value's text (JSON text, string, or binary read as Latin-1). */
  text?: string;
}

export function isEmptyFilter(f: RecordFilter): boolean {
  return !f.key?.trim() && !f.header?.trim() && !f.text?.trim();
}

function searchableValue(r: Rec): string {
  const bytes = r.value_format === "binary" ? valueBytes(r) : null;
  if (bytes) {
    let s = "";
    for (const b of bytes) s += String.fromCharCode(b);
    return s;
  }
  return valueText(r);
}

/** A predicate for `pageForward`/`pageBackward`, or undefined when nothing is filtered. */
export function makeFilter(f: RecordFilter): ((r: Rec) => boolean) | undefined {
  if (isEmptyFilter(f)) return undefined;
  const key = f.key?.trim().toLowerCase() ?? "";
  const text = f.text?.trim().toLowerCase() ?? "";
  const header = f.header?.trim() ?? "";
  const eq = header.indexOf("=");
  const hName = (eq >= 0 ? header.slice(0, eq) : header).trim().toLowerCase();
  const hValue = eq >= 0 ? header.slice(eq + 1).trim().toLowerCase() : null;
  return (r) => {
    if (key && !keyText(r).toLowerCase().includes(key)) return false;
    if (hName) {
      const hit = Object.entries(allHeaders(r)).some(
        ([k, v]) => k.toLowerCase() === hName && (hValue === null || v.toLowerCase().includes(hValue)),
      );
      if (!hit) return false;
    }
    if (text && !searchableValue(r).toLowerCase().includes(text)) return false;
    return true;
  };
}
