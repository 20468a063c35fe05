"""Type stubs of the native module ``weir._weir`` (Rust, pyo3), re-exported by ``weir``."""

from typing import Any, Awaitable, Dict, List, Optional, Sequence, Tuple, Union, final

from typing_extensions import Self

from ._types import AssignmentCallback, Headers, Key, Offsets, PartitionRef, QuotaChange, Value
from .errors import WeirError

__all__ = [
    "__version__",
    "URL_DEFAULT",
    "TENANT_DEFAULT",
    "partition_for_key",
    "error_codes",
    "TopicPartition",
    "Record",
    "Consumer",
    "CommitFuture",
    "RecordMetadata",
    "SendFuture",
    "Producer",
    "Admin",
    "PartitionInfo",
    "TopicInfo",
    "GroupSummary",
    "MemberInfo",
    "PartitionLag",
    "GroupInfo",
    "OffsetChange",
    "Quotas",
    "Usage",
    "TenantInfo",
    "KeyInfo",
    "CreatedKey",
]

__version__: str
URL_DEFAULT: str
TENANT_DEFAULT: str

def partition_for_key(key: Key, partitions: int) -> int:
    """The partition the producer chooses for ``key`` among ``partitions`` partitions:
    Kafka's ``murmur2(key) % partitions``, as the Rust SDK, Java clients and REST produce."""

def error_codes() -> List[Tuple[str, bool]]:
    """Every server error code with whether it is retryable."""

