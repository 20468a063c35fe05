"""Runs the real ``weir`` binary for the tests and the benchmark.

Starts ``weir serve`` on ephemeral loopback ports with its own data directory, reads the
addresses it prints (``weir: rest listening on http://...`` and ``weir: grpc listening on
...``), reads the bootstrap admin token when the server wrote one, and stops the process by its
PID (SIGTERM, then SIGKILL if it does not exit in time). Every wait is bounded.

The binary is ``$WEIR_BIN`` when set, else ``${CARGO_TARGET_DIR:-<repo>/target}/debug/weir``
(``scripts/test-python`` builds it when missing).
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Optional, Tuple

REPO = Path(__file__).resolve().parents[2]
#: How long a server may take to print its addresses.
START_TIMEOUT = 60.0
#: How long a stopping server may take to exit.
STOP_TIMEOUT = 30.0
#: Bound on one REST call of the tests.
HTTP_TIMEOUT = 15.0
TOKEN_FILE = "bootstrap-admin.token"


def weir_bin() -> Path:
    """The ``weir`` binary the tests run."""
    explicit = os.environ.get("WEIR_BIN")
    if explicit:
        return Path(explicit)
    target = Path(os.environ.get("CARGO_TARGET_DIR") or REPO / "target")
    return target / "debug" / "weir"


class WeirServer:
    """A running ``weir serve``: ``grpc`` (for clients), ``http`` (REST), ``token``."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.http = ""
        self.grpc = ""
        self.token: Optional[str] = None
        self._proc: Optional[subprocess.Popen[bytes]] = None
        self._lines: "queue.Queue[Optional[str]]" = queue.Queue()

    def start(self) -> "WeirServer":
        """Starts the process and waits for its addresses (at most ``START_TIMEOUT``)."""
        binary = weir_bin()
        if not binary.exists():
            raise RuntimeError(
                f"{binary} is missing: build it with `cargo build -p weir-server --bin weir` "
                "or set WEIR_BIN"
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, WEIR_LOG=os.environ.get("WEIR_LOG", "warn"))
        self._proc = subprocess.Popen(
            [
                str(binary),
                "serve",
                "--data-dir",
                str(self.data_dir),
                "--http-addr",
                "127.0.0.1:0",
                "--grpc-addr",
                "127.0.0.1:0",
            ],
            stdout=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env=env,
        )
        threading.Thread(target=self._read_stdout, daemon=True).start()
        deadline = time.monotonic() + START_TIMEOUT
        while not (self.http and self.grpc):
            left = deadline - time.monotonic()
            try:
                line = self._lines.get(timeout=max(left, 0.01))
            except queue.Empty:
                line = None
                left = 0
            if line is None and (left <= 0 or self._proc.poll() is not None):
                self.stop()
                raise RuntimeError(f"weir did not print its addresses within {START_TIMEOUT}s")
            if line is None:
                continue
            if line.startswith("weir: rest listening on "):
                self.http = line.split(" on ", 1)[1].strip()
            elif line.startswith("weir: grpc listening on "):
                address = line.split(" on ", 1)[1].strip()
                self.grpc = address if "://" in address else f"http://{address}"
        token_file = self.data_dir / TOKEN_FILE
        if token_file.exists():
            self.token = token_file.read_text().strip()
        return self

    def _read_stdout(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for raw in self._proc.stdout:
            self._lines.put(raw.decode(errors="replace").rstrip("\n"))
        self._lines.put(None)

    @property
    def pid(self) -> int:
        """The server's process id."""
        assert self._proc is not None
        return self._proc.pid

    def stop(self) -> Optional[int]:
        """SIGTERM by PID, wait for the exit (SIGKILL after ``STOP_TIMEOUT``); returns the
        exit status. Does nothing when already stopped."""
        proc, self._proc = self._proc, None
        if proc is None:
            return None
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                return proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                return proc.wait(timeout=STOP_TIMEOUT)
        return proc.returncode

    def client_args(self) -> dict[str, Any]:
        """``url`` and ``token`` for every client."""
        return {"url": self.grpc, "token": self.token}

    def rest(self, method: str, path: str, body: Any = None) -> Tuple[int, Any]:
        """One REST call with the bearer token (when there is one): (status, parsed JSON)."""
        status, text = self.http_call(method, path, body)
        return status, (json.loads(text) if text else None)

    def http_call(self, method: str, path: str, body: Any = None) -> Tuple[int, bytes]:
        """One HTTP call with the bearer token (when there is one): (status, raw body)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.http + path, data=data, method=method)
        if data is not None:
            request.add_header("content-type", "application/json")
        if self.token:
            request.add_header("authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()
