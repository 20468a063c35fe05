"""Exceptions of the Weir client, one class per server error code.

Every exception is a :class:`WeirError` with:

- ``code``: the server's stable error code (e.g. ``"TOPIC_NOT_FOUND"``), or ``None`` when the
  failure happened on the client side (no connection, a wait that ran out, a closed client);
- ``retryable``: whether sending the same request again later may succeed;
- ``retry_after``: seconds the server asked to wait before a retry, or ``None``.

Classes are grouped so that broad ``except`` clauses work: ``NotFound`` (also a
``LookupError``), ``AlreadyExists``, ``Unauthorized`` (``Unauthenticated``, ``Forbidden``),
``TooLarge``, ``RebalanceError`` (group membership moved on), ``InvalidRequest`` (which the
precise refusals subclass: ``InvalidConfig``, ``InvalidBatch`` and those named after Kafka's
errors, ``InvalidPartitions``, ``InvalidSessionTimeout``, ``InvalidRecord``,
``InvalidRequiredAcks``) and ``InvalidArgument`` (also ``ValueError``), ``Timeout`` (also
``TimeoutError``) and ``TransportError`` (also ``ConnectionError``). ``OffsetMetadataTooLarge``
is a ``TooLarge``.

The native module raises ``WeirError(message, code, retryable, retry_after, kind)``;
``WeirError.__new__`` turns that into the class of the code (or of the client-side ``kind``).
"""

from __future__ import annotations

from typing import ClassVar, Dict, Optional, Tuple, Type

__all__ = [
    "WeirError",
    "NotFound",
    "AlreadyExists",
    "Unauthorized",
    "TooLarge",
    "RebalanceError",
    "InvalidRequest",
    "InvalidConfig",
    "InvalidBatch",
    "TenantNotFound",
    "TopicNotFound",
    "PartitionNotFound",
    "TopicAlreadyExists",
    "TenantAlreadyExists",
    "OffsetOutOfRange",
    "RecordTooLarge",
    "BatchTooLarge",
    "RequestTooLarge",
    "Unauthenticated",
    "Forbidden",
    "QuotaExceeded",
    "Unavailable",
    "StorageUnavailable",
    "Timeout",
    "RouteNotFound",
    "MethodNotAllowed",
    "Internal",
    "GroupNotFound",
    "GroupNotEmpty",
    "UnknownMember",
    "StaleMemberEpoch",
    "PartitionNotAssigned",
    "GroupMaxSizeReached",
    "OutOfOrderSequence",
    "StorageQuotaExceeded",
    "CountQuotaExceeded",
    "TenantNotEmpty",
    "KeyNotFound",
    "InvalidPartitions",
    "InvalidSessionTimeout",
    "OffsetMetadataTooLarge",
    "InvalidRecord",
    "InvalidRequiredAcks",
    "NodeNotFound",
    "MembershipConflict",
    "TransportError",
    "Closed",
    "InvalidArgument",
    "BufferFull",
    "CorruptData",
    "error_class",
]


