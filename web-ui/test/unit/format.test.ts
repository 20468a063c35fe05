import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  controlEscape,
  countControls,
  csvField,
  escapeControls,
  exportRecord,
  formatBytes,
  formatDuration,
  formatNumber,
  formatRate,
  formatTimestamp,
  hexDump,
  keyText,
  parseTimestamp,
  plural,
  previewText,
  quotaShare,
  splitControls,
  textToBase64,
  toCsv,
  toJsonExport,
  valueBytes,
  valueText,
} from "../../src/lib/format.ts";
import { makeFilter } from "../../src/lib/filter.ts";
import type { Rec } from "../../src/lib/types.ts";

const rec = (over: Partial<Rec>): Rec => ({
  partition: 0,
  offset: 0,
  timestamp: Date.UTC(2026, 10, 5, 14, 3, 7, 123),
  value_format: "null",
  headers: {},
  ...over,
});

describe("numbers, sizes, durations, times", () => {
  test("bytes", () => {
    assert.equal(formatBytes(0), "0 B");
    assert.equal(formatBytes(1023), "1023 B");
    assert.equal(formatBytes(1536), "1.5 KiB");
    assert.equal(formatBytes(1024 * 1024), "1 MiB");
    assert.equal(formatBytes(1073741824), "1 GiB");
    assert.equal(formatBytes(10.5 * 1024 * 1024), "10.5 MiB");
    assert.equal(formatBytes(-1), "unlimited");
    assert.equal(formatBytes(null), "—");
  });
  test("numbers and rates", () => {
    assert.equal(formatNumber(1234567), "1,234,567");
    assert.equal(formatRate(0.25, "records"), "0.25/s");
    assert.equal(formatRate(2.5, "records"), "2.5/s");
    assert.equal(formatRate(1234.4, "records"), "1,234/s");
    assert.equal(formatRate(2048, "bytes"), "2 KiB/s");
  });
  test("durations", () => {
    assert.equal(formatDuration(604800000), "7 d");
    assert.equal(formatDuration(90000), "1 min 30 s");
    assert.equal(formatDuration(86_400_000 + 3_600_000 + 5), "1 d 1 h");
    assert.equal(formatDuration(-1), "forever");
    assert.equal(formatDuration(0), "0 ms");
  });
  test("timestamps print in UTC and parse back", () => {
    const ms = Date.UTC(2026, 10, 5, 14, 3, 7, 123);
    assert.equal(formatTimestamp(ms), "2026-11-05 14:03:07.123");
    assert.equal(parseTimestamp("2026-11-05 14:03:07.123"), ms);
    assert.equal(parseTimestamp(String(ms)), ms);
    assert.equal(parseTimestamp("2026-11-05T14:03:07.123+01:00"), ms - 3_600_000);
    assert.equal(parseTimestamp("yesterday"), null);
    assert.equal(parseTimestamp(""), null);
  });
  test("counts take the singular for exactly one", () => {
    assert.equal(plural(1, "record"), "1 record");
    assert.equal(plural(0, "record"), "0 records");
    assert.equal(plural(2, "partition"), "2 partitions");
    assert.equal(plural(1234, "record"), "1,234 records");
    assert.equal(plural(1, "entry", "entries"), "1 entry");
    assert.equal(plural(3, "entry", "entries"), "3 entries");
    assert.equal(plural(1, "partition offset"), "1 partition offset");
  });
  test("quota share", () => {
    assert.equal(quotaShare(5, 0), null);
    assert.equal(quotaShare(5, 10), 0.5);
    assert.equal(quotaShare(50, 10), 1);
  });
});