@final
class TopicPartition:
    """A partition of a topic. Hashable and ordered; ``(topic, partition)`` tuples are
    accepted wherever a ``TopicPartition`` is."""

    @property
    def topic(self) -> str:
        """Topic name."""
    @property
    def partition(self) -> int:
        """Partition index."""
    def __new__(cls, topic: str, partition: int) -> Self: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __ne__(self, other: object, /) -> bool: ...
    def __lt__(self, other: TopicPartition, /) -> bool: ...
    def __le__(self, other: TopicPartition, /) -> bool: ...
    def __gt__(self, other: TopicPartition, /) -> bool: ...
    def __ge__(self, other: TopicPartition, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class Record:
    """A record read from a partition."""

    @property
    def topic(self) -> str:
        """Topic the record was read from."""
    @property
    def partition(self) -> int:
        """Partition it was read from."""
    @property
    def offset(self) -> int:
        """Its offset in the partition."""
    @property
    def timestamp(self) -> int:
        """Its timestamp, milliseconds since the Unix epoch."""
    @property
    def key(self) -> Optional[bytes]:
        """The key as bytes, or ``None`` (a null key)."""
    @property
    def value(self) -> Optional[bytes]:
        """The value as bytes, or ``None`` (a tombstone)."""
    @property
    def headers(self) -> List[Tuple[str, Optional[bytes]]]:
        """Headers as a list of ``(name, value)`` pairs, in order (names may repeat)."""
    def text(self) -> Optional[str]:
        """The value decoded as UTF-8 text (``None`` for a tombstone)."""
    def json(self) -> Any:
        """The value parsed as JSON (``json.loads``), e.g. a dict sent by ``Producer.send``."""

@final
class RecordMetadata:
    """Where a record was stored."""

    @property
    def topic(self) -> str:
        """Topic the record was sent to."""
    @property
    def partition(self) -> int:
        """Partition it was stored in."""
    @property
    def offset(self) -> int:
        """Its offset in the partition (-1 with ``acks="none"``)."""
    @property
    def timestamp(self) -> int:
        """Its timestamp, milliseconds since the Unix epoch."""
    def __eq__(self, other: object, /) -> bool: ...
    def __ne__(self, other: object, /) -> bool: ...

@final
class SendFuture:
    """The outcome of one ``Producer.send``: resolves once the record is stored (or failed
    for good, after the producer's retries)."""

    def result(self, timeout: Optional[float] = None) -> RecordMetadata:
        """Waits (at most ``timeout`` seconds; ``None``: as long as it takes, up to the
        producer's ``delivery_timeout_ms``) and returns the ``RecordMetadata``. Raises the
        delivery's ``WeirError``, or ``weir.Timeout`` when ``timeout`` passed first."""
    def exception(self, timeout: Optional[float] = None) -> Optional[WeirError]:
        """Waits like ``result`` and returns the delivery's exception, or ``None`` when the
        record was stored."""
    def done(self) -> bool:
        """Whether the outcome is known (stored or failed); never waits."""

@final
class Producer:
    """Sends records to topics in batches; every setting not given keeps the Rust SDK's
    default. Use as a context manager (``with weir.Producer(...) as p:``) or call
    ``close()``."""

    def __new__(
        cls,
        *,
        url: str = ...,
        tenant: str = ...,
        token: Optional[str] = None,
        compression: Optional[str] = None,
        linger_ms: Optional[int] = None,
        batch_bytes: Optional[int] = None,
        buffer_bytes: Optional[int] = None,
        max_in_flight: Optional[int] = None,
        acks: Union[str, int, None] = None,
        idempotence: bool = True,
        delivery_timeout_ms: Optional[int] = None,
        retry_backoff_ms: Optional[int] = None,
        max_block_ms: Optional[int] = None,
        when_full: Optional[str] = None,
        request_timeout_ms: int = 30000,
    ) -> Self:
        """Connects to ``url`` (the gRPC address of a Weir node, or several separated by commas: the
        first that answers is used) and gets a producer id.

        ``compression`` is ``"none"``, ``"gzip"``, ``"snappy"``, ``"lz4"`` or ``"zstd"``;
        ``acks`` is ``"leader"``, ``"all"`` or ``"none"``; ``when_full`` is ``"wait"`` (up
        to ``max_block_ms``) or ``"fail"`` (raise ``weir.BufferFull``)."""
    def send(
        self,
        topic: str,
        value: Value = None,
        *,
        key: Optional[Key] = None,
        headers: Optional[Headers] = None,
        partition: Optional[int] = None,
        timestamp: Optional[int] = None,
    ) -> SendFuture:
        """Queues a record for its partition's next batch and returns its ``SendFuture``.

        ``value`` and ``key`` may be bytes or str (UTF-8); a dict or list value is sent as
        JSON. ``headers`` is a dict of name → bytes/str/None or a list of ``(name, value)``
        pairs. An explicit ``partition`` wins over the key; ``timestamp`` is milliseconds
        since the epoch. Raises at once for an unknown topic (``weir.TopicNotFound``), a
        closed producer or a full buffer with ``when_full="fail"``."""
    def flush(self, timeout: Optional[float] = None) -> None:
        """Sends every batch now and waits until every record sent before is stored or
        failed; raises ``weir.Timeout`` after ``timeout`` seconds (``None``: no limit)."""
    def close(self) -> None:
        """Flushes, then stops the producer; later sends raise ``weir.Closed``. Idempotent."""
    def _send_async(
        self,
        topic: str,
        value: Value = None,
        *,
        key: Optional[Key] = None,
        headers: Optional[Headers] = None,
        partition: Optional[int] = None,
        timestamp: Optional[int] = None,
    ) -> Awaitable[RecordMetadata]:
        """``send`` for asyncio (used by ``weir.aio.Producer``)."""
    def _flush_async(self) -> Awaitable[None]:
        """``flush`` for asyncio."""
    def _close_async(self) -> Awaitable[None]:
        """``close`` for asyncio."""
    def __enter__(self) -> Self: ...
    def __exit__(self, *_exc: object) -> bool:
        """Closes the producer (flushing what was sent)."""

@final
class CommitFuture:
    """The outcome of one ``Consumer.commit_async``: resolves once the server stored the
    offsets, or the commit failed (it is not retried; a later commit covers it)."""

    def result(self, timeout: Optional[float] = None) -> None:
        """Waits (at most ``timeout`` seconds; ``None``: as long as it takes, up to the
        consumer's ``request_timeout_ms``) for the commit. Raises its ``WeirError``, or
        ``weir.Timeout`` when ``timeout`` passed first."""
    def exception(self, timeout: Optional[float] = None) -> Optional[WeirError]:
        """Waits like ``result`` and returns the commit's exception, or ``None`` when the
        offsets were stored."""
    def done(self) -> bool:
        """Whether the outcome is known (stored or failed); never waits."""

@final
class Consumer:
    """Reads records of the partitions it is assigned, as a member of ``group`` subscribed
    to ``topics``, or of partitions given to ``assign()``. Every setting not given keeps the
    Rust SDK's default. Use as a context manager or call ``close()`` (it commits in auto
    mode and leaves the group at once, so the partitions move to the other members)."""

    def __new__(
        cls,
        *,
        url: str = ...,
        tenant: str = ...,
        token: Optional[str] = None,
        group: Optional[str] = None,
        topics: Optional[Sequence[str]] = None,
        auto_commit: bool = True,
        auto_commit_interval_ms: Optional[int] = None,
        auto_offset_reset: str = "latest",
        client_id: Optional[str] = None,
        max_poll_records: Optional[int] = None,
        prefetch_bytes: Optional[int] = None,
        fetch_bytes: Optional[int] = None,
        fetch_wait_ms: Optional[int] = None,
        session_timeout_ms: Optional[int] = None,
        heartbeat_interval_ms: Optional[int] = None,
        request_timeout_ms: int = 30000,
        on_assign: Optional[AssignmentCallback] = None,
        on_revoke: Optional[AssignmentCallback] = None,
    ) -> Self:
        """Connects and, with ``topics``, joins ``group`` (an unknown topic raises
        ``weir.TopicNotFound`` here, a ``session_timeout_ms`` outside the server's bounds
        ``weir.InvalidSessionTimeout``).

        ``auto_offset_reset`` is ``"earliest"`` or ``"latest"``. With ``auto_commit=True``
        the positions of records already handed out are committed every
        ``auto_commit_interval_ms``, on revocation and on close; with ``False`` only
        ``commit()`` commits. ``on_assign`` / ``on_revoke`` are called with a list of
        ``TopicPartition`` in the thread that polls, during ``poll()``, iteration or
        ``close()``, after the change took effect."""
    def poll(self, timeout_ms: int = 1000, max_records: Optional[int] = None) -> List[Record]:
        """Waits up to ``timeout_ms`` for records and returns those ready (at most
        ``max_records``, default ``max_poll_records``), or an empty list. Raises
        ``weir.Closed`` after ``close()``."""
    def __iter__(self) -> Self:
        """Iterates over records, waiting as long as it takes, until the consumer is
        closed."""
    def __next__(self) -> Record:
        """The next record, waiting as long as it takes; stops once the consumer is
        closed."""
    def commit(self, offsets: Optional[Offsets] = None) -> None:
        """Commits offsets: with no argument, the positions of every record handed out so
        far; else a dict (or list of pairs) of partition → next offset to read."""
    def commit_async(self) -> CommitFuture:
        """Starts committing the positions of every record handed out so far and returns at
        once with a ``CommitFuture`` of the outcome. Commits started later may finish first,
        and a failed one is not retried (the next commit covers it), as with Kafka's
        ``commitAsync``. Raises ``weir.Closed`` after ``close()``."""
    def committed(self, partition: PartitionRef) -> Optional[int]:
        """The group's committed offset of a partition (the next offset to read), or
        ``None``."""
    def position(self, partition: PartitionRef) -> Optional[int]:
        """The offset of the next record ``poll`` hands out from a partition (``None``
        before its start is known or when it is not assigned)."""
    def assignment(self) -> List[TopicPartition]:
        """The partitions this consumer reads now."""
    def assign(self, partitions: Sequence[PartitionRef]) -> None:
        """Reads these partitions without group membership (not with ``topics``)."""
    def seek(self, partition: PartitionRef, offset: int) -> None:
        """Continues a partition at ``offset``; records fetched ahead are dropped."""
    def seek_to_timestamp(self, partition: PartitionRef, timestamp: int) -> None:
        """Continues a partition at its first record at or after ``timestamp`` (ms since
        the epoch), or at its end when there is none."""
    def pause(self, partitions: Sequence[PartitionRef]) -> None:
        """Stops fetching and handing out records of these partitions until ``resume``."""
    def resume(self, partitions: Sequence[PartitionRef]) -> None:
        """Undoes ``pause``."""
    @property
    def closed(self) -> bool:
        """Whether ``close()`` was called."""
    def close(self) -> None:
        """Commits handed-out positions (auto mode), leaves the group and stops fetching;
        runs the last ``on_revoke``. Later calls do nothing."""
    def _poll_async(
        self, timeout_ms: int = 1000, max_records: Optional[int] = None
    ) -> Union[List[Record], Awaitable[List[Record]]]:
        """``poll`` for asyncio (used by ``weir.aio.Consumer``)."""
    def _commit_async(self, offsets: Optional[Offsets] = None) -> Awaitable[None]:
        """``commit`` for asyncio."""
    def _close_async(self) -> Awaitable[None]:
        """``close`` for asyncio."""
    def _take_assignment_changes(self) -> List[Tuple[str, List[TopicPartition]]]:
        """Assignment changes not yet given to callbacks (for ``weir.aio``)."""
    def __enter__(self) -> Self: ...
    def __exit__(self, *_exc: object) -> bool:
        """Closes the consumer."""

@final
class PartitionInfo:
    """One partition of a topic."""

    @property
    def partition(self) -> int:
        """Partition index."""
    @property
    def log_start_offset(self) -> int:
        """The oldest offset still stored."""
    @property
    def high_watermark(self) -> int:
        """The offset the next record will get."""
    @property
    def size_bytes(self) -> int:
        """Bytes stored."""

@final
class TopicInfo:
    """A topic: its partitions and every setting (defaults filled in)."""

    @property
    def name(self) -> str:
        """Topic name."""
    @property
    def partitions(self) -> List[PartitionInfo]:
        """Partitions, by index."""
    @property
    def config(self) -> Dict[str, int]:
        """Settings by name (``retention_ms``, ``segment_bytes``, ...)."""

@final
class GroupSummary:
    """A consumer group in a list."""

    @property
    def group(self) -> str:
        """Group name."""
    @property
    def state(self) -> str:
        """``"empty"``, ``"stable"`` or ``"reconciling"``."""
    @property
    def members(self) -> int:
        """Number of members."""
    @property
    def total_lag(self) -> int:
        """Sum of the lag of every partition."""

@final
class MemberInfo:
    """A member of a consumer group."""

    @property
    def member_id(self) -> str:
        """Member id given by the group."""
    @property
    def instance_id(self) -> Optional[str]:
        """Static membership id, if any."""
    @property
    def client_id(self) -> str:
        """The client's name (``client_id``)."""
    @property
    def host(self) -> str:
        """Address the member last called from."""
    @property
    def member_epoch(self) -> int:
        """The member's epoch."""
    @property
    def topics(self) -> List[str]:
        """Topics it subscribes to."""
    @property
    def assignment(self) -> List[TopicPartition]:
        """Partitions it owns."""
    @property
    def revoking(self) -> List[TopicPartition]:
        """Partitions it is giving up (still its own until its next heartbeat)."""

@final
class PartitionLag:
    """Committed offset and lag of one partition for a group."""

    @property
    def topic(self) -> str:
        """Topic name."""
    @property
    def partition(self) -> int:
        """Partition index."""
    @property
    def committed_offset(self) -> Optional[int]:
        """The group's committed offset, ``None`` before its first commit."""
    @property
    def high_watermark(self) -> int:
        """The partition's high watermark."""
    @property
    def lag(self) -> Optional[int]:
        """``high_watermark - committed_offset``, ``None`` before the first commit."""

@final
class GroupInfo:
    """A consumer group: members, assignment and lag per partition."""

    @property
    def group(self) -> str:
        """Group name."""
    @property
    def state(self) -> str:
        """``"empty"``, ``"stable"`` or ``"reconciling"``."""
    @property
    def epoch(self) -> int:
        """The group's epoch."""
    @property
    def assignor(self) -> str:
        """``"uniform"`` or ``"range"``."""
    @property
    def members(self) -> List[MemberInfo]:
        """Current members."""
    @property
    def partitions(self) -> List[PartitionLag]:
        """Committed offsets and lag per partition."""
    @property
    def total_lag(self) -> int:
        """Sum of every partition's lag."""

@final
class OffsetChange:
    """One committed offset moved (or, in a dry run, that would move) by
    ``Admin.reset_offsets``."""

    @property
    def topic(self) -> str:
        """Topic name."""
    @property
    def partition(self) -> int:
        """Partition index."""
    @property
    def previous(self) -> Optional[int]:
        """The committed offset before, ``None`` when there was none."""
    @property
    def offset(self) -> int:
        """The new committed offset."""

@final
class Quotas:
    """The quotas in force for a tenant; 0 means unlimited."""

    @property
    def produce_bytes_per_sec(self) -> int:
        """Produced bytes per second."""
    @property
    def fetch_bytes_per_sec(self) -> int:
        """Fetched bytes per second."""
    @property
    def requests_per_sec(self) -> int:
        """Requests per second."""
    @property
    def storage_bytes(self) -> int:
        """Bytes stored over all partitions."""
    @property
    def topics(self) -> int:
        """Topics."""
    @property
    def partitions(self) -> int:
        """Partitions over all topics."""
    @property
    def groups(self) -> int:
        """Consumer groups."""
    @property
    def record_bytes_max(self) -> int:
        """Largest record, bytes."""
    @property
    def request_bytes_max(self) -> int:
        """Largest request, bytes."""
    @property
    def live_tails(self) -> int:
        """Live tails (REST Server-Sent Events streams) open at once."""

@final
class Usage:
    """What a tenant uses now: rates of the last complete second, storage, counts,
    throttling."""

    @property
    def produce_bytes_per_sec(self) -> int:
        """Bytes produced in the last complete second."""
    @property
    def fetch_bytes_per_sec(self) -> int:
        """Bytes fetched in the last complete second."""
    @property
    def requests_per_sec(self) -> int:
        """Requests in the last complete second."""
    @property
    def storage_bytes(self) -> int:
        """Bytes stored over all partitions."""
    @property
    def topics(self) -> int:
        """Topics."""
    @property
    def partitions(self) -> int:
        """Partitions over all topics."""
    @property
    def groups(self) -> int:
        """Consumer groups."""
    @property
    def throttle_time_ms_total(self) -> int:
        """Milliseconds answers were held back for rate quotas since the server started."""
    @property
    def throttled_requests_total(self) -> int:
        """Requests refused for a rate quota since the server started."""

@final
class TenantInfo:
    """A tenant with its quotas, number of API keys and usage."""

    @property
    def name(self) -> str:
        """Tenant name."""
    @property
    def quotas(self) -> Quotas:
        """The quotas in force."""
    @property
    def keys(self) -> int:
        """Live (unrevoked, unexpired) API keys."""
    @property
    def usage(self) -> Usage:
        """What it uses now."""

@final
class KeyInfo:
    """An API key of a tenant, without its secret."""

    @property
    def id(self) -> str:
        """Key id (what ``Admin.revoke_key`` takes)."""
    @property
    def name(self) -> str:
        """The name given at creation."""
    @property
    def scopes(self) -> List[str]:
        """Granted scopes (``"topics:write:orders-*"``, ``"keys:admin"``, ...)."""
    @property
    def created_at_ms(self) -> int:
        """Creation time, ms since the epoch."""
    @property
    def expires_at_ms(self) -> Optional[int]:
        """Expiry, ms since the epoch; ``None``: never expires."""
    @property
    def revoked_at_ms(self) -> Optional[int]:
        """Revocation time, ms since the epoch; ``None`` while it works."""
    @property
    def created_by(self) -> str:
        """Subject of the principal that created it."""

@final
class CreatedKey:
    """A key just created: its ``info`` and its secret ``key``, given in this answer only
    (``repr`` leaves the secret out)."""

    @property
    def info(self) -> KeyInfo:
        """The key as ``Admin.list_keys`` reports it."""
    @property
    def key(self) -> str:
        """The secret (``weir_...``), the token clients pass as ``token=``; never shown
        again."""

@final
class Admin:
    """Administration of one tenant's topics and consumer groups, and of tenants, API keys
    and quotas as far as the credential allows."""

    def __new__(
        cls,
        *,
        url: str = ...,
        tenant: str = ...,
        token: Optional[str] = None,
        request_timeout_ms: int = 30000,
    ) -> Self:
        """Connects to ``url`` (the gRPC address of a Weir node, or several separated by commas: the
        first that answers is used)."""
    def create_topic(
        self, name: str, partitions: int = 1, config: Optional[Dict[str, int]] = None
    ) -> TopicInfo:
        """Creates a topic; ``config`` holds settings by name (``retention_ms``,
        ``retention_bytes``, ``segment_bytes``, ``segment_ms``, ``batch_bytes_max``,
        ``flush_records``, ``flush_ms``); unset ones take the server's defaults. Raises
        ``weir.TopicAlreadyExists``."""
    def list_topics(self) -> List[TopicInfo]:
        """Every topic of the tenant."""
    def describe_topic(self, name: str) -> TopicInfo:
        """One topic: partitions with offsets and sizes, and every setting."""
    def alter_topic(
        self,
        name: str,
        *,
        config: Optional[Dict[str, int]] = None,
        partitions: Optional[int] = None,
    ) -> TopicInfo:
        """Changes settings (``config``, as in ``create_topic``) and/or grows the partition
        count."""
    def delete_topic(self, name: str) -> None:
        """Deletes a topic and its data."""
    def list_offsets(
        self,
        topic: str,
        spec: Union[str, int] = "latest",
        partitions: Optional[Sequence[int]] = None,
    ) -> Dict[int, Optional[int]]:
        """Offsets of a topic's partitions (all when ``partitions`` is ``None``): ``spec``
        is ``"earliest"``, ``"latest"`` (the next offset) or a timestamp in milliseconds
        (the first record at or after it; ``None`` when there is none)."""
    def partition_count(self, topic: str) -> int:
        """The partition count of a topic."""
    def list_groups(self) -> List[GroupSummary]:
        """Every consumer group of the tenant, with member counts and total lag."""
    def describe_group(self, group: str) -> GroupInfo:
        """A group's members, assignments, committed offsets and lag per partition."""
    def committed_offsets(
        self, group: str, topics: Optional[Sequence[str]] = None
    ) -> Dict[TopicPartition, int]:
        """A group's committed offsets (next offsets to read) of ``topics`` (all when
        ``None``)."""
    def delete_group(self, group: str) -> None:
        """Deletes a group without members, with its committed offsets."""
    def reset_offsets(
        self,
        group: str,
        to: str,
        value: Optional[int] = None,
        *,
        topics: Optional[Sequence[str]] = None,
        dry_run: bool = False,
    ) -> List[OffsetChange]:
        """Moves the committed offsets of a group without members: ``to`` is
        ``"earliest"``, ``"latest"``, ``"timestamp"``, ``"offset"`` or ``"shift"`` (with
        ``value``). With ``dry_run=True`` nothing changes."""
    def create_tenant(self, name: str) -> TenantInfo:
        """Creates a tenant (needs the ``admin`` scope). Raises
        ``weir.TenantAlreadyExists``."""
    def list_tenants(self) -> List[TenantInfo]:
        """The tenants the credential can see: every one with ``admin``, else its own."""
    def delete_tenant(self, name: str) -> None:
        """Deletes a tenant without topics or groups (needs ``admin``); its keys stop
        working. Raises ``weir.TenantNotEmpty`` or ``weir.TenantNotFound``."""
    def create_key(
        self,
        name: str,
        scopes: Optional[Sequence[str]] = None,
        *,
        expires_at_ms: Optional[int] = None,
    ) -> CreatedKey:
        """Creates an API key in this client's tenant with ``scopes``
        (``"topics:write:orders-*"``, ``"groups:read"``, ``"keys:admin"``, ...; never more
        than the caller holds), expiring at ``expires_at_ms`` (ms since the epoch; ``None``:
        never). The secret is ``CreatedKey.key``, in this answer only."""
    def list_keys(self) -> List[KeyInfo]:
        """This tenant's API keys, revoked ones included (never their secrets)."""
    def revoke_key(self, id: str) -> None:
        """Revokes one of this tenant's keys by ``KeyInfo.id``; it stops working at once.
        Raises ``weir.KeyNotFound``."""
    def quotas(self, tenant: Optional[str] = None) -> Quotas:
        """The quotas in force for ``tenant`` (default: this client's); 0 means
        unlimited."""
    def set_quotas(self, tenant: str, change: QuotaChange) -> Quotas:
        """Changes ``tenant``'s quotas (needs ``admin``) and returns the quotas now in force:
        ``change`` maps quota names to a new limit; 0 clears the limit (unlimited), a name
        absent or ``None`` keeps its quota."""
    def usage(self, tenant: Optional[str] = None) -> Usage:
        """What ``tenant`` (default: this client's) uses now: rates of the last complete
        second, storage, counts and throttling since the server started."""
    def close(self) -> None:
        """Nothing to release; for symmetry with the other clients."""
    def __enter__(self) -> Self: ...
    def __exit__(self, *_exc: object) -> bool:
        """Closes the admin client."""
