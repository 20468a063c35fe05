"""Runs one command against a fresh ``weir serve``, for scripts/test-generated-clients.

Starts the real binary as the Python SDK's tests do (``sdk-python/tests/weir_server.py``:
ephemeral loopback ports, addresses read from stdout, the bootstrap admin key from
``<data>/bootstrap-admin.token``, stopped by PID), creates the fixtures below over REST, runs
the command with ``WEIR_URL`` (REST base URL) and ``WEIR_TOKEN`` (the admin key) in its
environment, stops the server and exits with the command's status.

Fixtures, for the schemathesis run (its config points path parameters at them) and harmless
for the client flows, which make their own tenant and topics:

- tenant ``st`` with topic ``events`` (3 partitions, 30 JSON records), topic ``doomed`` (for
  the fuzzer to delete) and group ``g`` (committed offsets, no members);
- tenant ``st-quotas``, whose quotas the fuzzer may set to anything without throttling the
  rest of the run;
- tenant ``st-gone``, which the fuzzer may delete.

Usage: python with_server.py [--timeout SECONDS] -- COMMAND [ARGS...]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "sdk-python" / "tests"))

from weir_server import WeirServer  # noqa: E402


def call(server: WeirServer, method: str, path: str, body: Any = None) -> Any:
    status, answer = server.rest(method, path, body)
    if status >= 300:
        raise RuntimeError(f"fixture {method} {path}: {status} {answer}")
    return answer


def fixtures(server: WeirServer) -> None:
    for tenant in ("st", "st-quotas", "st-gone"):
        call(server, "POST", "/v1/admin/tenants", {"name": tenant})
    call(server, "POST", "/v1/tenants/st/topics", {"name": "events", "partitions": 3})
    call(server, "POST", "/v1/tenants/st/topics", {"name": "doomed"})
    records = [{"key": f"k{i % 5}", "value": {"n": i}} for i in range(30)]
    call(server, "POST", "/v1/tenants/st/topics/events/records", {"records": records})
    offsets = [{"topic": "events", "partition": p, "offset": 0} for p in range(3)]
    call(server, "POST", "/v1/tenants/st/groups/g/offsets", {"offsets": offsets})


def main(argv: list[str]) -> int:
    timeout = 900.0
    if argv[:1] == ["--timeout"]:
        timeout = float(argv[1])
        argv = argv[2:]
    if argv[:1] != ["--"] or len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    command = argv[1:]
    with tempfile.TemporaryDirectory(prefix="weir-gc-") as data:
        server = WeirServer(Path(data)).start()
        try:
            if not server.token:
                raise RuntimeError("the server wrote no bootstrap-admin.token")
            fixtures(server)
            env = dict(os.environ, WEIR_URL=server.http, WEIR_TOKEN=server.token)
            try:
                return subprocess.run(command, env=env, timeout=timeout).returncode
            except subprocess.TimeoutExpired:
                print(f"error: {command[0]} did not finish within {timeout}s", file=sys.stderr)
                return 1
        finally:
            server.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
