"""`weir.aio.Admin` through the real server: topics (create, list, describe, alter, offsets,
delete) and groups (list, describe, committed offsets, reset with dry run, delete), with the
same results and typed exceptions as `weir.Admin`, and the event loop free while it waits."""

from __future__ import annotations

import asyncio
from typing import Any, Callable, Coroutine, TypeVar

import pytest

import weir
import weir.aio
from conftest import drain, unique
from weir_server import WeirServer

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
    """Runs a coroutine on a fresh event loop, bounded in time."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


def test_async_admin_topics(server: WeirServer) -> None:
    name = unique("aadm")

    async def main() -> None:
        async with weir.aio.Admin(**server.client_args()) as admin:
            info = await admin.create_topic(name, 2, {"retention_ms": 86_400_000})
            assert [p.partition for p in info.partitions] == [0, 1]
            assert info.config["retention_ms"] == 86_400_000
            assert name in [t.name for t in await admin.list_topics()]
            with pytest.raises(weir.TopicAlreadyExists):
                await admin.create_topic(name)
            with pytest.raises(weir.InvalidArgument):
                await admin.create_topic(unique("aadm"), config={"retention": 1})

            info = await admin.alter_topic(name, partitions=3, config={"retention_ms": 3_600_000})
            assert len(info.partitions) == 3 and info.config["retention_ms"] == 3_600_000
            assert await admin.partition_count(name) == 3

            async with weir.aio.Producer(**server.client_args()) as p:
                await asyncio.gather(*(p.send(name, b"x", partition=1) for _ in range(3)))
            assert await admin.list_offsets(name) == {0: 0, 1: 3, 2: 0}
            assert await admin.list_offsets(name, "earliest", partitions=[1]) == {1: 0}
            assert (await admin.describe_topic(name)).partitions[1].high_watermark == 3

            # The event loop runs while a call waits.
            ticks = 0

            async def tick() -> None:
                nonlocal ticks
                while True:
                    ticks += 1
                    await asyncio.sleep(0)

            ticker = asyncio.ensure_future(tick())
            await admin.describe_topic(name)
            ticker.cancel()
            assert ticks > 0

            await admin.delete_topic(name)
            with pytest.raises(weir.TopicNotFound):
                await admin.describe_topic(name)
            await admin.close()

    run(main())


def test_async_admin_groups(
    server: WeirServer, admin: weir.Admin, new_topic: Callable[..., str]
) -> None:
    t, group = new_topic(partitions=2), unique("agrp")
    with weir.Producer(**server.client_args()) as p:
        for i in range(10):
            p.send(t, str(i), partition=i % 2)
    with weir.Consumer(
        **server.client_args(), group=group, topics=[t], auto_offset_reset="earliest"
    ) as c:
        drain(c, 10)
    tp0, tp1 = weir.TopicPartition(t, 0), weir.TopicPartition(t, 1)

    async def main() -> None:
        aadmin = weir.aio.Admin(**server.client_args())
        assert await aadmin.committed_offsets(group) == {tp0: 5, tp1: 5}
        assert await aadmin.committed_offsets(group, [t]) == {tp0: 5, tp1: 5}
        summary = [g for g in await aadmin.list_groups() if g.group == group]
        assert len(summary) == 1 and summary[0].members == 0
        assert (await aadmin.describe_group(group)).total_lag == 0

        preview = await aadmin.reset_offsets(group, "earliest", dry_run=True)
        assert sorted((c.partition, c.previous, c.offset) for c in preview) == [
            (0, 5, 0),
            (1, 5, 0),
        ]
        assert await aadmin.committed_offsets(group) == {tp0: 5, tp1: 5}
        changes = await aadmin.reset_offsets(group, "shift", -2, topics=[t])
        assert sorted((c.partition, c.offset) for c in changes) == [(0, 3), (1, 3)]
        assert (await aadmin.describe_group(group)).total_lag == 4
        with pytest.raises(weir.InvalidArgument):
            await aadmin.reset_offsets(group, "offset")
        await aadmin.delete_group(group)
        with pytest.raises(weir.GroupNotFound):
            await aadmin.describe_group(group)

    run(main())
    with pytest.raises(weir.GroupNotFound):
        admin.describe_group(group)