describe("record contents", () => {
  test("hex dump: offsets, two groups, printable ASCII", () => {
    const bytes = new Uint8Array([...Array(18).keys()].map((i) => i + 0x3e));
    const [l1, l2] = hexDump(bytes).split("\n");
    assert.equal(l1, "00000000  3e 3f 40 41 42 43 44 45  46 47 48 49 4a 4b 4c 4d  |>?@ABCDEFGHIJKLM|");
    assert.match(l2!, /^00000010  4e 4f +\|NO\|$/);
    // The ASCII column lines up on a short last line.
    assert.equal(l2!.indexOf("|"), l1!.indexOf("|"));
    assert.equal(hexDump(new Uint8Array([0, 255])).endsWith("|..|"), true);
  });
  test("keys and values as text", () => {
    assert.equal(keyText(rec({ key: "user-1" })), "user-1");
    assert.equal(keyText(rec({ key: null, key_b64: "AAE=" })), "base64:AAE=");
    assert.equal(keyText(rec({})), "");
    assert.equal(valueText(rec({ value_format: "json", value: { a: [1, "x"] } })), '{"a":[1,"x"]}');
    assert.equal(valueText(rec({ value_format: "string", value: "plain" })), "plain");
    assert.equal(valueText(rec({ value_format: "binary", value_b64: "AAEC" })), "AAEC");
    assert.equal(textToBase64("héllo"), "aMOpbGxv");
  });
  test("export keeps JSON values as JSON and binary as base64", () => {
    const r = rec({ offset: 4, key: "k", value_format: "json", value: { n: 1 }, headers: { h: "v" }, headers_b64: { raw: "AA==" } });
    assert.deepEqual(exportRecord(r), {
      partition: 0,
      offset: 4,
      timestamp: r.timestamp,
      time: "2026-11-05 14:03:07.123",
      key: "k",
      value: { n: 1 },
      headers: { h: "v", raw: "base64:AA==" },
    });
    const parsed = JSON.parse(toJsonExport([r, rec({ offset: 5, value_format: "binary", value_b64: "AAEC" })]));
    assert.equal(parsed.length, 2);
    assert.equal(parsed[1].value_b64, "AAEC");
  });
  test("CSV quotes what needs quoting (RFC 4180)", () => {
    assert.equal(csvField("plain"), "plain");
    assert.equal(csvField('say "hi", then go'), '"say ""hi"", then go"');
    assert.equal(csvField("two\nlines"), '"two\nlines"');
    const csv = toCsv([rec({ key: "a,b", value_format: "json", value: { q: '"' }, headers: { x: "1" } })]);
    const [head, row] = csv.split("\r\n");
    assert.equal(head, "partition,offset,timestamp,key,value_format,value,headers");
    assert.equal(row, '0,0,2026-11-05 14:03:07.123,"a,b",json,"{""q"":""\\""""}","{""x"":""1""}"');
    assert.ok(csv.endsWith("\r\n"));
  });
});

