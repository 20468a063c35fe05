"""Produce and consume through the real server: values (bytes, str, JSON), headers, every
compression, key partitioning (same as the Rust SDK, Kafka and REST produce), positions,
iteration, the delivery future, and that waits release the GIL."""

from __future__ import annotations

import threading
import time
from typing import Callable, List, Optional, Tuple

import pytest

import weir
from weir._types import Value
from conftest import drain, eventually, unique
from weir_server import WeirServer

CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]


def test_round_trip_of_bytes_str_and_json_values_with_headers(
    server: WeirServer, new_topic: Callable[..., str]
) -> None:
    t = new_topic()
    sent: List[Tuple[str, Value, Optional[bytes]]] = [
        ("bytes", b"\x00\x01raw\xff", b"\x00\x01raw\xff"),
        ("str", "h\u00e9llo", "h\u00e9llo".encode()),
        ("dict", {"item": "book", "qty": 2}, b'{"item":"book","qty":2}'),
        ("list", [1, "\u00e9"], '[1,"\u00e9"]'.encode()),
        ("bytearray", bytearray(b"ba"), b"ba"),
        ("tombstone", None, None),
    ]
    before = int(time.time() * 1000)
    with weir.Producer(**server.client_args(), linger_ms=1) as p:
        futures = [
            p.send(
                t,
                value=value,
                key=kind,
                headers={"kind": kind, "raw": b"\xfe", "null": None},
            )
            for kind, value, _ in sent
        ]
        metas = [f.result(timeout=10) for f in futures]
        repeated = p.send(t, b"r", headers=[("h", b"1"), ("h", "2")]).result(timeout=10)
    assert [(m.topic, m.partition, m.offset) for m in metas] == [
        (t, 0, i) for i in range(len(sent))
    ]
    assert all(before - 1000 <= m.timestamp <= int(time.time() * 1000) + 1000 for m in metas)

    with weir.Consumer(**server.client_args(), auto_offset_reset="earliest") as c:
        c.assign([(t, 0)])
        records = drain(c, len(sent) + 1)
    for rec, meta, (kind, _, expected) in zip(records, metas, sent):
        assert (rec.topic, rec.partition, rec.offset) == (t, 0, meta.offset)
        assert rec.timestamp == meta.timestamp
        assert rec.key == kind.encode()
        assert rec.value == expected
        assert rec.headers == [("kind", kind.encode()), ("raw", b"\xfe"), ("null", None)]
    assert records[1].text() == "h\u00e9llo"
    with pytest.raises(UnicodeDecodeError):
        records[0].text()  # b"\x00\x01raw\xff" is not UTF-8
    assert records[2].json() == {"item": "book", "qty": 2}
    assert records[5].value is None and records[5].json() is None
    assert records[6].offset == repeated.offset
    assert records[6].key is None
    assert records[6].headers == [("h", b"1"), ("h", b"2")]


@pytest.mark.parametrize("codec", CODECS)
def test_every_compression_round_trips_and_compresses(
    server: WeirServer, admin: weir.Admin, new_topic: Callable[..., str], codec: str
) -> None:
    t = new_topic()
    n, body = 200, b"weir streams records " * 50  # 1,000 compressible bytes
    with weir.Producer(**server.client_args(), compression=codec, linger_ms=50) as p:
        futures = [p.send(t, value=body + b"%03d" % i, key=f"k{i}") for i in range(n)]
        p.flush(timeout=30)
        assert all(f.done() for f in futures)
        assert sorted(f.result().offset for f in futures) == list(range(n))
    stored = admin.describe_topic(t).partitions[0].size_bytes
    raw = n * len(body)
    if codec == "none":
        assert stored > raw
    else:
        assert stored < raw / 4, f"{codec}: {stored} bytes stored for {raw} bytes of values"
    with weir.Consumer(**server.client_args(), auto_offset_reset="earliest") as c:
        c.assign([weir.TopicPartition(t, 0)])
        records = drain(c, n)
    assert [r.value for r in records] == [body + b"%03d" % i for i in range(n)]
    assert [r.key for r in records] == [f"k{i}".encode() for i in range(n)]


# Kafka's own vectors (UtilsTest.testMurmur2 and the default partitioner): murmur2 of the key,
# sign bit cleared, modulo the partition count.
KAFKA_VECTORS = [("foobar", 10, 6), ("foobar", 12, 6), ("a-little-bit-longer-string", 12, 11),
                 ("abc", 10, 7), ("anything", 1, 0)]


def test_keys_land_where_the_rust_sdk_kafka_and_rest_put_them(
    server: WeirServer, new_topic: Callable[..., str]
) -> None:
    for key, partitions, expected in KAFKA_VECTORS:
        assert weir.partition_for_key(key, partitions) == expected
        assert weir.partition_for_key(key.encode(), partitions) == expected
    t = new_topic(partitions=6)
    keys = [f"user-{i}" for i in range(60)] + ["foobar", "abc"]
    with weir.Producer(**server.client_args(), linger_ms=2) as p:
        first = [p.send(t, value=b"1", key=k) for k in keys]
        second = [p.send(t, value=b"2", key=k.encode()) for k in keys]
        sdk = {k: f.result(timeout=10).partition for k, f in zip(keys, first)}
        again = {k: f.result(timeout=10).partition for k, f in zip(keys, second)}
    assert sdk == again, "the same key went to different partitions"
    assert sdk == {k: weir.partition_for_key(k, 6) for k in keys}
    assert len(set(sdk.values())) == 6, "keys should spread over every partition"
    status, body = server.rest(
        "POST",
        f"/v1/tenants/default/topics/{t}/records",
        {"records": [{"key": k, "value": "3"} for k in keys]},
    )
    assert status == 200, body
    rest = {k: r["partition"] for k, r in zip(keys, body["results"])}
    assert rest == sdk


