import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseProm, rate, Series, sum } from "../../src/lib/prom.ts";
import { hasScope, identityFromJwt, takeFragmentToken } from "../../src/lib/session.ts";
import { SseParser } from "../../src/lib/sse.ts";

describe("SSE parsing", () => {
  test("events split across chunks, ids kept, comments and keep-alives ignored", () => {
    const p = new SseParser();
    assert.deepEqual(p.push(": keep-alive\n\nevent: rec"), []);
    assert.deepEqual(p.push('ord\nid: 0:1,1:0\ndata: {"offset":0}\n'), []);
    assert.deepEqual(p.push("\n"), [{ event: "record", id: "0:1,1:0", data: '{"offset":0}' }]);
    assert.equal(p.lastEventId, "0:1,1:0");
  });
  test("CRLF, multi-line data, default event name", () => {
    const p = new SseParser();
    const evs = p.push("data: a\r\ndata: b\r\n\r\ndata:c\n\n");
    assert.deepEqual(evs, [
      { event: "message", data: "a\nb" },
      { event: "message", data: "c" },
    ]);
  });
  test("a CR at the end of a chunk waits for its LF", () => {
    const p = new SseParser();
    assert.deepEqual(p.push("data: x\r"), []);
    assert.deepEqual(p.push("\n\r\n"), [{ event: "message", data: "x" }]);
  });
});

describe("Prometheus text", () => {
  const text = [
    "# HELP weir_bytes_in_total bytes",
    "# TYPE weir_bytes_in_total counter",
    'weir_bytes_in_total{tenant="default",topic="a",partition="0"} 100',
    'weir_bytes_in_total{tenant="default",topic="b",partition="0"} 50',
    'weir_bytes_in_total{tenant="acme",topic="a",partition="0"} 7',
    'weir_http_requests_total{route="/v1/x",note="a \\"q\\", b"} 3',
    "weir_up 1",
  ].join("\n");
  test("parse and sum by label", () => {
    const s = parseProm(text);
    assert.equal(s.length, 5);
    assert.equal(sum(s, "weir_bytes_in_total", { tenant: "default" }), 150);
    assert.equal(sum(s, "weir_bytes_in_total"), 157);
    assert.equal(s[3]!.labels.note, 'a "q", b');
    assert.equal(sum(s, "weir_up"), 1);
  });
  test("rates, counter resets, bounded series", () => {
    assert.equal(rate(100, 300, 2), 100);
    assert.equal(rate(300, 40, 2), 20);
    assert.equal(rate(1, 2, 0), 0);
    const series = new Series(3);
    for (let i = 0; i < 5; i++) series.push(i, i * 10);
    assert.deepEqual(series.points.map((p) => p.v), [20, 30, 40]);
    assert.equal(series.last, 40);
  });
});

describe("session", () => {
  const jwt = (claims: object) =>
    `e30.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.sig`;
  test("identity from a Weir token's claims", () => {
    assert.deepEqual(identityFromJwt(jwt({ sub: "key:abc", tid: "acme", scope: "topics:read groups:read", exp: 10 })), {
      subject: "key:abc",
      tenant: "acme",
      scopes: ["topics:read", "groups:read"],
      expiresAt: 10_000,
    });
    assert.equal(identityFromJwt(jwt({ sub: "x" })), null);
    assert.equal(identityFromJwt("weir_0123"), null);
  });
  test("sign-in link fragments: the token comes out, other parameters stay", () => {
    assert.deepEqual(takeFragmentToken("#token=weir_abc"), { token: "weir_abc", rest: "" });
    assert.deepEqual(takeFragmentToken("#token=weir_abc&tab=x"), { token: "weir_abc", rest: "#tab=x" });
    assert.deepEqual(takeFragmentToken("#other=1"), { token: null, rest: "#other=1" });
    assert.deepEqual(takeFragmentToken(""), { token: null, rest: "" });
  });
  test("scope patterns mirror the server's", () => {
    const id = { subject: "s", tenant: "t", scopes: ["topics:read:orders-*", "groups:write:billing"] };
    assert.equal(hasScope(id, "topics:read", "orders-eu"), true);
    assert.equal(hasScope(id, "topics:read", "audit"), false);
    assert.equal(hasScope(id, "groups:write", "billing"), true);
    assert.equal(hasScope(id, "topics:write", "orders-eu"), false);
    assert.equal(hasScope({ ...id, scopes: ["admin"] }, "topics:write", "x"), true);
  });
});
