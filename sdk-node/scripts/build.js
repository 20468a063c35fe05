#!/usr/bin/env node
'use strict';
// Builds the native addon: `cargo build` of this directory's crate (weir-node), then copies the
// library cargo reports to ./weir.node. Runs as the package's `install` script (so
// `npm install ./sdk-node` from any project builds it) and as `npm run build`. Uses nothing but
// Node itself and cargo: no devDependency, no download beyond crates.io.
//
// Environment: WEIR_NODE_PROFILE=dev|release (default release), CARGO_TARGET_DIR (cargo's own),
// CARGO (the cargo binary, default `cargo`).

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const profile = process.env.WEIR_NODE_PROFILE || 'release';
const cargo = process.env.CARGO || 'cargo';
const target = path.join(root, 'weir.node');

function fail(message) {
  console.error(`weir-client: ${message}`);
  process.exit(1);
}

if (!['dev', 'release'].includes(profile)) fail(`WEIR_NODE_PROFILE must be dev or release, not ${profile}`);

const args = ['build', '--manifest-path', path.join(root, 'Cargo.toml'), '--lib', '--profile', profile,
  '--message-format=json-render-diagnostics'];
const child = spawn(cargo, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
let built = null;
let pending = '';
child.stdout.setEncoding('utf8');
child.stdout.on('data', (chunk) => {
  pending += chunk;
  const lines = pending.split('\n');
  pending = lines.pop();
  for (const line of lines) {
    if (!line.startsWith('{')) continue;
    const message = JSON.parse(line);
    if (message.reason === 'compiler-artifact' && message.target.name === 'weir_node') {
      built = message.filenames.find((f) => /\.(so|dylib|dll)$/.test(f)) || built;
    }
  }
});
child.on('error', (e) => {
  fail(`cannot run ${cargo} (${e.message}). Building the native addon needs the Rust toolchain: ` +
    'install it (https://rustup.rs) and run `npm run build` again.');
});
child.on('close', (code) => {
  if (code !== 0) fail(`cargo build failed with exit code ${code}`);
  if (!built) fail('cargo built no library for weir-node');
  // Copy next to the target, then rename: a process that has the old addon loaded keeps its
  // mapping intact.
  const tmp = `${target}.${process.pid}.tmp`;
  fs.copyFileSync(built, tmp);
  fs.renameSync(tmp, target);
  console.error(`weir-client: built ${target} (${profile}) from ${built}`);
});
