// Parity with the Rust SDK: every public operation of the Rust `Admin`, `Producer` and
// `Consumer` (as sdk-rust/api-surface.py reads them from the Rust source, less its RUST_ONLY
// list) is a method of the exported classes' prototypes, under its camelCase name unless
// COVERED_BY names the Node method that provides it. A new Rust operation fails this test
// until Node has it (or it is listed below, with why). Runs `python3` (or $PYTHON) for the
// parser; skipped, saying so, where there is none.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';

import { Admin, Consumer, Producer } from '../index.mjs';
import { REPO } from './server.mjs';

const SURFACE_SCRIPT = path.join(REPO, 'sdk-rust', 'api-surface.py');
const CLASSES = { Admin, Producer, Consumer };

// Rust operations Node provides under another name or through another method:
// 'Type.rust_name' -> the Node method (a string or a symbol).
const COVERED_BY = {
  // resetOffsets(group, { dryRun: true }) is the preview.
  'Admin.preview_reset_offsets': 'resetOffsets',
  // poll({ maxRecords }) bounds the records handed out.
  'Consumer.poll_up_to': 'poll',
  // commit(offsets) commits given offsets; commit() the handed-out positions.
  'Consumer.commit_offsets': 'commit',
  // commit() returns a promise: not awaiting it at once is the non-blocking commit.
  'Consumer.commit_async': 'commit',
  // The Rust Stream of records is `for await (const record of consumer)`.
  'Consumer.stream': Symbol.asyncIterator,
};

// Rust operations Node lacks, knowingly ('Type.rust_name' -> why). Each must really be
// missing (see the last test), so the list shrinks when one is added. None today.
const KNOWN_GAPS = {};

const camel = (name) => name.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());

function python() {
  return process.env.PYTHON || 'python3';
}

/** The Rust operations the other SDKs must have, by type (RUST_ONLY left out); null when
 * there is no Python to run the parser. */
function rustSurface() {
  let out;
  try {
    out = execFileSync(python(), [SURFACE_SCRIPT], { encoding: 'utf8', timeout: 60_000 });
  } catch (e) {
    if (e.code === 'ENOENT') return null;
    throw new Error(`${SURFACE_SCRIPT} failed:\n${e.stderr ?? e.message}`);
  }
  const { operations, rust_only: rustOnly } = JSON.parse(out);
  const surface = {};
  for (const [kind, names] of Object.entries(operations)) {
    surface[kind] = names.filter((name) => !(`${kind}.${name}` in rustOnly));
  }
  return surface;
}

const hasMethod = (cls, name) => typeof cls.prototype[name] === 'function';

const surface = rustSurface();
const skip = surface ? false : `no ${python()} to run sdk-rust/api-surface.py (set PYTHON)`;

test('the Rust surface is read', { skip }, () => {
  assert.deepEqual(Object.keys(surface).sort(), ['Admin', 'Consumer', 'Producer']);
  for (const name of ['create_topic', 'set_quotas', 'usage']) assert.ok(surface.Admin.includes(name), name);
  for (const name of ['send', 'flush', 'close']) assert.ok(surface.Producer.includes(name), name);
  for (const name of ['poll', 'commit', 'seek_to_timestamp']) assert.ok(surface.Consumer.includes(name), name);
  assert.ok(!surface.Producer.includes('builder'), 'RUST_ONLY is applied');
  const every = new Set(Object.entries(surface).flatMap(([kind, names]) => names.map((n) => `${kind}.${n}`)));
  for (const entry of [...Object.keys(COVERED_BY), ...Object.keys(KNOWN_GAPS)]) {
    assert.ok(every.has(entry), `${entry} is listed here but is no Rust operation to cover`);
  }
});

test('Node has every Rust operation', { skip }, () => {
  const missing = [];
  for (const [kind, names] of Object.entries(surface)) {
    for (const name of names) {
      const entry = `${kind}.${name}`;
      if (entry in KNOWN_GAPS) continue;
      const nodeName = COVERED_BY[entry] ?? camel(name);
      if (!hasMethod(CLASSES[kind], nodeName)) {
        const shown = nodeName === camel(name) ? nodeName : `${name} (as ${String(nodeName)})`;
        missing.push(`${kind}.${shown}`);
      }
    }
  }
  assert.deepEqual(missing, [], `Rust SDK operations missing in Node: ${missing.join(', ')}`);
});

test('known gaps are still gaps', { skip }, () => {
  for (const entry of Object.keys(KNOWN_GAPS)) {
    const [kind, name] = entry.split('.');
    assert.ok(!hasMethod(CLASSES[kind], camel(name)), `${entry} exists now: drop it from KNOWN_GAPS`);
  }
});
