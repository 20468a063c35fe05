import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { curl, node, pyLiteral, python, shellQuote } from "../../src/lib/snippets.ts";

const base = "http://127.0.0.1:8780";

describe("copy as curl / Python / Node", () => {
  test("shell quoting survives single quotes", () => {
    assert.equal(shellQuote("it's"), `'it'"'"'s'`);
  });
  test("curl: method, URL, bearer from the environment, JSON body", () => {
    const s = curl(base, { method: "POST", path: "/v1/tenants/default/topics", body: { name: "o'k", partitions: 3 } });
    assert.equal(
      s,
      [
        "curl -sS --fail-with-body -X POST 'http://127.0.0.1:8780/v1/tenants/default/topics'",
        '  -H "Authorization: Bearer $WEIR_TOKEN"',
        "  -H 'content-type: application/json'",
        `  -d '{"name":"o'"'"'k","partitions":3}'`,
      ].join(" \\\n"),
    );
  });
  test("no snippet ever contains a credential, only the variable", () => {
    for (const f of [curl, python, node]) {
      const s = f(base, { method: "DELETE", path: "/v1/tenants/default/keys/abc" });
      assert.match(s, /WEIR_TOKEN/);
      assert.doesNotMatch(s, /weir_[0-9a-f]{8}/);
    }
  });
  test("python literals", () => {
    assert.equal(pyLiteral({ a: true, b: null, c: [1, "x"] }), '{\n    "a": True,\n    "b": None,\n    "c": [\n        1,\n        "x",\n    ],\n}');
    const s = python(base, { method: "PATCH", path: "/v1/tenants/default/topics/t", body: { partitions: 4 } });
    assert.match(s, /requests\.request\(\n    "PATCH",/);
    assert.match(s, /json=\{\n        "partitions": 4,\n    \},/);
  });
  test("node uses fetch and JSON.stringify of the body", () => {
    const s = node(base, { method: "POST", path: "/v1/auth/token" });
    assert.match(s, /await fetch\("http:\/\/127\.0\.0\.1:8780\/v1\/auth\/token"/);
    assert.doesNotMatch(s, /body:/);
    const withBody = node(base, { method: "PUT", path: "/q", body: { x: 1 } });
    assert.match(withBody, /body: JSON\.stringify\(\{\n    "x": 1\n  \}\),/);
  });
});
