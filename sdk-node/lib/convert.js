'use strict';
// JavaScript values → record bytes: keys and values as Buffer, string (UTF-8) or, for values,
// any other JSON-serialisable value (JSON.stringify); headers as an object, a Map or a list of
// [name, value] pairs. Never chooses anything the Rust SDK chooses (partitions, batching).

const { invalidArgument } = require('./errors.js');

/** Bytes of a Buffer, any TypedArray/DataView, an ArrayBuffer or a string; undefined else. */
function rawBytes(v) {
  if (Buffer.isBuffer(v)) return v;
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (ArrayBuffer.isView(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (v instanceof ArrayBuffer) return Buffer.from(v);
  return undefined;
}

function keyBytes(key) {
  if (key === undefined || key === null) return undefined;
  const bytes = rawBytes(key);
  if (bytes === undefined) throw invalidArgument(`a key must be a Buffer or a string, not ${typeof key}`);
  return bytes;
}

// null and undefined both become `undefined`: napi reads only that as "no bytes".
function valueBytes(value) {
  if (value === undefined || value === null) return undefined;
  const bytes = rawBytes(value);
  if (bytes !== undefined) return bytes;
  let text;
  try {
    text = JSON.stringify(value);
  } catch (e) {
    throw invalidArgument(`the value cannot be sent as JSON: ${e.message}`);
  }
  if (text === undefined) throw invalidArgument(`a value of type ${typeof value} cannot be sent`);
  return Buffer.from(text, 'utf8');
}

const NO_HEADERS = Object.freeze([]);

function headerList(headers) {
  if (headers === undefined || headers === null) return NO_HEADERS;
  let pairs;
  if (Array.isArray(headers)) pairs = headers;
  else if (headers instanceof Map) pairs = [...headers.entries()];
  else if (typeof headers === 'object') pairs = Object.entries(headers);
  else throw invalidArgument('headers must be an object, a Map or a list of [name, value] pairs');
  return pairs.map((pair) => {
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string') {
      throw invalidArgument('each header must be a [name, value] pair with a string name');
    }
    const [key, value] = pair;
    if (value === undefined || value === null) return { key, value: undefined };
    const bytes = rawBytes(value);
    if (bytes === undefined) throw invalidArgument(`header ${JSON.stringify(key)} must be a Buffer, a string or null`);
    return { key, value: bytes };
  });
}

const RECORD_KEYS = ['topic', 'key', 'value', 'headers', 'partition', 'timestamp'];

/** Puts the fields of `record` the addon takes, checked and as bytes, on `into` (no
 * allocation beyond the bytes: `send` runs this once per record). */
function recordIn(record, into) {
  if (record === null || typeof record !== 'object') throw invalidArgument('send takes a record object');
  for (const k in record) {
    if (!RECORD_KEYS.includes(k) && Object.hasOwn(record, k)) {
      throw invalidArgument(`unknown record field ${JSON.stringify(k)}`);
    }
  }
  if (typeof record.topic !== 'string' || record.topic === '') throw invalidArgument('a record needs a topic');
  const { partition, timestamp } = record;
  // NaN means "none" in the columns the addon takes: a NaN given here is refused.
  if (partition !== undefined && partition !== null && (typeof partition !== 'number' || Number.isNaN(partition))) {
    throw invalidArgument('partition must be a number');
  }
  if (timestamp !== undefined && timestamp !== null && (typeof timestamp !== 'number' || Number.isNaN(timestamp))) {
    throw invalidArgument('timestamp must be a number');
  }
  into.topic = record.topic;
  into.key = keyBytes(record.key);
  into.value = valueBytes(record.value);
  into.headers = headerList(record.headers);
  into.partition = partition ?? undefined;
  into.timestamp = timestamp ?? undefined;
}

/** Bytes of `parts` (Buffers or undefined) back to back, and each one's length (-1: none). */
function column(parts, lengths) {
  let total = 0;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    lengths[i] = part === undefined ? -1 : part.length;
    if (part !== undefined) total += part.length;
  }
  const bytes = Buffer.allocUnsafe(total);
  let at = 0;
  for (const part of parts) {
    if (part === undefined) continue;
    bytes.set(part, at);
    at += part.length;
  }
  return bytes;
}

/** The group the addon's `sendMany` takes: records (filled by `recordIn`) as columns, so one
 * crossing carries thousands of records without a property lookup per record. */
function groupIn(records) {
  const n = records.length;
  const topics = [];
  const topicIndex = new Map();
  const topic = new Uint32Array(n);
  const partition = new Float64Array(n);
  const timestamp = new Float64Array(n);
  const keys = new Array(n);
  const values = new Array(n);
  const headers = [];
  let last = null;
  let lastIndex = 0;
  for (let i = 0; i < n; i++) {
    const r = records[i];
    if (r.topic !== last) {
      lastIndex = topicIndex.get(r.topic);
      if (lastIndex === undefined) {
        lastIndex = topics.length;
        topics.push(r.topic);
        topicIndex.set(r.topic, lastIndex);
      }
      last = r.topic;
    }
    topic[i] = lastIndex;
    keys[i] = r.key;
    values[i] = r.value;
    partition[i] = r.partition ?? NaN;
    timestamp[i] = r.timestamp ?? NaN;
    if (r.headers.length > 0) headers.push({ index: i, headers: r.headers });
  }
  const keyLen = new Int32Array(n);
  const valueLen = new Int32Array(n);
  return {
    topics, topic, keys: column(keys, keyLen), keyLen, values: column(values, valueLen), valueLen,
    partition, timestamp, headers,
  };
}

module.exports = { groupIn, keyBytes, recordIn };
