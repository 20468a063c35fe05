#!/usr/bin/env python3
"""Consumer throughput from Python: records/s through ``Consumer.poll`` and iteration (not a test).

    python sdk-python/bench/consume.py                      # starts its own `weir serve`
    python sdk-python/bench/consume.py --url http://127.0.0.1:8781 --records 1000000

The flags are those of ``sdk-node/bench/consume.mjs`` and
``sdk-rust/examples/bench_consume.rs``. Fills a new topic with ``--records`` records of
``--size`` bytes (not timed), then reads them all twice, each time with a new group: once
with ``poll`` (up to ``--max-poll-records`` per call) and once with ``for record in
consumer``, and prints records/s for each, from the first call to the last record. Build
the package in release mode for meaningful figures (``pip install ./sdk-python``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Optional

import weir

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from weir_server import WeirServer  # noqa: E402


def consumer(url: str, token: Optional[str], topic: str, tag: str, args: argparse.Namespace) -> weir.Consumer:
    return weir.Consumer(
        url=url,
        token=token,
        group=f"{topic}-{tag}",
        topics=[topic],
        auto_offset_reset="earliest",
        max_poll_records=args.max_poll_records,
    )


def run(url: str, token: Optional[str], args: argparse.Namespace) -> None:
    topic = f"bench-{uuid.uuid4().hex[:8]}"
    weir.Admin(url=url, token=token).create_topic(topic, partitions=args.partitions)
    payload = bytes(args.size)
    with weir.Producer(url=url, token=token) as p:
        for _ in range(args.records):
            p.send(topic, payload)
    print(f"{args.records} records of {args.size} B, {args.partitions} partitions, max_poll_records {args.max_poll_records}")

    with consumer(url, token, topic, "poll", args) as c:
        seen = 0
        start = time.perf_counter()
        while seen < args.records:
            seen += len(c.poll(timeout_ms=5000))
        print(f"poll: {seen / (time.perf_counter() - start):,.0f} records/s")

    with consumer(url, token, topic, "iterate", args) as c:
        seen = 0
        value_bytes = 0
        start = time.perf_counter()
        for record in c:
            value_bytes += len(record.value or b"")
            seen += 1
            if seen == args.records:
                break
        print(f"for record in consumer: {seen / (time.perf_counter() - start):,.0f} records/s ({value_bytes} value bytes)")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--url", help="gRPC address of a running node (default: start one)")
    parser.add_argument("--token", help="bearer token for --url")
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--max-poll-records", type=int, default=500)
    args = parser.parse_args()
    if args.url:
        run(args.url, args.token, args)
        return
    with tempfile.TemporaryDirectory() as data:
        server = WeirServer(Path(data)).start()
        try:
            run(server.grpc, server.token, args)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
