// Runs the real `weir` binary for the tests: `weir serve` on ephemeral loopback ports with its
// own data directory; reads the addresses it prints and the bootstrap admin token; stops it by
// PID (SIGTERM, then SIGKILL when it does not exit in time). Every wait is bounded.
//
// The binary is $WEIR_BIN when set, else ${CARGO_TARGET_DIR:-<repo>/target}/debug/weir
// (scripts/test-node builds it when missing).

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const SDK_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPO = path.resolve(SDK_DIR, '..');
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;
const HTTP_TIMEOUT_MS = 15_000;

export function weirBin() {
  if (process.env.WEIR_BIN) return process.env.WEIR_BIN;
  return path.join(process.env.CARGO_TARGET_DIR || path.join(REPO, 'target'), 'debug', 'weir');
}

/** Starts a server; resolves with { grpc, http, token, pid, dataDir, stop() }. */
export async function startServer() {
  const bin = weirBin();
  if (!existsSync(bin)) {
    throw new Error(`${bin} is missing: build it with \`cargo build -p weir-server --bin weir\` or set WEIR_BIN`);
  }
  const dataDir = mkdtempSync(path.join(tmpdir(), 'weir-node-test-'));
  const child = spawn(bin, ['serve', '--data-dir', dataDir, '--http-addr', '127.0.0.1:0', '--grpc-addr', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, WEIR_LOG: process.env.WEIR_LOG || 'warn' },
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const server = {
    grpc: '',
    http: '',
    token: '',
    pid: child.pid,
    dataDir,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        process.kill(child.pid, 'SIGTERM');
        const timer = setTimeout(() => process.kill(child.pid, 'SIGKILL'), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  const lines = createInterface({ input: child.stdout });
  const ready = new Promise((resolve, reject) => {
    lines.on('line', (line) => {
      const rest = line.match(/^weir: rest listening on (\S+)/);
      const grpc = line.match(/^weir: grpc listening on (\S+)/);
      if (rest) server.http = rest[1];
      if (grpc) server.grpc = grpc[1].includes('://') ? grpc[1] : `http://${grpc[1]}`;
      if (server.http && server.grpc) resolve();
    });
    exited.then(({ code, signal }) => reject(new Error(`weir exited early (code ${code}, signal ${signal})`)));
  });
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`weir did not print its addresses within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
  });
  try {
    await Promise.race([ready, timeout]);
  } catch (e) {
    await server.stop();
    throw e;
  } finally {
    clearTimeout(timer);
  }
  lines.on('line', () => {}); // keep draining stdout
  server.token = readFileSync(path.join(dataDir, 'bootstrap-admin.token'), 'utf8').trim();
  return server;
}

/** Client options for a server. */
export function clientOptions(server) {
  return { url: server.grpc, tenant: 'default', token: server.token };
}

/** One REST call with the server's admin token; resolves with the parsed JSON answer. */
export async function rest(server, method, route, body) {
  const response = await fetch(`${server.http}${route}`, {
    method,
    headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

let topicCount = 0;
/** A topic name no other test of this process uses. */
export function uniqueTopic(prefix) {
  topicCount += 1;
  return `${prefix}-${process.pid}-${topicCount}`;
}

/** Polls until `count` records arrived or `timeoutMs` passed; resolves with the records. */
export async function pollUntil(consumer, count, timeoutMs = 20_000) {
  const records = [];
  const deadline = Date.now() + timeoutMs;
  while (records.length < count && Date.now() < deadline) {
    records.push(...(await consumer.poll({ timeoutMs: 500 })));
  }
  return records;
}
