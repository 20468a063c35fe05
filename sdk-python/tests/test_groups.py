"""Consumer groups through the real server: three consumers in threads share six partitions,
one leaves mid-stream, every record is seen, commits persist across a restart and the lag ends
at 0; close and Ctrl-C leave the group at once; assignment callbacks run in the polling
thread."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from collections import Counter
from pathlib import Path
from typing import Callable, Dict, List, Optional, Set, Tuple

import pytest

import weir
from conftest import eventually, unique
from weir_server import WeirServer

PARTITIONS = 6
PER_PHASE = 300


class Member(threading.Thread):
    """One group member polling in its own thread, committing after each poll."""

    def __init__(self, server: WeirServer, group: str, topic: str, name: str) -> None:
        super().__init__(name=name, daemon=True)
        self.server, self.group, self.topic = server, group, topic
        self.stop = threading.Event()
        self.joined = threading.Event()
        self.seen: List[Tuple[int, int, bytes]] = []
        self.callback_threads: Set[int] = set()
        self.assigned: Set[weir.TopicPartition] = set()
        self.revoked: Set[weir.TopicPartition] = set()
        self.error: Optional[BaseException] = None
        self.lock = threading.Lock()

    def on_assign(self, partitions: List[weir.TopicPartition]) -> None:
        self.callback_threads.add(threading.get_ident())
        self.assigned.update(partitions)

    def on_revoke(self, partitions: List[weir.TopicPartition]) -> None:
        self.callback_threads.add(threading.get_ident())
        self.revoked.update(partitions)

    def commit(self, consumer: weir.Consumer) -> None:
        for _ in range(50):
            try:
                consumer.commit()
                return
            except weir.RebalanceError:
                # The group moved partitions between poll and commit; the next one works.
                consumer.poll(timeout_ms=50)
        raise AssertionError("commit kept failing with rebalance errors")

    def run(self) -> None:
        try:
            with weir.Consumer(
                **self.server.client_args(),
                group=self.group,
                topics=[self.topic],
                client_id=self.name,
                auto_commit=False,
                auto_offset_reset="earliest",
                heartbeat_interval_ms=100,
                fetch_wait_ms=100,
                on_assign=self.on_assign,
                on_revoke=self.on_revoke,
            ) as c:
                self.joined.set()
                while not self.stop.is_set():
                    records = c.poll(timeout_ms=100)
                    if records:
                        with self.lock:
                            self.seen.extend((r.partition, r.offset, r.value or b"") for r in records)
                        self.commit(c)
                self.commit(c)
        except BaseException as e:  # reported by the test
            self.error = e
            self.joined.set()

    def seen_now(self) -> List[Tuple[int, int, bytes]]:
        with self.lock:
            return list(self.seen)


def produce(server: WeirServer, topic: str, start: int, n: int) -> Dict[Tuple[int, int], bytes]:
    """Sends `n` keyed records; returns (partition, offset) → value."""
    with weir.Producer(**server.client_args(), linger_ms=5) as p:
        sent = [(f"k{i}", f"v{i}") for i in range(start, start + n)]
        futures = [(key, value.encode(), p.send(topic, value, key=key)) for key, value in sent]
        out = {}
        for _, value, f in futures:
            try:
                meta = f.result(timeout=20)
            except weir.Timeout as e:
                pending = [key for key, _, f in futures if not f.done()]
                raise AssertionError(undelivered(server, pending)) from e
            out[(meta.partition, meta.offset)] = value
    return out


def undelivered(server: WeirServer, keys: List[str]) -> str:
    """What a delivery time-out looked like: how many records of which partitions still wait,
    and the server's produce-stream figures (a partition's last batch once waited here for the
    next flush: the producer worker lost its linger wake-up)."""
    partitions = Counter(weir.partition_for_key(key, PARTITIONS) for key in keys)
    try:
        metrics = server.http_call("GET", "/metrics")[1].decode()
    except OSError as e:
        metrics = f"(metrics unavailable: {e})"
    produce_lines = [
        line
        for line in metrics.splitlines()
        if ("Produce" in line or "errors" in line) and not line.startswith("#") and "_bucket" not in line
    ]
    return (
        f"{len(keys)} records not delivered within 20 s, by partition {dict(partitions)}; "
        "server produce metrics:\n" + "\n".join(produce_lines)
    )


def members_by_partitions(admin: weir.Admin, group: str) -> Dict[str, int]:
    info = admin.describe_group(group)
    return {m.client_id: len(m.assignment) for m in info.members if not m.revoking}


def test_three_consumers_share_six_partitions_and_one_leaves_mid_stream(
    start_server: Callable[..., WeirServer], tmp_path: Path
) -> None:
    data_dir = tmp_path / "group-data"
    server = start_server(data_dir)
    admin = weir.Admin(**server.client_args())
    topic, group = unique("orders"), unique("billing")
    admin.create_topic(topic, partitions=PARTITIONS)

    members = [Member(server, group, topic, f"m{i}") for i in range(3)]
    for m in members:
        m.start()
    for m in members:
        assert m.joined.wait(20), f"{m.name} did not join"
        assert m.error is None, m.error
    eventually(
        lambda: members_by_partitions(admin, group) == {"m0": 2, "m1": 2, "m2": 2},
        "six partitions split 2/2/2",
    )

    expected = produce(server, topic, 0, PER_PHASE)
    assert {p for p, _ in expected} == set(range(PARTITIONS))

    def seen_all(keys: Set[Tuple[int, int]]) -> bool:
        got = {(p, o) for m in members for p, o, _ in m.seen_now()}
        return keys <= got

    eventually(lambda: seen_all(set(expected)), "phase 1 records all seen")
    leaving = members[2]
    # The server's view once split 2/2/2 (the callbacks also saw partitions held only while
    # the group was still forming).
    leaving_partitions = {
        (tp.topic, tp.partition)
        for m in admin.describe_group(group).members
        if m.client_id == leaving.name
        for tp in m.assignment
    }
    assert len(leaving_partitions) == 2
    leaving.stop.set()
    leaving.join(timeout=20)
    assert not leaving.is_alive() and leaving.error is None, leaving.error
    eventually(
        lambda: members_by_partitions(admin, group) == {"m0": 3, "m1": 3},
        "the leaver's partitions moved to the others",
        timeout=20,
    )

    second = produce(server, topic, PER_PHASE, PER_PHASE)
    expected.update(second)
    eventually(lambda: seen_all(set(expected)), "phase 2 records all seen", timeout=30)
    stayers = members[:2]
    for m in stayers:
        m.stop.set()
    for m in stayers:
        m.join(timeout=20)
        assert not m.is_alive() and m.error is None, m.error

    # Every record was seen with its value; records of the leaver's partitions produced after
    # it left were read by the others.
    values = {(p, o): v for m in members for p, o, v in m.seen_now()}
    assert {k: values[k] for k in expected} == expected
    moved = {k for k in second if (topic, k[0]) in leaving_partitions}
    assert moved and moved <= {(p, o) for m in stayers for p, o, _ in m.seen_now()}
    # Callbacks ran in the polling threads, never on the SDK's own threads.
    for m in members:
        assert m.callback_threads == {m.ident}, m.name
    assert leaving.revoked >= leaving.assigned

    # Commits: the group is empty and every partition committed up to its end.
    info = admin.describe_group(group)
    assert info.members == []
    assert info.total_lag == 0
    assert len(info.partitions) == PARTITIONS
    for p in info.partitions:
        assert p.lag == 0 and p.committed_offset == p.high_watermark > 0
    status, body = server.rest("GET", f"/v1/tenants/default/groups/{group}")
    assert status == 200, body
    assert body["total_lag"] == 0 and body["members"] == []
    assert all(p["lag"] == 0 for p in body["partitions"])
    committed = {p["partition"]: p["committed_offset"] for p in body["partitions"]}

    # They persist: a restarted server on the same data directory has the same offsets.
    server.stop()
    restarted = start_server(data_dir)
    status, body = restarted.rest("GET", f"/v1/tenants/default/groups/{group}")
    assert status == 200, body
    assert {p["partition"]: p["committed_offset"] for p in body["partitions"]} == committed
    assert body["total_lag"] == 0
    with weir.Consumer(
        **restarted.client_args(), group=group, topics=[topic], auto_offset_reset="earliest"
    ) as c:
        assert c.poll(timeout_ms=1500) == [], "a new member re-read committed records"


def test_close_leaves_the_group_at_once(server: WeirServer, new_topic: Callable[..., str]) -> None:
    topic, group = new_topic(partitions=2), unique("leave")
    admin = weir.Admin(**server.client_args())
    assigned: List[weir.TopicPartition] = []
    revoked: List[weir.TopicPartition] = []
    c = weir.Consumer(
        **server.client_args(),
        group=group,
        topics=[topic],
        session_timeout_ms=60_000,
        on_assign=assigned.extend,
        on_revoke=revoked.extend,
    )
    assert len(admin.describe_group(group).members) == 1
    c.poll(timeout_ms=10)
    assert sorted(assigned) == [weir.TopicPartition(topic, 0), weir.TopicPartition(topic, 1)]
    c.close()
    c.close()  # idempotent
    # Well within the 60 s session: the member left, it did not time out.
    assert admin.describe_group(group).members == []
    assert sorted(revoked) == sorted(assigned)


CTRL_C_SCRIPT = textwrap.dedent(
    """
    import signal, sys
    import weir

    # Ctrl-C behaves as in a terminal even when the test runner ignores SIGINT.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    url, token, group, topic = sys.argv[1], sys.argv[2] or None, sys.argv[3], sys.argv[4]
    with weir.Consumer(url=url, token=token, group=group, topics=[topic],
                       auto_offset_reset="earliest", session_timeout_ms=60_000) as c:
        for rec in c:
            print("ready", flush=True)
    """
)


def run_until_ready_then_interrupt(script: str, args: List[str]) -> subprocess.CompletedProcess[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.strip() == "ready", proc.stderr.read() if proc.stderr else line
        os.kill(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=15)
    except BaseException:
        proc.kill()
        proc.wait(timeout=10)
        raise
    return subprocess.CompletedProcess(proc.args, proc.returncode, line + out, err)


def test_ctrl_c_leaves_the_group(server: WeirServer, new_topic: Callable[..., str]) -> None:
    topic, group = new_topic(), unique("ctrlc")
    check_ctrl_c_leaves(server, CTRL_C_SCRIPT, topic, group)


def check_ctrl_c_leaves(server: WeirServer, script: str, topic: str, group: str) -> None:
    """Runs `script` until it read the one record of `topic`, interrupts it, and checks that
    it left the group at once, having committed the record (auto commit on close)."""
    with weir.Producer(**server.client_args()) as p:
        p.send(topic, b"one").result(timeout=10)
    done = run_until_ready_then_interrupt(script, [server.grpc, server.token or "", group, topic])
    assert done.returncode != 0
    assert "KeyboardInterrupt" in done.stderr, done.stderr
    assert "PanicException" not in done.stderr, done.stderr
    info = weir.Admin(**server.client_args()).describe_group(group)
    # Well within the 60 s session: the member left, it did not time out.
    assert info.members == []
    assert [(p.committed_offset, p.lag) for p in info.partitions] == [(1, 0)]


@pytest.mark.parametrize("bad", ["callable", "reset"])
def test_consumer_settings_are_checked(server: WeirServer, bad: str) -> None:
    if bad == "callable":
        with pytest.raises(TypeError):
            weir.Consumer(**server.client_args(), on_assign=42)  # type: ignore[arg-type]
    else:
        with pytest.raises(weir.InvalidArgument):
            weir.Consumer(**server.client_args(), auto_offset_reset="oldest")


def test_commit_async_commits_what_was_handed_out(
    server: WeirServer, new_topic: Callable[..., str]
) -> None:
    topic, group = new_topic(), unique("commit-async")
    with weir.Producer(**server.client_args()) as p:
        for i in range(5):
            p.send(topic, f"v{i}")
    with weir.Consumer(
        **server.client_args(),
        group=group,
        topics=[topic],
        auto_commit=False,
        auto_offset_reset="earliest",
        fetch_wait_ms=100,
    ) as c:
        handed_out: List[weir.Record] = []

        def up_to(n: int) -> bool:
            handed_out.extend(c.poll(timeout_ms=200, max_records=n - len(handed_out)))
            return len(handed_out) == n

        eventually(lambda: up_to(3), "three records handed out")
        first = c.commit_async()
        assert isinstance(first, weir.CommitFuture)
        first.result(timeout=10)
        assert first.done() and first.exception() is None
        assert "done=True" in repr(first)
        assert c.committed((topic, 0)) == 3

        eventually(lambda: up_to(5), "the other two handed out")
        second = c.commit_async()
        assert second.exception(timeout=10) is None
        assert c.committed((topic, 0)) == 5
        # Nothing handed out since: nothing to commit, and that succeeds.
        assert c.commit_async().exception(timeout=10) is None
    with pytest.raises(weir.Closed):
        c.commit_async()

    # Without a group there is nothing to commit to: the future holds the refusal.
    with weir.Consumer(**server.client_args(), auto_offset_reset="earliest") as lone:
        lone.assign([(topic, 0)])
        eventually(lambda: lone.poll(timeout_ms=200), "a record handed out")
        refused = lone.commit_async().exception(timeout=10)
        assert isinstance(refused, weir.InvalidArgument), refused
        with pytest.raises(weir.InvalidArgument):
            lone.commit_async().result(timeout=10)
