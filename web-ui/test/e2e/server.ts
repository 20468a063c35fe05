// Runs a real `weir serve` on loopback ephemeral ports with a fresh data directory, reads its
// REST address and bootstrap admin key, and stops it by PID (SIGTERM).

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
/** web-ui/.test-build/test/e2e → the repository root. */
export const REPO = resolve(here, "../../../..");

export function weirBinary(): string {
  const candidates = [
    process.env.WEIR_BIN,
    process.env.CARGO_TARGET_DIR && join(process.env.CARGO_TARGET_DIR, "debug/weir"),
    join(REPO, "target/debug/weir"),
  ].filter((x): x is string => !!x);
  const bin = candidates.find((c) => existsSync(c));
  if (!bin) throw new Error(`no weir binary (looked at ${candidates.join(", ")}): run cargo build -p weir-server --bin weir`);
  return bin;
}

export interface Weir {
  url: string;
  token: string;
  dataDir: string;
  proc: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

export async function startWeir(): Promise<Weir> {
  const dataDir = mkdtempSync(join(tmpdir(), "weir-ui-"));
  const proc = spawn(
    weirBinary(),
    ["serve", "--data-dir", dataDir, "--http-addr", "127.0.0.1:0", "--grpc-addr", "127.0.0.1:0"],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, WEIR_LOG: process.env.WEIR_LOG ?? "warn" } },
  );
  let out = "";
  proc.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((ok, fail) => {
    const deadline = setTimeout(() => fail(new Error(`weir did not start in 60 s:\n${out}`)), 60_000);
    const check = () => {
      const m = /weir: rest listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(deadline);
        ok(m[1]!);
      }
    };
    proc.stdout!.on("data", check);
    proc.on("exit", (code) => {
      clearTimeout(deadline);
      fail(new Error(`weir exited (${code}) before listening:\n${out}`));
    });
  });
  const token = readFileSync(join(dataDir, "bootstrap-admin.token"), "utf8").trim();
  return {
    url,
    token,
    dataDir,
    proc,
    output: () => out,
    async stop() {
      if (proc.exitCode === null && proc.pid) {
        const exited = new Promise((r) => proc.once("exit", r));
        process.kill(proc.pid, "SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A REST call with the admin key, for set-up and for checking what the console did. */
export async function rest<T = unknown>(w: Weir, method: string, path: string, body?: unknown, token = w.token): Promise<{ status: number; body: T }> {
  const init: RequestInit = { method, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" } };
  if (body !== undefined) init.body = JSON.stringify(body);
  const resp = await fetch(w.url + path, init);
  const text = await resp.text();
  return { status: resp.status, body: (text ? JSON.parse(text) : undefined) as T };
}
