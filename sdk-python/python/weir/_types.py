"""Type aliases of the arguments the Weir client accepts (for annotations and the stubs)."""

from __future__ import annotations

from typing import (
    Any,
    Awaitable,
    Callable,
    Dict,
    Iterable,
    List,
    Mapping,
    Optional,
    Tuple,
    TypedDict,
    Union,
)

from ._weir import TopicPartition

#: A record value: bytes or str (UTF-8) as they are, a dict or list as JSON, None a tombstone.
Value = Union[bytes, bytearray, str, Dict[str, Any], List[Any], None]
#: A record key: bytes or str (UTF-8).
Key = Union[bytes, bytearray, str]
#: A header value: bytes, str (UTF-8) or None.
HeaderValue = Union[bytes, bytearray, str, None]
#: Headers: a dict of name → value, or (name, value) pairs (names may repeat).
Headers = Union[Mapping[str, HeaderValue], Iterable[Tuple[str, HeaderValue]]]
#: A partition: a TopicPartition or a (topic, partition) tuple.
PartitionRef = Union[TopicPartition, Tuple[str, int]]
#: Offsets to commit: partition → next offset to read, as a mapping or (partition, offset) pairs.
Offsets = Union[
    Mapping[TopicPartition, int],
    Mapping[Tuple[str, int], int],
    Iterable[Tuple[PartitionRef, int]],
]
#: An assignment callback of the sync consumer.
AssignmentCallback = Callable[[List[TopicPartition]], object]
#: An assignment callback of the asyncio consumer: a function or a coroutine function.
AsyncAssignmentCallback = Callable[[List[TopicPartition]], Union[Awaitable[object], object]]


class QuotaChange(TypedDict, total=False):
    """Quotas to change with ``Admin.set_quotas``: a new limit per name; 0 clears the limit
    (unlimited); a name absent or ``None`` keeps its quota (the Rust SDK's ``QuotaChange``)."""

    #: Produced bytes per second.
    produce_bytes_per_sec: Optional[int]
    #: Fetched bytes per second.
    fetch_bytes_per_sec: Optional[int]
    #: Requests per second.
    requests_per_sec: Optional[int]
    #: Bytes stored over all partitions.
    storage_bytes: Optional[int]
    #: Topics.
    topics: Optional[int]
    #: Partitions over all topics.
    partitions: Optional[int]
    #: Consumer groups.
    groups: Optional[int]
    #: Largest record, bytes.
    record_bytes_max: Optional[int]
    #: Largest request, bytes.
    request_bytes_max: Optional[int]
    #: Live tails (REST Server-Sent Events streams) open at once.
    live_tails: Optional[int]


__all__ = [
    "Value",
    "Key",
    "HeaderValue",
    "Headers",
    "PartitionRef",
    "Offsets",
    "AssignmentCallback",
    "AsyncAssignmentCallback",
    "QuotaChange",
]