def test_explicit_partition_wins_over_the_key(
    server: WeirServer, new_topic: Callable[..., str]
) -> None:
    t = new_topic(partitions=4)
    key = "foobar"  # murmur2 picks partition 2 of 4
    assert weir.partition_for_key(key, 4) != 3
    with weir.Producer(**server.client_args()) as p:
        assert p.send(t, b"x", key=key, partition=3).result(timeout=10).partition == 3


def test_positions_seek_pause_resume(server: WeirServer, new_topic: Callable[..., str]) -> None:
    t = new_topic()
    base = 1_700_000_000_000
    with weir.Producer(**server.client_args()) as p:
        for i in range(10):
            p.send(t, str(i), timestamp=base + i * 1000)
        p.flush(timeout=10)
    tp = weir.TopicPartition(t, 0)
    assert tp == weir.TopicPartition(t, 0) and hash(tp) == hash(weir.TopicPartition(t, 0))
    with weir.Consumer(
        **server.client_args(), auto_offset_reset="latest", fetch_wait_ms=100
    ) as c:
        c.assign([tp])
        assert c.assignment() == [tp]
        assert c.poll(timeout_ms=300) == []
        eventually(lambda: c.position(tp) == 10, "position at the end")

        c.seek_to_timestamp(tp, base + 5_500)
        records = drain(c, 4)
        assert (records[0].offset, records[0].timestamp) == (6, base + 6_000)

        c.seek((t, 0), 2)
        c.pause([tp])
        assert c.poll(timeout_ms=300) == []
        c.resume([(t, 0)])
        records = drain(c, 8)
        assert [r.offset for r in records] == list(range(2, 10))
        assert [r.text() for r in records] == [str(i) for i in range(2, 10)]
        assert c.position(tp) == 10
        with pytest.raises(weir.InvalidArgument):
            c.seek((t, 3), 0)


def test_iteration_hands_out_one_record_at_a_time_and_stops_at_close(
    server: WeirServer, new_topic: Callable[..., str]
) -> None:
    t = new_topic()
    with weir.Producer(**server.client_args()) as p:
        for i in range(5):
            p.send(t, f"v{i}")
    group = unique("iter")
    tp = weir.TopicPartition(t, 0)
    with weir.Consumer(
        **server.client_args(),
        group=group,
        topics=[t],
        auto_commit=False,
        auto_offset_reset="earliest",
    ) as c:
        it = iter(c)
        assert [next(it).value, next(it).value] == [b"v0", b"v1"]
        # Only what the iterator gave out is handed out: committing commits offset 2.
        assert c.position(tp) == 2
        c.commit()
        assert c.committed(tp) == 2
        c.commit({tp: 4})
        assert c.committed((t, 0)) == 4

    seen: List[weir.Record] = []
    c = weir.Consumer(**server.client_args(), auto_offset_reset="earliest")
    c.assign([tp])

    def consume() -> None:
        for rec in c:
            seen.append(rec)

    thread = threading.Thread(target=consume)
    thread.start()
    eventually(lambda: len(seen) == 5, "five records iterated")
    c.close()
    thread.join(timeout=5)
    assert not thread.is_alive(), "iteration did not stop after close()"
    assert c.closed
    with pytest.raises(weir.Closed):
        c.poll(timeout_ms=10)


def test_send_future(server: WeirServer, new_topic: Callable[..., str]) -> None:
    t = new_topic()
    with weir.Producer(**server.client_args(), linger_ms=300) as p:
        future = p.send(t, b"x")
        assert not future.done()
        with pytest.raises(weir.Timeout) as waited:
            future.result(timeout=0.01)
        assert isinstance(waited.value, TimeoutError)
        assert waited.value.code is None and waited.value.retryable
        meta = future.result(timeout=10)
        assert future.done()
        assert future.exception() is None
        assert future.result() == meta
    with pytest.raises(weir.Closed):
        p.send(t, b"after close")


def test_waits_release_the_gil(server: WeirServer, new_topic: Callable[..., str]) -> None:
    t = new_topic()
    stop = threading.Event()
    counter = [0]

    def spin() -> None:
        while not stop.is_set():
            counter[0] += 1

    with weir.Consumer(**server.client_args()) as c:
        c.assign([(t, 0)])
        thread = threading.Thread(target=spin)
        thread.start()
        try:
            before, started = counter[0], time.monotonic()
            assert c.poll(timeout_ms=1000) == []
            elapsed, spun = time.monotonic() - started, counter[0] - before
        finally:
            stop.set()
            thread.join()
    assert elapsed >= 0.9
    # A held GIL would leave the other thread (almost) no time during the poll.
    assert spun > 100_000, f"the other thread ran only {spun} loops in {elapsed:.2f}s"
