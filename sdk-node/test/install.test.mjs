// The install contract: `npm install <path to sdk-node>` from another project runs the package's
// install script (which builds the addon with cargo; no devDependency involved) and the
// package then loads with both `require` and `import`, as one set of objects.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

import { SDK_DIR } from './server.mjs';

const exec = promisify(execFile);

test('npm install ./sdk-node builds the addon and loads with require and import', async () => {
  const app = mkdtempSync(path.join(tmpdir(), 'weir-node-app-'));
  try {
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const installed = await exec(npm, ['install', '--no-audit', '--no-fund', '--foreground-scripts', SDK_DIR], {
      cwd: app,
      timeout: 900_000,
      maxBuffer: 64 << 20,
    });
    assert.match(installed.stderr + installed.stdout, /weir-client: built .*weir\.node/, 'the install script built the addon');
    assert.ok(existsSync(path.join(app, 'node_modules', 'weir-client', 'weir.node')));

    const cjs = await exec(process.execPath, ['-e', `
      const weir = require('weir-client');
      const names = ['Admin', 'Producer', 'Consumer', 'WeirError'].map((n) => typeof weir[n]);
      console.log(JSON.stringify({ names, p: weir.partitionForKey('user-1', 6) }));
    `], { cwd: app, timeout: 30_000 });
    const esm = await exec(process.execPath, ['--input-type=module', '-e', `
      import { Admin, Producer, Consumer, WeirError, partitionForKey } from 'weir-client';
      import { createRequire } from 'node:module';
      const require = createRequire(process.cwd() + '/');
      const same = require('weir-client').WeirError === WeirError;
      const names = [Admin, Producer, Consumer, WeirError].map((c) => typeof c);
      console.log(JSON.stringify({ names, p: partitionForKey('user-1', 6), same }));
    `], { cwd: app, timeout: 30_000 });
    const fromCjs = JSON.parse(cjs.stdout);
    const fromEsm = JSON.parse(esm.stdout);
    assert.deepEqual(fromCjs.names, ['function', 'function', 'function', 'function']);
    assert.deepEqual(fromEsm.names, fromCjs.names);
    assert.equal(fromEsm.p, fromCjs.p);
    assert.equal(fromEsm.same, true, 'ESM and CJS share one WeirError');
  } finally {
    rmSync(app, { recursive: true, force: true });
  }
});
