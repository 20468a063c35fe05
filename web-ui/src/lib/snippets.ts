// "Copy as curl / Python / Node" for a REST call. The credential is never written into a
// snippet: every snippet reads it from the WEIR_TOKEN environment variable. Pure.

export interface Call {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Path with its query, e.g. `/v1/tenants/default/topics`. */
  path: string;
  body?: unknown;
}

export type Language = "curl" | "python" | "node";

export const LANGUAGES: { id: Language; label: string }[] = [
  { id: "curl", label: "curl" },
  { id: "python", label: "Python" },
  { id: "node", label: "Node" },
];

/** Single-quotes a string for a POSIX shell. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'"'"'`)}'`;
}

function jsonBody(body: unknown, indent: number): string {
  return JSON.stringify(body, null, indent);
}

export function curl(base: string, c: Call): string {
  const lines = [`curl -sS --fail-with-body -X ${c.method} ${shellQuote(base + c.path)}`];
  lines.push(`  -H "Authorization: Bearer $WEIR_TOKEN"`);
  if (c.body !== undefined) {
    lines.push(`  -H 'content-type: application/json'`);
    lines.push(`  -d ${shellQuote(JSON.stringify(c.body))}`);
  }
  return lines.join(" \\\n");
}

/** Python literal of a JSON value (True/False/None). */
export function pyLiteral(v: unknown, indent = 0): string {
  const pad = "    ".repeat(indent + 1);
  const end = "    ".repeat(indent);
  if (v === null || v === undefined) return "None";
  if (v === true) return "True";
  if (v === false) return "False";
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : "None";
  if (typeof v === "string") return JSON.stringify(v);
  if (Array.isArray(v)) {
    if (v.length === 0) return "[]";
    return `[\n${v.map((x) => pad + pyLiteral(x, indent + 1)).join(",\n")},\n${end}]`;
  }
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length === 0) return "{}";
  return `{\n${entries.map(([k, x]) => `${pad}${JSON.stringify(k)}: ${pyLiteral(x, indent + 1)}`).join(",\n")},\n${end}}`;
}

export function python(base: string, c: Call): string {
  const out = [
    "import os, requests",
    "",
    `resp = requests.request(`,
    `    ${JSON.stringify(c.method)},`,
    `    ${JSON.stringify(base + c.path)},`,
    `    headers={"Authorization": "Bearer " + os.environ["WEIR_TOKEN"]},`,
  ];
  if (c.body !== undefined) out.push(`    json=${pyLiteral(c.body, 1)},`);
  out.push(")", "resp.raise_for_status()", c.method === "DELETE" ? 'print(resp.status_code)' : "print(resp.json())");
  return out.join("\n");
}

export function node(base: string, c: Call): string {
  const headers =
    c.body !== undefined
      ? `{ authorization: \`Bearer \${process.env.WEIR_TOKEN}\`, "content-type": "application/json" }`
      : `{ authorization: \`Bearer \${process.env.WEIR_TOKEN}\` }`;
  const out = [
    `const resp = await fetch(${JSON.stringify(base + c.path)}, {`,
    `  method: ${JSON.stringify(c.method)},`,
    `  headers: ${headers},`,
  ];
  if (c.body !== undefined) out.push(`  body: JSON.stringify(${jsonBody(c.body, 2).replace(/\n/g, "\n  ")}),`);
  out.push(
    "});",
    "if (!resp.ok) throw new Error(`${resp.status}: ${await resp.text()}`);",
    resp204(c.method),
  );
  return out.join("\n");
}

function resp204(method: Call["method"]): string {
  return method === "DELETE" ? "console.log(resp.status);" : "console.log(await resp.json());";
}

export function snippet(lang: Language, base: string, c: Call): string {
  switch (lang) {
    case "curl":
      return curl(base, c);
    case "python":
      return python(base, c);
    case "node":
      return node(base, c);
  }
}

/** Path segment encoding for names in URLs. */
export function seg(s: string): string {
  return encodeURIComponent(s);
}
