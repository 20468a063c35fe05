// The README's Node example runs as written: the ```js block of the "## Node SDK" section runs
// as an ES module against a fresh server, with only its `const url = ...` line pointed at it and
// the token in WEIR_TOKEN, as the example says (server/bin/tests/readme_examples.rs does the same
// for the REST block).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';

import { Admin, partitionForKey } from '../index.mjs';
import { REPO, SDK_DIR, clientOptions, startServer } from './server.mjs';

const URL_LINE = "const url = 'http://127.0.0.1:8781';";

function nodeBlocks() {
  const readme = readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const section = readme.split('\n## Node SDK\n')[1].split(/\n## /)[0];
  return [...section.matchAll(/^```js\n(.*?)^```/gms)].map((m) => m[1]);
}

let server;

before(async () => {
  server = await startServer();
});

after(async () => {
  await server?.stop();
});

test('the README Node example runs as written', async () => {
  const blocks = nodeBlocks();
  assert.equal(blocks.length, 1);
  assert.ok(blocks[0].includes(URL_LINE), 'the example sets url');
  const script = blocks[0].replace(URL_LINE, `const url = '${server.grpc}';`);
  // Inside the package, so `import ... from 'weir-client'` resolves to it (package self-reference).
  const file = path.join(SDK_DIR, 'test', `.readme-example-${process.pid}.mjs`);
  writeFileSync(file, script);
  let out;
  try {
    out = await promisify(execFile)(process.execPath, [file], {
      env: { ...process.env, WEIR_TOKEN: server.token },
      timeout: 60_000,
    });
  } finally {
    rmSync(file, { force: true });
  }
  const partition = partitionForKey('user-1', 6);
  const lines = out.stdout.trim().split('\n');
  assert.deepEqual(lines, [
    `stored in partition ${partition} at offset 0`,
    `${partition} 0 user-1 { item: 'book', qty: 2 } web`,
    'more records: 0',
    'TOPIC_NOT_FOUND false',
  ]);
  const admin = new Admin(clientOptions(server));
  const group = await admin.describeGroup('billing');
  assert.equal(group.totalLag, 0, 'the example committed what it read');
});
