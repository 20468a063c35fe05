"""The README's Python quick start runs as written: every ```python block of the "## Python
SDK" section runs against a fresh server, only the `URL = ...` and `TOKEN = None` lines
pointed at it (as server/bin/tests/readme_examples.rs does for the REST block)."""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Callable, List

import weir
from weir_server import REPO, WeirServer

URL_LINE = 'URL = "http://127.0.0.1:8781"'
TOKEN_LINE = "TOKEN = None"


def python_blocks(heading: str = "## Python SDK") -> List[str]:
    readme = (REPO / "README.md").read_text()
    section = readme.split(heading, 1)[1]
    section = re.split(r"^## ", section, flags=re.M)[0]
    return re.findall(r"^```python\n(.*?)^```", section, flags=re.M | re.S)


def run_block(block: str, server: WeirServer) -> str:
    assert URL_LINE in block and TOKEN_LINE in block, "the example sets URL and TOKEN"
    script = block.replace(URL_LINE, f"URL = {server.grpc!r}")
    script = script.replace(TOKEN_LINE, f"TOKEN = {server.token!r}")
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, f"README example failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_readme_python_quick_start_runs_as_written(
    start_server: Callable[..., WeirServer],
) -> None:
    blocks = python_blocks()
    assert len(blocks) == 2
    server = start_server()
    sync_out = run_block(blocks[0], server)
    partition = weir.partition_for_key("user-1", 6)
    assert f"stored in partition {partition} at offset 0" in sync_out, sync_out
    assert (
        f"{partition} 0 b'user-1' {{'item': 'book', 'qty': 2}} [('source', b'web')]" in sync_out
    ), sync_out
    assert "TOPIC_NOT_FOUND False" in sync_out, sync_out
    admin = weir.Admin(**server.client_args())
    assert admin.describe_group("billing").total_lag == 0, "the example committed"

    async_out = run_block(blocks[1], server)
    first = 1 if weir.partition_for_key("user-2", 6) == partition else 0
    assert f"stored at offsets {[first, first + 1, first + 2]}" in async_out, async_out
    assert f"{first + 2} b'event 2'" in async_out, async_out
