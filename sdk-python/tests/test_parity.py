"""Parity with the Rust SDK: every public operation of the Rust `Admin`, `Producer` and
`Consumer` (as sdk-rust/api-surface.py reads them from the Rust source, less its RUST_ONLY
list) exists on `weir.Admin`/`Producer`/`Consumer` and on their `weir.aio` counterparts, under
the same snake_case name unless COVERED_BY names the Python operation that provides it. A
new Rust operation fails this test until Python has it (or it is listed below, with why)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Dict, List

import pytest

import weir
import weir.aio
from weir_server import REPO

SURFACE_SCRIPT = REPO / "sdk-rust" / "api-surface.py"

#: The Python classes of each Rust type, per flavour.
CLASSES: Dict[str, Dict[str, type]] = {
    "sync": {"Admin": weir.Admin, "Producer": weir.Producer, "Consumer": weir.Consumer},
    "aio": {
        "Admin": weir.aio.Admin,
        "Producer": weir.aio.Producer,
        "Consumer": weir.aio.Consumer,
    },
}

#: Rust operations Python provides under another name or through another operation:
#: "Type.rust_name" -> {flavour: Python attribute}.
COVERED_BY: Dict[str, Dict[str, str]] = {
    # The sync constructor connects; weir.aio clients connect in start() (or `async with`).
    "Admin.connect": {"sync": "__init__", "aio": "start"},
    # reset_offsets(..., dry_run=True) is the preview, as resetOffsets({ dryRun }) in Node.
    "Admin.preview_reset_offsets": {"sync": "reset_offsets", "aio": "reset_offsets"},
    # poll(max_records=...) bounds the records handed out.
    "Consumer.poll_up_to": {"sync": "poll", "aio": "poll"},
    # commit(offsets) commits given offsets; commit() the handed-out positions.
    "Consumer.commit_offsets": {"sync": "commit", "aio": "commit"},
    # The Rust Stream of records is Python's iteration: `for rec in c` / `async for rec in c`.
    "Consumer.stream": {"sync": "__iter__", "aio": "__aiter__"},
    # commit() returns an awaitable: leaving it running (a task) is the non-blocking commit.
    "Consumer.commit_async": {"aio": "commit"},
}

#: Rust operations Python lacks, knowingly ("Type.rust_name" -> {flavour: why}). Each must
#: really be missing (test_known_gaps_are_still_gaps), so the list shrinks when one is added.
#: None today.
KNOWN_GAPS: Dict[str, Dict[str, str]] = {}


def rust_surface() -> Dict[str, List[str]]:
    """The Rust operations the other SDKs must have, by type (RUST_ONLY left out)."""
    done = subprocess.run(
        [sys.executable, str(SURFACE_SCRIPT)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, f"{SURFACE_SCRIPT} failed:\n{done.stderr}"
    surface = json.loads(done.stdout)
    rust_only = set(surface["rust_only"])
    ops: Dict[str, List[str]] = surface["operations"]
    return {
        kind: [name for name in names if f"{kind}.{name}" not in rust_only]
        for kind, names in ops.items()
    }


def has_operation(cls: type, name: str) -> bool:
    return callable(getattr(cls, name, None))


def test_the_rust_surface_is_read() -> None:
    surface = rust_surface()
    assert set(surface) == {"Admin", "Producer", "Consumer"}
    # A few that must be there, so that a parser that finds nothing cannot pass.
    assert {"create_topic", "set_quotas", "usage"} <= set(surface["Admin"])
    assert {"send", "flush", "close"} <= set(surface["Producer"])
    assert {"poll", "commit", "seek_to_timestamp"} <= set(surface["Consumer"])
    assert "builder" not in surface["Producer"], "RUST_ONLY is applied"
    every = {f"{kind}.{name}" for kind, names in surface.items() for name in names}
    for entry in (*COVERED_BY, *KNOWN_GAPS):
        assert entry in every, f"{entry} is listed here but is no Rust operation to cover"


@pytest.mark.parametrize("flavour", sorted(CLASSES))
def test_python_has_every_rust_operation(flavour: str) -> None:
    missing = []
    for kind, names in rust_surface().items():
        cls = CLASSES[flavour][kind]
        for name in names:
            if flavour in KNOWN_GAPS.get(f"{kind}.{name}", {}):
                continue
            python_name = COVERED_BY.get(f"{kind}.{name}", {}).get(flavour, name)
            if not has_operation(cls, python_name):
                shown = name if python_name == name else f"{name} (as {python_name})"
                missing.append(f"{cls.__module__}.{cls.__qualname__}.{shown}")
    assert missing == [], "Rust SDK operations missing in Python: " + ", ".join(missing)


@pytest.mark.parametrize("flavour", sorted(CLASSES))
def test_known_gaps_are_still_gaps(flavour: str) -> None:
    for entry, flavours in KNOWN_GAPS.items():
        if flavour not in flavours:
            continue
        kind, _, name = entry.partition(".")
        cls = CLASSES[flavour][kind]
        assert not has_operation(cls, name), f"{entry} exists now: drop it from KNOWN_GAPS"
