// Prometheus text exposition: parse samples, sum them by label, and turn two scrapes of
// counters into per-second rates. Pure.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\S+)?$/;

function parseLabels(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    while (text[i] === "," || text[i] === " ") i++;
    const eq = text.indexOf("=", i);
    if (eq < 0) break;
    const name = text.slice(i, eq).trim();
    i = eq + 1;
    if (text[i] !== '"') break;
    i++;
    let v = "";
    while (i < text.length && text[i] !== '"') {
      if (text[i] === "\\" && i + 1 < text.length) {
        const n = text[i + 1];
        v += n === "n" ? "\n" : n;
        i += 2;
      } else {
        v += text[i];
        i++;
      }
    }
    i++;
    out[name] = v;
  }
  return out;
}

export function parseProm(text: string): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const value = m[4] === "+Inf" ? Infinity : m[4] === "-Inf" ? -Infinity : Number(m[4]);
    if (Number.isNaN(value)) continue;
    out.push({ name: m[1]!, labels: m[3] ? parseLabels(m[3]) : {}, value });
  }
  return out;
}

/** Sum of a metric over the samples whose labels include `where`. */
export function sum(samples: Sample[], name: string, where: Record<string, string> = {}): number {
  let total = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (Object.entries(where).every(([k, v]) => s.labels[k] === v)) total += s.value;
  }
  return total;
}

/** Per-second rate of a counter between two readings; a reset (restart) counts from zero. */
export function rate(before: number, after: number, seconds: number): number {
  if (seconds <= 0) return 0;
  const delta = after >= before ? after - before : after;
  return delta / seconds;
}

/** A bounded series of points for a chart. */
export class Series {
  readonly points: { t: number; v: number }[] = [];
  constructor(readonly capacity: number) {}
  push(t: number, v: number): void {
    this.points.push({ t, v });
    if (this.points.length > this.capacity) this.points.splice(0, this.points.length - this.capacity);
  }
  get last(): number | undefined {
    return this.points[this.points.length - 1]?.v;
  }
}
