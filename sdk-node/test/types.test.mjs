// The shipped declarations compile under `tsc --strict` for ESM (.mts) and CommonJS (.cts)
// users, and they are precise enough to refuse misuse (so they are not `any`).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

import { SDK_DIR } from './server.mjs';

const tsc = path.join(SDK_DIR, 'node_modules', 'typescript', 'bin', 'tsc');
const run = (args) => promisify(execFile)(process.execPath, [tsc, ...args], { cwd: SDK_DIR, timeout: 120_000 });

test('index.d.ts and index.d.mts compile under tsc --strict', async () => {
  await run(['-p', 'test/types', '--strict']);
});

test('the declarations refuse misuse', async () => {
  const failed = await run(['-p', 'test/types-misuse', '--strict']).then(
    () => null,
    (e) => e.stdout,
  );
  assert.ok(failed, 'tsc accepted code that misuses the API');
  const errors = failed.split('\n').filter((line) => /error TS\d+/.test(line));
  // One error per marked line of misuse.mts, and no other.
  assert.equal(errors.length, 5, failed);
  for (const line of errors) assert.match(line, /misuse\.mts\(\d+,\d+\)/);
});
