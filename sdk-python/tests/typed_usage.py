"""A small program written against the public API with full annotations: mypy --strict checks
it against the stubs (test_typing.py), and test_typing.py also runs it against a server."""

from __future__ import annotations

import asyncio
import uuid
from typing import Dict, List, Optional

import weir
import weir.aio


def sync_usage(url: str, token: Optional[str]) -> Dict[str, int]:
    topic, group = f"typed-{uuid.uuid4().hex[:8]}", f"typed-{uuid.uuid4().hex[:8]}"
    admin = weir.Admin(url=url, tenant="default", token=token)
    info: weir.TopicInfo = admin.create_topic(topic, partitions=2, config={"retention_ms": 60_000})
    counts: Dict[str, int] = {"partitions": len(info.partitions)}
    with weir.Producer(url=url, token=token, compression="lz4", linger_ms=5, acks="all") as p:
        futures: List[weir.SendFuture] = [
            p.send(topic, value=b"bytes", key=b"k1", headers={"h": b"v"}),
            p.send(topic, value="text", key="k2", headers=[("h", "1"), ("h", None)]),
            p.send(topic, value={"json": [1, 2]}, partition=1, timestamp=1_700_000_000_000),
        ]
        metas: List[weir.RecordMetadata] = [f.result(timeout=10) for f in futures]
        p.flush(timeout=10)
    counts["sent"] = len(metas)
    revoked: List[weir.TopicPartition] = []
    with weir.Consumer(
        url=url,
        token=token,
        group=group,
        topics=[topic],
        auto_commit=False,
        auto_offset_reset="earliest",
        on_revoke=revoked.extend,
    ) as c:
        records: List[weir.Record] = []
        while len(records) < 3:
            records.extend(c.poll(timeout_ms=500))
        c.commit()
        tp = weir.TopicPartition(topic, 0)
        committed: Optional[int] = c.committed(tp)
        position: Optional[int] = c.position((topic, 1))
        c.pause([tp])
        c.resume([tp])
        counts["committed_p0"] = committed or 0
        counts["position_p1"] = position or 0
        headers = [h for r in records for h in r.headers]
        counts["headers"] = len(headers)
    counts["revoked"] = len(revoked)
    group_info: weir.GroupInfo = admin.describe_group(group)
    counts["lag"] = group_info.total_lag
    try:
        admin.describe_topic(topic + "-missing")
    except weir.TopicNotFound as e:
        code: Optional[str] = e.code
        retryable: bool = e.retryable
        counts["not_found"] = int(code == "TOPIC_NOT_FOUND" and not retryable)
    return counts


async def async_usage(url: str, token: Optional[str], topic: str) -> int:
    async with weir.aio.Producer(url=url, token=token) as p:
        meta: weir.RecordMetadata = await p.send(topic, value=b"async", key="k")
    async with weir.aio.Consumer(url=url, token=token, auto_offset_reset="earliest") as c:
        await c.assign([(topic, meta.partition)])
        async for rec in c:
            value: Optional[bytes] = rec.value
            assert value == b"async"
            break
    return meta.offset


def run_all(url: str, token: Optional[str]) -> Dict[str, int]:
    counts = sync_usage(url, token)
    topic = f"typed-{uuid.uuid4().hex[:8]}"
    weir.Admin(url=url, token=token).create_topic(topic)
    counts["async_offset"] = asyncio.run(async_usage(url, token, topic))
    return counts
