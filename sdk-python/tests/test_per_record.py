"""The per-record paths under load, against a real ``weir serve``: many sends without waiting
keep call order within each partition and settle every future exactly once, in the blocking
and the asyncio producer; cancelling asyncio sends mid-batch never disturbs the others, which
are all delivered in order, and a send cancelled before it started sends nothing. (Lost
answers and retries, and a rebalance during iteration, are in test_faults.py.)"""

from __future__ import annotations

import asyncio
from typing import Callable, Dict, List

import weir
import weir.aio
from weir_server import WeirServer

COUNT = 10_000
KEYS = 16


def check_call_order(metas: List[weir.RecordMetadata], partitions: int) -> None:
    """Every record followed its key, and offsets grow in call order within a partition."""
    last: Dict[int, int] = {}
    for i, m in enumerate(metas):
        assert m.partition == weir.partition_for_key(f"k{i % KEYS}", partitions), i
        assert m.offset > last.get(m.partition, -1), f"record {i} out of call order"
        last[m.partition] = m.offset


def test_sends_keep_call_order_and_settle_each_future_once(
    server: WeirServer, new_topic: Callable[..., str]
) -> None:
    topic = new_topic(partitions=4)
    with weir.Producer(**server.client_args(), linger_ms=5) as p:
        futures = [p.send(topic, f"{i}", key=f"k{i % KEYS}") for i in range(COUNT)]
        p.flush(timeout=60)
        assert all(f.done() for f in futures), "a future was not settled by flush"
        metas = [f.result(timeout=0) for f in futures]
        assert [f.result(timeout=0) for f in futures] == metas, "a future settled twice"
    check_call_order(metas, 4)


def test_asyncio_sends_keep_call_order_and_cancelling_some_disturbs_no_other(
    server: WeirServer, admin: weir.Admin, new_topic: Callable[..., str]
) -> None:
    topic = new_topic(partitions=4)

    async def main() -> None:
        async with weir.aio.Producer(**server.client_args(), linger_ms=5) as p:
            # Every 10th send is cancelled before it starts: its record is never queued.
            tasks = [asyncio.create_task(p.send(topic, f"{i}", key=f"k{i % KEYS}")) for i in range(COUNT)]
            for t in tasks[::10]:
                t.cancel()
            # Every 10th of the rest is cancelled mid-batch, while its record is on its way:
            # the record may or may not be stored, but nothing else is disturbed.
            await asyncio.sleep(0)
            waiting = [t for i, t in enumerate(tasks) if i % 10 == 5]
            for t in waiting:
                t.cancel()
            outcomes = await asyncio.gather(*tasks, return_exceptions=True)
            await p.flush()
        cancelled = [i for i, o in enumerate(outcomes) if isinstance(o, asyncio.CancelledError)]
        assert len(cancelled) == 2 * COUNT // 10
        delivered = [(i, o) for i, o in enumerate(outcomes) if isinstance(o, weir.RecordMetadata)]
        assert len(delivered) == COUNT - len(cancelled), [o for o in outcomes if isinstance(o, Exception)][:3]
        last: Dict[int, int] = {}
        for i, m in delivered:
            assert m.partition == weir.partition_for_key(f"k{i % KEYS}", 4)
            assert m.offset > last.get(m.partition, -1), f"record {i} out of call order"
            last[m.partition] = m.offset

    asyncio.run(main())
    stored = sum(o or 0 for o in admin.list_offsets(topic, "latest").values())
    # The records cancelled before they started were never sent; every delivered one was.
    assert COUNT - 2 * COUNT // 10 <= stored <= COUNT - COUNT // 10
