"""Fixtures: a real ``weir serve`` per session (and per test where a test needs its own), an
``Admin`` on it, unique topic names, and a bounded ``eventually``."""

from __future__ import annotations

import sys
import time
import uuid
from pathlib import Path
from typing import Callable, Iterator, List, TypeVar

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import weir  # noqa: E402
from weir_server import WeirServer  # noqa: E402

T = TypeVar("T")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WeirServer]:
    """One server for the tests that can share it (each uses its own topics)."""
    s = WeirServer(tmp_path_factory.mktemp("weir-data")).start()
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., WeirServer]]:
    """Starts servers of the test's own (on `data_dir`, default a fresh one); all are stopped
    by PID when the test ends."""
    started: List[WeirServer] = []

    def start(data_dir: Path = tmp_path / "data") -> WeirServer:
        s = WeirServer(data_dir).start()
        started.append(s)
        return s

    try:
        yield start
    finally:
        for s in started:
            s.stop()


@pytest.fixture
def admin(server: WeirServer) -> weir.Admin:
    return weir.Admin(**server.client_args())


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def new_topic(admin: weir.Admin) -> Callable[..., str]:
    """Creates a topic with a unique name and returns the name."""

    def create(partitions: int = 1, prefix: str = "t") -> str:
        name = unique(prefix)
        admin.create_topic(name, partitions=partitions)
        return name

    return create


def eventually(check: Callable[[], T], what: str, timeout: float = 20.0) -> T:
    """Calls `check` until it returns a truthy value (returned) or `timeout` passes (fails)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what} not reached within {timeout}s (last: {value!r})")
        time.sleep(0.05)


def drain(consumer: weir.Consumer, n: int, timeout: float = 20.0) -> List[weir.Record]:
    """Polls until `n` records arrived (fails after `timeout`)."""
    out: List[weir.Record] = []
    deadline = time.monotonic() + timeout
    while len(out) < n:
        if time.monotonic() > deadline:
            pytest.fail(f"got {len(out)} of {n} records within {timeout}s")
        out.extend(consumer.poll(timeout_ms=200))
    return out
