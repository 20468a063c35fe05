"""The per-record paths under faults, against a real ``weir serve``: an idempotent producer
whose answers are lost and whose connections are cut retries and stores every record exactly
once (and, as a control, a producer without idempotence stores some twice through the same
fault); a rebalance while a member iterates loses no record; ``commit_async`` returns while
its answer is held up and reports the commit's failure without retrying it."""

from __future__ import annotations

import time
from typing import Callable, List, Set

import pytest

import weir
from conftest import eventually
from proxy import Proxy
from weir_server import WeirServer


def read_all(server: WeirServer, admin: weir.Admin, topic: str, partitions: int) -> List[str]:
    """Every record stored in ``topic`` (up to its end offsets now), read from the start."""
    stored = sum(o or 0 for o in admin.list_offsets(topic, "latest").values())
    values: List[str] = []
    with weir.Consumer(**server.client_args()) as c:
        c.assign([(topic, p) for p in range(partitions)])
        for p in range(partitions):
            c.seek((topic, p), 0)
        deadline = time.monotonic() + 60
        while len(values) < stored and time.monotonic() < deadline:
            values.extend(r.text() or "" for r in c.poll(timeout_ms=500))
    assert len(values) == stored, "every stored record was read back"
    return values


def send_through_lost_answers(
    server: WeirServer, admin: weir.Admin, topic: str, idempotence: bool
) -> List[str]:
    """Sends records through a proxy that loses the answers to the middle third and then
    cuts every connection; returns every value stored."""
    count = 6000
    with Proxy(server.grpc) as proxy:
        producer = weir.Producer(
            url=proxy.url,
            token=server.token,
            idempotence=idempotence,
            acks="all",
            linger_ms=2,
            retry_backoff_ms=20,
            request_timeout_ms=3000,
        )
        with producer:
            futures = [producer.send(topic, f"v{i}", key=f"k{i % 8}") for i in range(2000)]
            producer.flush()
            proxy.mute_answers()
            futures += [producer.send(topic, f"v{i}", key=f"k{i % 8}") for i in range(2000, 4000)]
            time.sleep(0.3)  # the server stores these; their answers are lost
            proxy.cut()
            futures += [producer.send(topic, f"v{i}", key=f"k{i % 8}") for i in range(4000, count)]
            producer.flush(timeout=60)
            for f in futures:
                f.result(timeout=10)
    values = read_all(server, admin, topic, 2)
    assert len(set(values)) == count, "no record lost"
    return values


def test_an_idempotent_producer_stores_each_record_once_through_lost_answers(
    server: WeirServer, admin: weir.Admin, new_topic: Callable[..., str]
) -> None:
    values = send_through_lost_answers(server, admin, new_topic(partitions=2), True)
    assert len(values) == 6000, f"{len(values) - 6000} records stored twice"


def test_control_without_idempotence_the_same_fault_stores_some_records_twice(
    server: WeirServer, admin: weir.Admin, new_topic: Callable[..., str]
) -> None:
    values = send_through_lost_answers(server, admin, new_topic(partitions=2), False)
    assert len(values) > 6000, "the fault made the producer resend batches the server had stored"


def test_a_rebalance_while_iterating_loses_no_record(
    server: WeirServer, admin: weir.Admin, new_topic: Callable[..., str]
) -> None:
    topic = new_topic(partitions=4)
    total = 1000
    with weir.Producer(**server.client_args()) as p:
        for i in range(total):
            p.send(topic, f"v{i}", key=f"k{i}")
    group = f"g-{topic}"
    options = dict(
        server.client_args(),
        group=group,
        topics=[topic],
        auto_offset_reset="earliest",
        heartbeat_interval_ms=100,
        session_timeout_ms=6000,
    )
    seen: Set[str] = set()
    first = weir.Consumer(**options)
    for r in first:
        seen.add(f"{r.partition}/{r.offset}")
        if len(seen) == 10:
            break
    # A second member joins and takes partitions from the first, which goes on iterating
    # (slowly, so records are left) through the rebalance and then stops at once.
    second = weir.Consumer(**options)
    deadline = time.monotonic() + 30
    for r in first:
        seen.add(f"{r.partition}/{r.offset}")
        if second.assignment() or time.monotonic() > deadline:
            break
        time.sleep(0.005)
    assert second.assignment(), "the second member got partitions"
    first.close()
    second.close()
    assert len(seen) < total

    # Nothing below a committed offset was skipped: every such record was handed out.
    for tp, offset in admin.committed_offsets(group, [topic]).items():
        missing = [o for o in range(offset) if f"{tp.partition}/{o}" not in seen]
        assert not missing, f"{tp} offsets {missing[:5]}… are committed but were never handed out"
    # A new member goes on from the commits; with the records handed out, that is everything.
    with weir.Consumer(**options) as third:

        def read() -> bool:
            for r in third.poll(timeout_ms=200):
                seen.add(f"{r.partition}/{r.offset}")
            return len(seen) == total

        eventually(read, "every record handed out by some member", timeout=60)


def test_commit_async_returns_at_once_and_reports_a_lost_answer(
    server: WeirServer, new_topic: Callable[..., str]
) -> None:
    topic = new_topic()
    with weir.Producer(**server.client_args()) as p:
        for i in range(4):
            p.send(topic, f"v{i}")
    with Proxy(server.grpc) as proxy:
        c = weir.Consumer(
            url=proxy.url,
            token=server.token,
            group=f"g-{topic}",
            auto_commit=False,
            fetch_wait_ms=100,
            request_timeout_ms=5000,
        )
        with c:
            c.assign([(topic, 0)])
            c.seek((topic, 0), 0)
            got: List[weir.Record] = []

            def all_four() -> bool:
                got.extend(c.poll(timeout_ms=200))
                return len(got) == 4

            eventually(all_four, "the 4 records handed out")
            proxy.mute_answers()
            started = time.monotonic()
            pending = c.commit_async()
            assert time.monotonic() - started < 1.0, "commit_async waited for the server"
            assert not pending.done()
            with pytest.raises(weir.Timeout):
                pending.result(timeout=0.2)
            # The server stored the offsets; its answer never arrives and the connection is
            # cut: the commit failed as far as the client knows, and it is not retried.
            proxy.cut()
            failure = pending.exception(timeout=15)
            assert isinstance(failure, weir.WeirError), failure
            assert pending.done()

            def committed() -> bool:
                try:
                    return c.committed((topic, 0)) == 4
                except weir.TransportError:
                    return False

            eventually(committed, "the server's commit seen through a new connection")
