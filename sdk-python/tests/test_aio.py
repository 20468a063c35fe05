"""asyncio clients through the real server: `await p.send(...)`, `async for rec in c`, the
event loop keeps running during waits, callbacks (plain and coroutine), Ctrl-C and close leave
the group."""

from __future__ import annotations

import asyncio
import textwrap
from typing import Any, Callable, Coroutine, List, Tuple, TypeVar

import pytest

import weir
import weir.aio
from conftest import unique
from test_groups import check_ctrl_c_leaves
from weir_server import WeirServer

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
    """Runs a coroutine on a fresh event loop, bounded in time."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


def test_async_produce_and_consume(server: WeirServer, admin: weir.Admin, new_topic: Callable[..., str]) -> None:
    t, group = new_topic(partitions=3), unique("aio")
    assigned: List[weir.TopicPartition] = []

    async def on_assign(partitions: List[weir.TopicPartition]) -> None:
        await asyncio.sleep(0)
        assigned.extend(partitions)

    async def main() -> Tuple[List[weir.RecordMetadata], List[weir.Record]]:
        async with weir.aio.Producer(**server.client_args(), compression="zstd") as p:
            metas = await asyncio.gather(
                *(p.send(t, value={"n": i}, key=f"k{i % 7}", headers={"i": str(i)}) for i in range(100))
            )
            metas.append(await p.send(t, b"last", key="k0"))
            await p.flush()
        got: List[weir.Record] = []
        async with weir.aio.Consumer(
            **server.client_args(),
            group=group,
            topics=[t],
            auto_commit=False,
            auto_offset_reset="earliest",
            on_assign=on_assign,
        ) as c:
            async for rec in c:
                got.append(rec)
                if len(got) == 101:
                    break
            await c.commit()
            assert await c.position((t, 0)) == await c.committed((t, 0))
            assert sorted(await c.assignment()) == [weir.TopicPartition(t, i) for i in range(3)]
        assert c.closed
        return metas, got

    metas, got = run(main())
    for i, meta in enumerate(metas[:100]):
        assert meta.partition == weir.partition_for_key(f"k{i % 7}", 3)
    # Records queued in call order: per partition, offsets follow the order of the sends.
    for p in range(3):
        offsets = [m.offset for m in metas if m.partition == p]
        assert offsets == sorted(offsets) and len(set(offsets)) == len(offsets)
    by_position = {(r.partition, r.offset): r for r in got}
    assert len(by_position) == 101
    for i, meta in enumerate(metas[:100]):
        rec = by_position[(meta.partition, meta.offset)]
        assert rec.json() == {"n": i} and rec.key == f"k{i % 7}".encode()
        assert rec.headers == [("i", str(i).encode())]
    assert by_position[(metas[100].partition, metas[100].offset)].value == b"last"
    assert sorted(assigned) == [weir.TopicPartition(t, i) for i in range(3)]
    info = admin.describe_group(group)
    assert info.members == [] and info.total_lag == 0


def test_waits_do_not_block_the_event_loop(server: WeirServer, new_topic: Callable[..., str]) -> None:
    t = new_topic()

    async def main() -> Tuple[int, List[weir.Record]]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        task = asyncio.create_task(ticker())
        async with weir.aio.Consumer(**server.client_args(), fetch_wait_ms=100) as c:
            await c.assign([(t, 0)])
            records = await c.poll(timeout_ms=1000)
        task.cancel()
        return ticks, records

    ticks, records = run(main())
    assert records == []
    assert ticks >= 20, f"the event loop ticked only {ticks} times during a 1 s poll"


def test_async_errors_and_close(server: WeirServer, new_topic: Callable[..., str]) -> None:
    t = new_topic()

    async def main() -> None:
        p = weir.aio.Producer(**server.client_args())
        with pytest.raises(weir.TopicNotFound):
            await p.send(unique("missing"), b"x")
        await p.close()
        with pytest.raises(weir.Closed):
            await p.send(t, b"x")
        with pytest.raises(weir.TopicNotFound):
            async with weir.aio.Consumer(
                **server.client_args(), group=unique("g"), topics=[unique("missing")]
            ):
                pass
        c = weir.aio.Consumer(**server.client_args(), auto_offset_reset="earliest")
        await c.assign([(t, 0)])
        await c.close()
        await c.close()
        assert [rec async for rec in c] == []
        with pytest.raises(weir.Closed):
            await c.poll()

    run(main())


CTRL_C_SCRIPT = textwrap.dedent(
    """
    import asyncio, signal, sys
    import weir.aio

    signal.signal(signal.SIGINT, signal.default_int_handler)
    url, token, group, topic = sys.argv[1], sys.argv[2] or None, sys.argv[3], sys.argv[4]

    async def main():
        async with weir.aio.Consumer(url=url, token=token, group=group, topics=[topic],
                                     auto_offset_reset="earliest",
                                     session_timeout_ms=60_000) as c:
            async for rec in c:
                print("ready", flush=True)

    asyncio.run(main())
    """
)


def test_ctrl_c_under_asyncio_run_leaves_the_group(
    server: WeirServer, new_topic: Callable[..., str]
) -> None:
    topic, group = new_topic(), unique("aio-ctrlc")
    check_ctrl_c_leaves(server, CTRL_C_SCRIPT, topic, group)
