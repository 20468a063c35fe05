"""Admin through the real server: topics (create with settings, list, describe, alter,
delete), offsets by position and time, and groups (list, describe with lag, committed offsets,
reset with dry run, delete)."""

from __future__ import annotations

from typing import Callable

import pytest

import weir
from conftest import drain, unique
from weir_server import WeirServer


def test_topics(server: WeirServer, admin: weir.Admin) -> None:
    name = unique("adm")
    info = admin.create_topic(name, partitions=2, config={"retention_ms": 86_400_000})
    assert info.name == name
    assert [p.partition for p in info.partitions] == [0, 1]
    assert info.config["retention_ms"] == 86_400_000
    assert "segment_bytes" in info.config
    assert name in [t.name for t in admin.list_topics()]

    info = admin.alter_topic(name, partitions=4, config={"retention_ms": 3_600_000})
    assert len(info.partitions) == 4 and info.config["retention_ms"] == 3_600_000
    assert admin.partition_count(name) == 4

    base = 1_700_000_000_000
    with weir.Producer(**server.client_args()) as p:
        for i in range(3):
            p.send(name, b"x", partition=1, timestamp=base + i * 1000)
    assert admin.list_offsets(name) == {0: 0, 1: 3, 2: 0, 3: 0}
    assert admin.list_offsets(name, "earliest", partitions=[1]) == {1: 0}
    assert admin.list_offsets(name, base + 1500, partitions=[1]) == {1: 2}
    assert admin.list_offsets(name, base + 9000, partitions=[1]) == {1: None}
    assert admin.describe_topic(name).partitions[1].high_watermark == 3

    with pytest.raises(weir.InvalidArgument):
        admin.create_topic(unique("adm"), config={"retention": 1})
    with pytest.raises(weir.InvalidArgument):
        admin.list_offsets(name, "middle")
    admin.delete_topic(name)
    with pytest.raises(weir.TopicNotFound):
        admin.describe_topic(name)


def test_groups(server: WeirServer, admin: weir.Admin, new_topic: Callable[..., str]) -> None:
    t, group = new_topic(partitions=2), unique("grp")
    with weir.Producer(**server.client_args()) as p:
        for i in range(10):
            p.send(t, str(i), partition=i % 2)
    with weir.Consumer(
        **server.client_args(), group=group, topics=[t], auto_offset_reset="earliest"
    ) as c:
        drain(c, 10)
    # auto commit: close committed every handed-out position.
    tp0, tp1 = weir.TopicPartition(t, 0), weir.TopicPartition(t, 1)
    assert admin.committed_offsets(group) == {tp0: 5, tp1: 5}
    assert admin.committed_offsets(group, topics=[t]) == {tp0: 5, tp1: 5}
    summary = [g for g in admin.list_groups() if g.group == group]
    assert len(summary) == 1 and summary[0].members == 0 and summary[0].total_lag == 0
    info = admin.describe_group(group)
    assert info.members == [] and info.total_lag == 0
    assert sorted((p.partition, p.committed_offset, p.lag) for p in info.partitions) == [
        (0, 5, 0),
        (1, 5, 0),
    ]

    preview = admin.reset_offsets(group, "earliest", dry_run=True)
    assert sorted((c.partition, c.previous, c.offset) for c in preview) == [(0, 5, 0), (1, 5, 0)]
    assert admin.committed_offsets(group) == {tp0: 5, tp1: 5}
    changes = admin.reset_offsets(group, "shift", -2, topics=[t])
    assert sorted((c.partition, c.offset) for c in changes) == [(0, 3), (1, 3)]
    assert admin.describe_group(group).total_lag == 4
    with pytest.raises(weir.InvalidArgument):
        admin.reset_offsets(group, "offset")
    admin.delete_group(group)
    with pytest.raises(weir.GroupNotFound):
        admin.describe_group(group)