class WeirError(Exception):
    """Base class of every error the Weir client raises.

    ``code`` is the server's error code or ``None`` for client-side failures, ``retryable``
    says whether the same request may succeed later, ``retry_after`` is the delay (seconds) the
    server asked for, if any.
    """

    #: The server error code this class stands for (``None`` for groups and client-side
    #: failures).
    error_code: ClassVar[Optional[str]] = None
    #: The client-side failure kind this class stands for, if any.
    error_kind: ClassVar[Optional[str]] = None

    code: Optional[str]
    retryable: bool
    retry_after: Optional[float]
    message: str

    def __new__(
        cls,
        message: str = "",
        code: Optional[str] = None,
        retryable: bool = False,
        retry_after: Optional[float] = None,
        kind: str = "server",
    ) -> WeirError:
        if cls is WeirError:
            cls = error_class(code, kind)
        return super().__new__(cls, message)

    def __init__(
        self,
        message: str = "",
        code: Optional[str] = None,
        retryable: bool = False,
        retry_after: Optional[float] = None,
        kind: str = "server",
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is None and kind == "server":
            code = type(self).error_code
        self.code = code
        self.retryable = retryable
        self.retry_after = retry_after
        self._kind = kind

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> Tuple[object, ...]:
        args = (self.message, self.code, self.retryable, self.retry_after, self._kind)
        return (type(self), args)


# Groups.


class NotFound(WeirError, LookupError):
    """A tenant, topic, partition, group or route does not exist (or is not visible)."""


class AlreadyExists(WeirError):
    """A topic or tenant of that name already exists."""


class Unauthorized(WeirError):
    """The request was refused for its credentials: none valid (``Unauthenticated``) or not
    allowed to do this (``Forbidden``)."""


class TooLarge(WeirError, ValueError):
    """A record, batch, request or offset metadata is larger than the server accepts."""


class RebalanceError(WeirError):
    """The group moved on (member unknown or fenced, partition no longer assigned); the
    consumer rejoins by itself and the next commit succeeds."""


# One class per server error code (codec/src/error.rs).


class InvalidRequest(WeirError, ValueError):
    """INVALID_REQUEST: the request is malformed or names something impossible."""

    error_code = "INVALID_REQUEST"


class InvalidConfig(InvalidRequest):
    """INVALID_CONFIG: a configuration value is outside its bounds."""

    error_code = "INVALID_CONFIG"


class InvalidBatch(InvalidRequest):
    """INVALID_BATCH: a RecordBatch failed validation (length, magic, CRC, codec)."""

    error_code = "INVALID_BATCH"


class TenantNotFound(NotFound):
    """TENANT_NOT_FOUND: no such tenant (or not visible to the caller)."""

    error_code = "TENANT_NOT_FOUND"


class TopicNotFound(NotFound):
    """TOPIC_NOT_FOUND: no such topic in this tenant."""

    error_code = "TOPIC_NOT_FOUND"


class PartitionNotFound(NotFound):
    """PARTITION_NOT_FOUND: the topic has no such partition."""

    error_code = "PARTITION_NOT_FOUND"


class TopicAlreadyExists(AlreadyExists):
    """TOPIC_ALREADY_EXISTS: a topic of that name already exists in this tenant."""

    error_code = "TOPIC_ALREADY_EXISTS"


class TenantAlreadyExists(AlreadyExists):
    """TENANT_ALREADY_EXISTS: a tenant of that name already exists."""

    error_code = "TENANT_ALREADY_EXISTS"


class OffsetOutOfRange(WeirError):
    """OFFSET_OUT_OF_RANGE: the offset is outside [log start offset, high watermark]."""

    error_code = "OFFSET_OUT_OF_RANGE"


class RecordTooLarge(TooLarge):
    """RECORD_TOO_LARGE: one record is larger than the server's record_bytes_max."""

    error_code = "RECORD_TOO_LARGE"


class BatchTooLarge(TooLarge):
    """BATCH_TOO_LARGE: one batch is larger than the topic's batch_bytes_max."""

    error_code = "BATCH_TOO_LARGE"


class RequestTooLarge(TooLarge):
    """REQUEST_TOO_LARGE: the request is larger than the server's request_bytes_max."""

    error_code = "REQUEST_TOO_LARGE"


class Unauthenticated(Unauthorized):
    """UNAUTHENTICATED: no valid credential (pass ``token=``)."""

    error_code = "UNAUTHENTICATED"


class Forbidden(Unauthorized):
    """FORBIDDEN: the credential does not allow this."""

    error_code = "FORBIDDEN"


class QuotaExceeded(WeirError):
    """QUOTA_EXCEEDED: a quota or rate limit was hit; retry after ``retry_after`` seconds."""

    error_code = "QUOTA_EXCEEDED"


class Unavailable(WeirError):
    """UNAVAILABLE: the server is starting, stopping or overloaded."""

    error_code = "UNAVAILABLE"


class StorageUnavailable(Unavailable):
    """STORAGE_UNAVAILABLE: the partition's storage failed and accepts no writes here."""

    error_code = "STORAGE_UNAVAILABLE"


class Timeout(WeirError, TimeoutError):
    """TIMEOUT: an operation did not finish in time, on the server (``code`` is
    ``"TIMEOUT"``) or on the client (``code`` is ``None``: a call, a delivery or a wait such
    as ``SendFuture.result(timeout=...)`` ran out)."""

    error_code = "TIMEOUT"
    error_kind = "timeout"


class RouteNotFound(NotFound):
    """ROUTE_NOT_FOUND: no such REST route."""

    error_code = "ROUTE_NOT_FOUND"


class MethodNotAllowed(WeirError):
    """METHOD_NOT_ALLOWED: the route exists but not with this method."""

    error_code = "METHOD_NOT_ALLOWED"


class Internal(WeirError):
    """INTERNAL: the server could not handle a well-formed request (a bug)."""

    error_code = "INTERNAL"


class GroupNotFound(NotFound):
    """GROUP_NOT_FOUND: no such consumer group in this tenant."""

    error_code = "GROUP_NOT_FOUND"


class GroupNotEmpty(WeirError):
    """GROUP_NOT_EMPTY: the group has live members; the operation needs an empty group."""

    error_code = "GROUP_NOT_EMPTY"


class UnknownMember(RebalanceError):
    """UNKNOWN_MEMBER: the member is not (or no longer) in the group."""

    error_code = "UNKNOWN_MEMBER"


class StaleMemberEpoch(RebalanceError):
    """STALE_MEMBER_EPOCH: the member's epoch is older than the group's view of it."""

    error_code = "STALE_MEMBER_EPOCH"


class PartitionNotAssigned(RebalanceError):
    """PARTITION_NOT_ASSIGNED: the member does not own the partition it commits or reads."""

    error_code = "PARTITION_NOT_ASSIGNED"


class GroupMaxSizeReached(WeirError):
    """GROUP_MAX_SIZE_REACHED: the group has group_members_max members already."""

    error_code = "GROUP_MAX_SIZE_REACHED"


class OutOfOrderSequence(WeirError):
    """OUT_OF_ORDER_SEQUENCE: an idempotent batch does not continue its producer's sequence
    in the partition; it was not written."""

    error_code = "OUT_OF_ORDER_SEQUENCE"


class StorageQuotaExceeded(QuotaExceeded):
    """STORAGE_QUOTA_EXCEEDED: the write would take the tenant past its storage quota;
    retention or deleting topics frees space."""

    error_code = "STORAGE_QUOTA_EXCEEDED"


class CountQuotaExceeded(QuotaExceeded):
    """COUNT_QUOTA_EXCEEDED: the tenant has as many topics, partitions, groups or keys as its
    quota allows."""

    error_code = "COUNT_QUOTA_EXCEEDED"


class TenantNotEmpty(WeirError):
    """TENANT_NOT_EMPTY: the tenant still holds topics or consumer groups."""

    error_code = "TENANT_NOT_EMPTY"


class KeyNotFound(NotFound):
    """KEY_NOT_FOUND: no such API key in this tenant."""

    error_code = "KEY_NOT_FOUND"


class InvalidPartitions(InvalidRequest):
    """INVALID_PARTITIONS: a partition count of 0, above the server's topic_partitions_max, or
    fewer than the topic has (partitions can only be added)."""

    error_code = "INVALID_PARTITIONS"


class InvalidSessionTimeout(InvalidRequest):
    """INVALID_SESSION_TIMEOUT: ``session_timeout_ms`` is outside the server's
    session_timeout_ms_min to session_timeout_ms_max."""

    error_code = "INVALID_SESSION_TIMEOUT"


class OffsetMetadataTooLarge(TooLarge):
    """OFFSET_METADATA_TOO_LARGE: a committed offset's metadata is longer than the server's
    offset_metadata_bytes_max."""

    error_code = "OFFSET_METADATA_TOO_LARGE"


class InvalidRecord(InvalidRequest):
    """INVALID_RECORD: a record breaks a rule of its own (more headers than the server's
    record_headers_max)."""

    error_code = "INVALID_RECORD"


class InvalidRequiredAcks(InvalidRequest):
    """INVALID_REQUIRED_ACKS: the produce request's acks value is not one the server knows."""

    error_code = "INVALID_REQUIRED_ACKS"


class NodeNotFound(NotFound):
    """NODE_NOT_FOUND: no node of that id is a member of the cluster."""

    error_code = "NODE_NOT_FOUND"


class MembershipConflict(WeirError):
    """MEMBERSHIP_CONFLICT: a change to the cluster's members its state does not allow (an id
    or address another member has, the last voter, a node run alone)."""

    error_code = "MEMBERSHIP_CONFLICT"


# Client-side failures (``code`` is ``None``).


class TransportError(WeirError, ConnectionError):
    """No connection to the server (refused, reset, dropped); retryable."""

    error_kind = "transport"


class Closed(WeirError):
    """The producer or consumer was closed."""

    error_kind = "closed"


class InvalidArgument(WeirError, ValueError):
    """A setting or an argument is not usable."""

    error_kind = "invalid_argument"


class BufferFull(WeirError):
    """The producer's buffer is full and it was created with ``when_full="fail"``."""

    error_kind = "buffer_full"


class CorruptData(WeirError):
    """Bytes from the server could not be decoded."""

    error_kind = "corrupt"


def _subclasses(cls: Type[WeirError]) -> list[Type[WeirError]]:
    out: list[Type[WeirError]] = []
    for sub in cls.__subclasses__():
        out.append(sub)
        out.extend(_subclasses(sub))
    return out


_BY_CODE: Dict[str, Type[WeirError]] = {
    c.error_code: c for c in _subclasses(WeirError) if c.error_code is not None
}
_BY_KIND: Dict[str, Type[WeirError]] = {
    c.error_kind: c for c in _subclasses(WeirError) if c.error_kind is not None
}


def error_class(code: Optional[str], kind: str = "server") -> Type[WeirError]:
    """The exception class for a server error ``code`` (or, without one, for a client-side
    failure ``kind``); ``WeirError`` itself for codes this version does not know."""
    if code is not None and code in _BY_CODE:
        return _BY_CODE[code]
    if code is None and kind in _BY_KIND:
        return _BY_KIND[kind]
    return WeirError
