#!/usr/bin/env python3
"""Producer throughput from Python: records/s for 1 KiB records (not a test).

    python sdk-python/bench/produce.py                      # starts its own `weir serve`
    python sdk-python/bench/produce.py --url http://127.0.0.1:8781 --records 500000

Sends `--records` records of `--size` bytes (one payload object reused, no keys, so the
sticky partitioner fills batches as in Kafka's producer-perf-test) through `weir.Producer`,
keeps every 1000th delivery future to check it, flushes, and prints records/s and MB/s for
the whole run (from the first send to the end of the flush) after a warm-up. Build the
package in release mode for meaningful figures (`pip install ./sdk-python`).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import List, Optional

import weir

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from weir_server import WeirServer  # noqa: E402


def run(url: str, token: Optional[str], args: argparse.Namespace) -> None:
    topic = f"bench-{uuid.uuid4().hex[:8]}"
    weir.Admin(url=url, token=token).create_topic(topic, partitions=args.partitions)
    payload = bytes(args.size)
    with weir.Producer(
        url=url,
        token=token,
        compression=args.compression,
        linger_ms=args.linger_ms,
        batch_bytes=args.batch_bytes,
    ) as p:
        for _ in range(args.warmup):
            p.send(topic, payload)
        p.flush()
        checked: List[weir.SendFuture] = []
        start = time.perf_counter()
        for i in range(args.records):
            future = p.send(topic, payload)
            if i % 1000 == 0:
                checked.append(future)
        queued = time.perf_counter()
        p.flush()
        end = time.perf_counter()
        for future in checked:
            future.result()
    total = end - start
    rate = args.records / total
    print(
        f"{args.records} records of {args.size} B, {args.partitions} partitions, "
        f"compression {args.compression}, linger {args.linger_ms} ms"
    )
    print(f"send loop: {args.records / (queued - start):,.0f} records/s queued")
    print(f"end to end: {rate:,.0f} records/s, {rate * args.size / 1e6:,.1f} MB/s ({total:.2f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="gRPC address of a running node (default: start one)")
    parser.add_argument("--token", help="bearer token for --url")
    parser.add_argument("--records", type=int, default=300_000)
    parser.add_argument("--warmup", type=int, default=20_000)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--compression", default="none")
    parser.add_argument("--linger-ms", type=int, default=5)
    parser.add_argument("--batch-bytes", type=int, default=None)
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