describe("control characters are never shown raw", () => {
  // Every C0 control but tab, LF and CR; DEL; every C1 control.
  const controls = [
    ...Array.from({ length: 0x20 }, (_, i) => i).filter((c) => c !== 0x09 && c !== 0x0a && c !== 0x0d),
    0x7f,
    ...Array.from({ length: 0x20 }, (_, i) => 0x80 + i),
  ].map((c) => String.fromCharCode(c));
  const RAW = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;

  test("escapes: JSON's \\uXXXX form, tab/newline/CR and other text kept", () => {
    assert.equal(controls.length, 29 + 1 + 32);
    assert.equal(escapeControls("a\u0000b\u001b[31mred\u007f\u0085"), "a\\u0000b\\u001b[31mred\\u007f\\u0085");
    assert.equal(escapeControls("tab\tline\nret\r é ✓ 😀"), "tab\tline\nret\r é ✓ 😀");
    for (const c of controls) {
      assert.doesNotMatch(escapeControls(`x${c}y`), RAW, `U+${c.charCodeAt(0).toString(16)}`);
      assert.equal(escapeControls(c), controlEscape(c));
    }
    assert.equal(countControls(controls.join("") + "\t\n\r plain"), controls.length);
    assert.equal(countControls("plain"), 0);
  });
  test("split into plain runs and marked control characters, losing nothing", () => {
    const s = "\u0001ab\u0002\u0003c";
    const parts = splitControls(s);
    assert.deepEqual(parts, [
      { text: "\u0001", control: true },
      { text: "ab", control: false },
      { text: "\u0002", control: true },
      { text: "\u0003", control: true },
      { text: "c", control: false },
    ]);
    assert.equal(parts.map((p) => p.text).join(""), s);
    assert.deepEqual(splitControls("plain"), [{ text: "plain", control: false }]);
    assert.deepEqual(splitControls(""), []);
  });
  test("previews: strings and JSON escaped, binary as size and hex, never a raw control", () => {
    assert.equal(previewText(rec({ value_format: "string", value: "hi\u0001\u001b[0m" })), "hi\\u0001\\u001b[0m");
    // JSON.stringify escapes C0 itself; DEL and C1 are escaped too.
    assert.equal(previewText(rec({ value_format: "json", value: { s: "a\u0001\u007f" } })), '{"s":"a\\u0001\\u007f"}');
    assert.equal(previewText(rec({ value_format: "binary", value_b64: "AP8QIA==" })), "‹4 bytes› 00 ff 10 20");
    assert.equal(previewText(rec({ value_format: "binary", value_b64: "AQ==" })), "‹1 byte› 01");
    assert.equal(previewText(rec({ value_format: "binary", value_b64: "" })), "‹0 bytes›");
    const long = btoa(String.fromCharCode(...Array.from({ length: 20 }, (_, i) => i)));
    assert.equal(previewText(rec({ value_format: "binary", value_b64: long })), "‹20 bytes› 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f …");
    assert.equal(previewText(rec({ value_format: "binary", value_b64: "not base64!" })), "‹not base64›");
    assert.equal(previewText(rec({ value_format: "null" })), "");
    assert.equal(previewText(rec({ value_format: "string", value: "x".repeat(200) }), 10), "xxxxxxxxxx…");
    for (const c of controls) {
      assert.doesNotMatch(previewText(rec({ value_format: "string", value: `v${c}` })), RAW);
      assert.doesNotMatch(previewText(rec({ value_format: "json", value: [`v${c}`] })), RAW);
    }
  });
  test("value bytes: binary decoded, strings as UTF-8, nothing for JSON or bad base64", () => {
    assert.deepEqual(valueBytes(rec({ value_format: "binary", value_b64: "AP8QIA==" })), new Uint8Array([0, 255, 16, 32]));
    assert.deepEqual(valueBytes(rec({ value_format: "string", value: "é\u0001" })), new Uint8Array([0xc3, 0xa9, 1]));
    assert.equal(valueBytes(rec({ value_format: "binary", value_b64: "%%%" })), null);
    assert.equal(valueBytes(rec({ value_format: "json", value: 1 })), null);
    assert.equal(valueBytes(rec({ value_format: "null" })), null);
  });
});

describe("filters", () => {
  const rs = [
    rec({ offset: 0, key: "user-1", value_format: "json", value: { item: "Book" }, headers: { source: "web" } }),
    rec({ offset: 1, key: "user-2", value_format: "string", value: "hello world", headers: { source: "app" } }),
    rec({ offset: 2, key_b64: "/w==", value_format: "binary", value_b64: btoa("\u00ffsecret"), headers: {} }),
  ];
  const run = (f: Parameters<typeof makeFilter>[0]) => rs.filter(makeFilter(f) ?? (() => true)).map((r) => r.offset);
  test("no filter is no predicate", () => {
    assert.equal(makeFilter({ key: " ", header: "", text: "" }), undefined);
  });
  test("key, header (name or name=text) and value text, case-insensitive, combined with AND", () => {
    assert.deepEqual(run({ key: "USER" }), [0, 1]);
    assert.deepEqual(run({ header: "source" }), [0, 1]);
    assert.deepEqual(run({ header: "source=WE" }), [0]);
    assert.deepEqual(run({ header: "missing" }), []);
    assert.deepEqual(run({ text: "book" }), [0]);
    assert.deepEqual(run({ text: "secret" }), [2]);
    assert.deepEqual(run({ key: "user", text: "world" }), [1]);
  });
});
