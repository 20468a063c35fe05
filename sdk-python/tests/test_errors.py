"""Errors are typed exceptions named after the server's ErrorCode, with `.code` and
`.retryable`; client-side failures have their own classes; nothing panics."""

from __future__ import annotations

import pickle
from typing import Callable

import pytest

import weir
from weir import _weir
from conftest import unique
from weir_server import WeirServer


def test_unknown_topic_raises_topic_not_found(server: WeirServer, admin: weir.Admin) -> None:
    missing = unique("missing")
    with weir.Producer(**server.client_args()) as p:
        with pytest.raises(weir.TopicNotFound) as raised:
            p.send(missing, b"x")
    e = raised.value
    assert e.code == "TOPIC_NOT_FOUND" and e.retryable is False and e.retry_after is None
    assert isinstance(e, weir.NotFound) and isinstance(e, LookupError)
    assert isinstance(e, weir.WeirError)
    assert missing in str(e)
    with pytest.raises(weir.TopicNotFound):
        weir.Consumer(**server.client_args(), group=unique("g"), topics=[missing])
    with pytest.raises(weir.TopicNotFound):
        admin.describe_topic(missing)
    with pytest.raises(weir.GroupNotFound):
        admin.describe_group(unique("no-group"))


def test_existing_topic_and_bad_partition(
    server: WeirServer, admin: weir.Admin, new_topic: Callable[..., str]
) -> None:
    t = new_topic(partitions=2)
    with pytest.raises(weir.TopicAlreadyExists) as raised:
        admin.create_topic(t)
    assert isinstance(raised.value, weir.AlreadyExists)
    with weir.Producer(**server.client_args(), delivery_timeout_ms=10_000) as p:
        failed = p.send(t, b"x", partition=7)
        with pytest.raises(weir.PartitionNotFound):
            failed.result(timeout=15)
        assert isinstance(failed.exception(), weir.PartitionNotFound)


def test_session_timeout_out_of_bounds_raises_invalid_session_timeout(
    server: WeirServer, new_topic: Callable[..., str]
) -> None:
    t = new_topic()
    for ms in (999, 300_001):  # the server's session_timeout_ms_min - 1 and _max + 1
        with pytest.raises(weir.InvalidSessionTimeout) as raised:
            weir.Consumer(
                **server.client_args(), group=unique("g"), topics=[t], session_timeout_ms=ms
            )
        e = raised.value
        assert e.code == "INVALID_SESSION_TIMEOUT" and e.retryable is False
        assert isinstance(e, weir.InvalidRequest) and isinstance(e, ValueError)
        assert str(ms) in str(e)
    assert issubclass(weir.OffsetMetadataTooLarge, weir.TooLarge)
    for cls in (weir.InvalidPartitions, weir.InvalidRecord, weir.InvalidRequiredAcks):
        assert issubclass(cls, weir.InvalidRequest)


def test_every_error_code_has_its_exception_class() -> None:
    codes = _weir.error_codes()
    assert len(codes) >= 28
    for code, retryable in codes:
        cls = weir.errors.error_class(code)
        assert cls is not weir.WeirError, f"{code} has no class"
        assert cls.error_code == code
        assert cls.__name__ == "".join(w.capitalize() for w in code.split("_"))
        assert getattr(weir, cls.__name__) is cls
        e = weir.WeirError(f"{code}: boom", code, retryable, 0.25, "server")
        assert type(e) is cls
        assert (e.code, e.retryable, e.retry_after, str(e)) == (code, retryable, 0.25, f"{code}: boom")
        copy = pickle.loads(pickle.dumps(e))
        assert type(copy) is cls and copy.code == code and copy.retryable == retryable
    assert weir.QuotaExceeded("slow").retryable is False  # only the server decides
    assert weir.WeirError("?", "NO_SUCH_CODE").code == "NO_SUCH_CODE"
    assert type(weir.WeirError("?", "NO_SUCH_CODE")) is weir.WeirError
    for cls in (weir.Unauthenticated, weir.Forbidden):
        assert issubclass(cls, weir.Unauthorized)
    for cls in (weir.UnknownMember, weir.StaleMemberEpoch, weir.PartitionNotAssigned):
        assert issubclass(cls, weir.RebalanceError)
    assert issubclass(weir.Timeout, TimeoutError)
    assert issubclass(weir.TransportError, ConnectionError)
    assert issubclass(weir.InvalidArgument, ValueError)


def test_client_side_failures(server: WeirServer, new_topic: Callable[..., str]) -> None:
    with pytest.raises(weir.TransportError) as raised:
        weir.Admin(url="http://127.0.0.1:1", request_timeout_ms=2000)
    assert raised.value.code is None and raised.value.retryable
    with pytest.raises(weir.InvalidArgument):
        weir.Producer(**server.client_args(), compression="brotli")
    with pytest.raises(weir.InvalidArgument):
        weir.Producer(**server.client_args(), max_in_flight=0)
    with pytest.raises(weir.InvalidArgument):
        weir.Producer(**server.client_args(), acks="most")
    with pytest.raises(weir.InvalidArgument):
        weir.Admin(url="not a url")
    with pytest.raises(weir.InvalidArgument):
        weir.partition_for_key("k", 0)
    t = new_topic()
    with weir.Producer(**server.client_args()) as p:
        with pytest.raises(TypeError):
            p.send(t, value=12)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            p.send(t, b"v", key=3)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            p.send(t, b"v", headers={"h": 1})  # type: ignore[arg-type]
    with pytest.raises(weir.Closed):
        p.send(t, b"v")


def test_wrong_credentials_raise_unauthenticated(server: WeirServer) -> None:
    if server.token is None:
        pytest.skip("this server does not require credentials (no bootstrap-admin.token)")
    with pytest.raises(weir.Unauthorized) as raised:
        weir.Admin(url=server.grpc, token="not-a-valid-token").list_topics()
    assert isinstance(raised.value, weir.Unauthenticated)
    assert raised.value.code == "UNAUTHENTICATED" and not raised.value.retryable
