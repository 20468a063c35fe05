"""One flow through the Python client that openapi-python-client generates from
openapi/openapi.json (package ``weir_rest_client``), as a user of that client writes it.

scripts/test-generated-clients generates and installs the client, checks this file with
``mypy --strict`` and runs it against a fresh ``weir serve`` (``WEIR_URL``, ``WEIR_TOKEN``).
Produces a JSON object, a string, a number and bytes (base64) with keys and headers, reads them
back with their types, consumes them as a group member, commits, sees lag 0 in describe, and
reads a missing topic's error as the typed ``Problem``. Only the generated client talks to the
server.
"""

from __future__ import annotations

import base64
import os
import sys
from typing import TypeVar

import httpx

from weir_rest_client import AuthenticatedClient
from weir_rest_client.api.groups import commit, describe_group, group_fetch, leave
from weir_rest_client.api.records import fetch, produce
from weir_rest_client.api.tenancy import create_tenant
from weir_rest_client.api.topics import create_topic
from weir_rest_client.models import (
    AutoOffsetReset,
    CommitOffsetDto,
    CommitRequest,
    CreateTenant,
    CreateTopic,
    GroupFetchRequest,
    GroupRecordDto,
    Problem,
    ProduceRecordDto,
    ProduceRecordDtoHeaders,
    ProduceRequest,
    ProduceResultType0,
    ValueFormat,
)
from weir_rest_client.types import Unset

TENANT = "gc-python"
TOPIC = "values"
GROUP = "readers"
BINARY = bytes([0x00, 0xFF, 0x10, 0x80])

T = TypeVar("T")


def ok(answer: T | Problem | None, what: str) -> T:
    """The answer, or exit naming the problem."""
    if answer is None or isinstance(answer, Problem):
        detail = "no answer" if answer is None else f"{answer.code}: {answer.detail}"
        raise SystemExit(f"{what}: {detail}")
    return answer


def check(condition: bool, what: str) -> None:
    if not condition:
        raise SystemExit(f"check failed: {what}")


def headers(**values: str) -> ProduceRecordDtoHeaders:
    h = ProduceRecordDtoHeaders()
    for name, value in values.items():
        h[name] = value
    return h


def main() -> None:
    client = AuthenticatedClient(
        base_url=os.environ["WEIR_URL"], token=os.environ["WEIR_TOKEN"], timeout=httpx.Timeout(30.0)
    )

    ok(create_tenant.sync(client=client, body=CreateTenant(name=TENANT)), "create tenant")
    topic = ok(
        create_topic.sync(TENANT, client=client, body=CreateTopic(name=TOPIC, partitions=1)),
        "create topic",
    )
    check(topic.name == TOPIC and len(topic.partitions) == 1, "topic created")

    records = [
        ProduceRecordDto(key="object", value={"a": 1, "b": [True, None]}, headers=headers(kind="object")),
        ProduceRecordDto(key="string", value="text", headers=headers(kind="string")),
        ProduceRecordDto(key="number", value=42.5, headers=headers(kind="number")),
        ProduceRecordDto(
            key="binary",
            value_b64=base64.b64encode(BINARY).decode(),
            headers=headers(kind="binary", trace="t-1"),
        ),
    ]
    produced = ok(
        produce.sync(TENANT, TOPIC, client=client, body=ProduceRequest(records=records)),
        "produce",
    )
    for result in produced.results:
        check(isinstance(result, ProduceResultType0), f"record stored: {result}")

    # Read back from the partition: each value with its type.
    fetched = ok(fetch.sync(TENANT, TOPIC, 0, client=client, offset=0), "fetch")
    check(len(fetched.records) == 4, f"4 records fetched, got {len(fetched.records)}")
    obj, text, number, binary = fetched.records
    check(obj.value_format == ValueFormat.JSON and obj.value == {"a": 1, "b": [True, None]}, "object")
    check(isinstance(obj.value, dict), "object is a dict")
    check(text.value_format == ValueFormat.JSON and text.value == "text", "string")
    check(isinstance(number.value, float) and number.value == 42.5, "number")
    check(binary.value_format == ValueFormat.BINARY and binary.value is None, "binary format")
    check(
        isinstance(binary.value_b64, str) and base64.b64decode(binary.value_b64) == BINARY,
        "binary bytes",
    )
    check([r.key for r in fetched.records] == ["object", "string", "number", "binary"], "keys")
    check(binary.headers["kind"] == "binary" and binary.headers["trace"] == "t-1", "headers")
    check(fetched.next_offset == 4 and fetched.high_watermark == 4, "offsets")

    # The same records as a group member: join, fetch until all four came, commit.
    got: list[GroupRecordDto] = []
    member_id: str | None = None
    epoch: int | None = None
    for _ in range(20):
        request = GroupFetchRequest(
            topics=[TOPIC],
            auto_offset_reset=AutoOffsetReset.EARLIEST,
            wait_ms=500,
        )
        if member_id is not None and epoch is not None:
            request.member_id = member_id
            request.member_epoch = epoch
        answer = ok(group_fetch.sync(TENANT, GROUP, client=client, body=request), "group fetch")
        member_id, epoch = answer.member_id, answer.member_epoch
        got.extend(answer.records)
        if len(got) >= 4:
            break
    check(len(got) == 4, f"the member got 4 records, got {len(got)}")
    check(all(r.topic == TOPIC and r.partition == 0 for r in got), "group records name their partition")
    check(isinstance(got[0].value, dict) and got[3].value_format == ValueFormat.BINARY, "group values")
    assert member_id is not None and epoch is not None
    committed = commit.sync_detailed(
        TENANT,
        GROUP,
        client=client,
        body=CommitRequest(
            member_id=member_id,
            member_epoch=epoch,
            offsets=[CommitOffsetDto(topic=TOPIC, partition=0, offset=got[-1].offset + 1)],
        ),
    )
    check(committed.status_code == 204, f"commit answered {committed.status_code}")

    group = ok(describe_group.sync(TENANT, GROUP, client=client), "describe group")
    lags = [(p.partition, p.committed_offset, p.lag) for p in group.partitions]
    check(lags == [(0, 4, 0)], f"lag 0 after the commit, got {lags}")
    check(group.total_lag == 0, "total lag 0")
    left = leave.sync_detailed(TENANT, GROUP, member_id, client=client)
    check(left.status_code == 204, f"leave answered {left.status_code}")

    # A missing topic is a typed Problem with its code.
    missing = fetch.sync(TENANT, "no-such-topic", 0, client=client)
    check(isinstance(missing, Problem), f"a Problem for a missing topic, got {missing!r}")
    assert isinstance(missing, Problem)
    check(missing.code == "TOPIC_NOT_FOUND" and missing.status == 404, f"code {missing.code}")
    check(not isinstance(missing.retryable, Unset) and missing.retryable is False, "not retryable")

    print("generated Python client: produce, fetch, group, commit, lag and problems ok")


if __name__ == "__main__":
    main()
    sys.exit(0)
