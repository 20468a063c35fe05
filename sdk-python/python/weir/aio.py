"""asyncio clients: :class:`Producer`, :class:`Consumer` and :class:`Admin`, the same Rust
SDK underneath.

Nothing here blocks the event loop: records are queued and read on the Rust side and their
outcomes arrive as asyncio futures (pyo3-async-runtimes); connecting, the rare calls that
may wait for the consumer's lock, and admin calls run in a worker thread
(``asyncio.to_thread``) with the GIL released.

.. code-block:: python

    async with weir.aio.Producer(url=URL) as p:
        meta = await p.send("orders", value={"item": "book"}, key="user-1")

    async with weir.aio.Consumer(url=URL, group="billing", topics=["orders"]) as c:
        async for rec in c:
            ...

    async with weir.aio.Admin(url=URL) as admin:
        await admin.create_topic("orders", partitions=6)

Constructors do no I/O: the client connects in ``start()``, ``async with`` or on first use.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any, Callable, Dict, List, Optional, Sequence, TypeVar, Union

from . import _weir
from ._types import (
    AsyncAssignmentCallback,
    Headers,
    Key,
    Offsets,
    PartitionRef,
    QuotaChange,
    Value,
)
from ._weir import (
    CreatedKey,
    GroupInfo,
    GroupSummary,
    KeyInfo,
    OffsetChange,
    Quotas,
    Record,
    RecordMetadata,
    TenantInfo,
    TopicInfo,
    TopicPartition,
    Usage,
)
from .errors import Closed

__all__ = ["Producer", "Consumer", "Admin"]

_T = TypeVar("_T")

#: Longest one native poll holds the consumer's lock, so close() and seek() stay prompt.
_POLL_SLICE_MS = 200


def _closed(what: str) -> Closed:
    return Closed(f"the {what} is closed", None, False, None, "closed")


class Producer:
    """An asyncio producer: ``await send(...)`` returns the record's :class:`RecordMetadata`
    once it is stored. Takes the same settings as :class:`weir.Producer`.

    The record is queued when ``send`` starts running, so the records of tasks started in
    order (``asyncio.gather(*(p.send(...) for ...))``) are queued in that order and batched
    together; awaiting each ``send`` before the next one waits ``linger_ms`` per record.
    """

    def __init__(
        self,
        *,
        url: str = _weir.URL_DEFAULT,
        tenant: str = _weir.TENANT_DEFAULT,
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
        request_timeout_ms: int = 30_000,
    ) -> None:
        self._settings: Dict[str, Any] = dict(
            url=url,
            tenant=tenant,
            token=token,
            compression=compression,
            linger_ms=linger_ms,
            batch_bytes=batch_bytes,
            buffer_bytes=buffer_bytes,
            max_in_flight=max_in_flight,
            acks=acks,
            idempotence=idempotence,
            delivery_timeout_ms=delivery_timeout_ms,
            retry_backoff_ms=retry_backoff_ms,
            max_block_ms=max_block_ms,
            when_full=when_full,
            request_timeout_ms=request_timeout_ms,
        )
        self._native: Optional[_weir.Producer] = None
        self._starting: Optional[asyncio.Lock] = None
        self._closed = False

    async def start(self) -> Producer:
        """Connects (once; later calls do nothing) and returns the producer."""
        await self._started()
        return self

    async def _started(self) -> _weir.Producer:
        if self._closed:
            raise _closed("producer")
        if self._native is not None:
            return self._native
        if self._starting is None:
            self._starting = asyncio.Lock()
        async with self._starting:
            if self._native is None:
                settings = self._settings
                self._native = await asyncio.to_thread(lambda: _weir.Producer(**settings))
            return self._native

    async def send(
        self,
        topic: str,
        value: Value = None,
        *,
        key: Optional[Key] = None,
        headers: Optional[Headers] = None,
        partition: Optional[int] = None,
        timestamp: Optional[int] = None,
    ) -> RecordMetadata:
        """Sends a record and returns where it was stored; arguments as in
        :meth:`weir.Producer.send`. Raises the delivery's :class:`weir.WeirError`."""
        native = self._native if self._native is not None else await self._started()
        delivery = native._send_async(
            topic, value, key=key, headers=headers, partition=partition, timestamp=timestamp
        )
        return await delivery

    async def flush(self) -> None:
        """Sends every batch now and waits until every record sent before is stored or
        failed."""
        if self._native is not None:
            await self._native._flush_async()

    async def close(self) -> None:
        """Flushes and stops the producer; later sends raise :class:`weir.Closed`.
        Idempotent; the close finishes even when the awaiting task is cancelled."""
        self._closed = True
        if self._native is not None:
            await asyncio.shield(self._native._close_async())

    async def __aenter__(self) -> Producer:
        """Connects."""
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        """Closes (flushing what was sent)."""
        await self.close()


class Consumer:
    """An asyncio consumer: ``async for rec in consumer`` and ``await poll(...)``. Takes the
    same settings as :class:`weir.Consumer`; ``on_assign`` / ``on_revoke`` may be coroutine
    functions and run on the event loop, during ``poll``, iteration and ``close``.

    Calls that only need the consumer's state (``position``, ``seek``, ``pause``, ...) are
    coroutines too: they wait, off the event loop, for a poll in another task to hand over
    (at most 0.2 s).
    """

    def __init__(
        self,
        *,
        url: str = _weir.URL_DEFAULT,
        tenant: str = _weir.TENANT_DEFAULT,
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
        request_timeout_ms: int = 30_000,
        on_assign: Optional[AsyncAssignmentCallback] = None,
        on_revoke: Optional[AsyncAssignmentCallback] = None,
    ) -> None:
        self._settings: Dict[str, Any] = dict(
            url=url,
            tenant=tenant,
            token=token,
            group=group,
            topics=list(topics) if topics is not None else None,
            auto_commit=auto_commit,
            auto_commit_interval_ms=auto_commit_interval_ms,
            auto_offset_reset=auto_offset_reset,
            client_id=client_id,
            max_poll_records=max_poll_records,
            prefetch_bytes=prefetch_bytes,
            fetch_bytes=fetch_bytes,
            fetch_wait_ms=fetch_wait_ms,
            session_timeout_ms=session_timeout_ms,
            heartbeat_interval_ms=heartbeat_interval_ms,
            request_timeout_ms=request_timeout_ms,
        )
        self._on_assign = on_assign
        self._on_revoke = on_revoke
        self._native: Optional[_weir.Consumer] = None
        self._starting: Optional[asyncio.Lock] = None
        self._closed = False

    async def start(self) -> Consumer:
        """Connects and joins the group (once; later calls do nothing); returns the
        consumer. Raises :class:`weir.TopicNotFound` for an unknown topic and
        :class:`weir.InvalidSessionTimeout` for a ``session_timeout_ms`` outside the server's
        bounds."""
        await self._started()
        return self

    async def _started(self) -> _weir.Consumer:
        if self._closed:
            raise _closed("consumer")
        if self._native is not None:
            return self._native
        if self._starting is None:
            self._starting = asyncio.Lock()
        async with self._starting:
            if self._native is None:
                settings = self._settings
                self._native = await asyncio.to_thread(lambda: _weir.Consumer(**settings))
            return self._native

    async def _run_callbacks(self, native: _weir.Consumer) -> None:
        first_error: Optional[BaseException] = None
        for kind, partitions in native._take_assignment_changes():
            callback = self._on_assign if kind == "assigned" else self._on_revoke
            if callback is None:
                continue
            try:
                outcome = callback(partitions)
                if inspect.isawaitable(outcome):
                    await outcome
            except Exception as e:  # run the others, then raise the first
                if first_error is None:
                    first_error = e
        if first_error is not None:
            raise first_error

    async def _poll_once(self, native: _weir.Consumer, timeout_ms: int, max_records: Optional[int]) -> List[Record]:
        ready = native._poll_async(timeout_ms, max_records)
        records: List[Record] = ready if isinstance(ready, list) else await ready
        return records

    async def poll(self, timeout_ms: int = 1000, max_records: Optional[int] = None) -> List[Record]:
        """Waits up to ``timeout_ms`` for records and returns those ready (at most
        ``max_records``, default ``max_poll_records``), or an empty list."""
        native = await self._started()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(timeout_ms, 0) / 1000
        while True:
            await self._run_callbacks(native)
            left_ms = max(0, int((deadline - loop.time()) * 1000))
            records = await self._poll_once(native, min(left_ms, _POLL_SLICE_MS), max_records)
            await self._run_callbacks(native)
            if records or loop.time() >= deadline:
                return records

    def __aiter__(self) -> Consumer:
        """Iterates over records, waiting as long as it takes, until the consumer is
        closed."""
        return self

    async def __anext__(self) -> Record:
        """The next record (one at a time: only records given to the application count as
        handed out for commits)."""
        if self._closed:
            raise StopAsyncIteration
        native = await self._started()
        while True:
            await self._run_callbacks(native)
            if self._closed:
                raise StopAsyncIteration
            try:
                records = await self._poll_once(native, _POLL_SLICE_MS, 1)
            except Closed:
                raise StopAsyncIteration from None
            if records:
                await self._run_callbacks(native)
                return records[0]

    async def commit(self, offsets: Optional[Offsets] = None) -> None:
        """Commits the positions of records handed out so far, or the given ``offsets``
        (partition → next offset to read)."""
        native = await self._started()
        await native._commit_async(offsets)

    async def committed(self, partition: PartitionRef) -> Optional[int]:
        """The group's committed offset of a partition, or ``None``."""
        native = await self._started()
        return await asyncio.to_thread(native.committed, partition)

    async def position(self, partition: PartitionRef) -> Optional[int]:
        """The offset of the next record handed out from a partition, or ``None``."""
        native = await self._started()
        return await asyncio.to_thread(native.position, partition)

    async def assignment(self) -> List[TopicPartition]:
        """The partitions this consumer reads now."""
        native = await self._started()
        return await asyncio.to_thread(native.assignment)

    async def assign(self, partitions: Sequence[PartitionRef]) -> None:
        """Reads these partitions without group membership (see :meth:`weir.Consumer.assign`)."""
        native = await self._started()
        await asyncio.to_thread(native.assign, partitions)

    async def seek(self, partition: PartitionRef, offset: int) -> None:
        """Continues a partition at ``offset``."""
        native = await self._started()
        await asyncio.to_thread(native.seek, partition, offset)

    async def seek_to_timestamp(self, partition: PartitionRef, timestamp: int) -> None:
        """Continues a partition at its first record at or after ``timestamp`` (ms)."""
        native = await self._started()
        await asyncio.to_thread(native.seek_to_timestamp, partition, timestamp)

    async def pause(self, partitions: Sequence[PartitionRef]) -> None:
        """Stops handing out records of these partitions until :meth:`resume`."""
        native = await self._started()
        await asyncio.to_thread(native.pause, partitions)

    async def resume(self, partitions: Sequence[PartitionRef]) -> None:
        """Undoes :meth:`pause`."""
        native = await self._started()
        await asyncio.to_thread(native.resume, partitions)

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    async def close(self) -> None:
        """Commits handed-out positions (auto mode), leaves the group at once and stops
        fetching; runs the last ``on_revoke``. Idempotent; the close finishes even when the
        awaiting task is cancelled (Ctrl-C under ``asyncio.run``)."""
        self._closed = True
        native = self._native
        if native is None:
            return
        await asyncio.shield(native._close_async())
        await self._run_callbacks(native)

    async def __aenter__(self) -> Consumer:
        """Connects and joins the group."""
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        """Closes the consumer."""
        await self.close()


class Admin:
    """An asyncio admin client: every method of :class:`weir.Admin` (topics, offsets, groups,
    tenants, API keys, quotas, usage) as a coroutine, with the same arguments, results and
    exceptions. Takes the same settings as :class:`weir.Admin`.

    Each call runs the blocking call of :class:`weir.Admin` in a worker thread
    (``asyncio.to_thread``, GIL released): admin calls are few, and so are the threads. A
    cancelled call stops being awaited but still finishes on the server.
    """

    def __init__(
        self,
        *,
        url: str = _weir.URL_DEFAULT,
        tenant: str = _weir.TENANT_DEFAULT,
        token: Optional[str] = None,
        request_timeout_ms: int = 30_000,
    ) -> None:
        self._settings: Dict[str, Any] = dict(
            url=url, tenant=tenant, token=token, request_timeout_ms=request_timeout_ms
        )
        self._native: Optional[_weir.Admin] = None
        self._starting: Optional[asyncio.Lock] = None

    async def start(self) -> Admin:
        """Connects (once; later calls do nothing) and returns the admin client."""
        await self._started()
        return self

    async def _started(self) -> _weir.Admin:
        if self._native is not None:
            return self._native
        if self._starting is None:
            self._starting = asyncio.Lock()
        async with self._starting:
            if self._native is None:
                settings = self._settings
                self._native = await asyncio.to_thread(lambda: _weir.Admin(**settings))
            return self._native

    async def _call(self, call: Callable[[_weir.Admin], _T]) -> _T:
        native = await self._started()
        return await asyncio.to_thread(call, native)

    async def create_topic(
        self, name: str, partitions: int = 1, config: Optional[Dict[str, int]] = None
    ) -> TopicInfo:
        """Creates a topic (see :meth:`weir.Admin.create_topic`). Raises
        :class:`weir.TopicAlreadyExists`."""
        return await self._call(lambda a: a.create_topic(name, partitions, config))

    async def list_topics(self) -> List[TopicInfo]:
        """Every topic of the tenant."""
        return await self._call(lambda a: a.list_topics())

    async def describe_topic(self, name: str) -> TopicInfo:
        """One topic: partitions with offsets and sizes, and every setting."""
        return await self._call(lambda a: a.describe_topic(name))

    async def alter_topic(
        self,
        name: str,
        *,
        config: Optional[Dict[str, int]] = None,
        partitions: Optional[int] = None,
    ) -> TopicInfo:
        """Changes settings and/or grows the partition count."""
        return await self._call(lambda a: a.alter_topic(name, config=config, partitions=partitions))

    async def delete_topic(self, name: str) -> None:
        """Deletes a topic and its data."""
        await self._call(lambda a: a.delete_topic(name))

    async def list_offsets(
        self,
        topic: str,
        spec: Union[str, int] = "latest",
        partitions: Optional[Sequence[int]] = None,
    ) -> Dict[int, Optional[int]]:
        """Offsets of a topic's partitions (see :meth:`weir.Admin.list_offsets`)."""
        return await self._call(lambda a: a.list_offsets(topic, spec, partitions))

    async def partition_count(self, topic: str) -> int:
        """The partition count of a topic."""
        return await self._call(lambda a: a.partition_count(topic))

    async def list_groups(self) -> List[GroupSummary]:
        """Every consumer group of the tenant, with member counts and total lag."""
        return await self._call(lambda a: a.list_groups())

    async def describe_group(self, group: str) -> GroupInfo:
        """A group's members, assignments, committed offsets and lag per partition."""
        return await self._call(lambda a: a.describe_group(group))

    async def committed_offsets(
        self, group: str, topics: Optional[Sequence[str]] = None
    ) -> Dict[TopicPartition, int]:
        """A group's committed offsets of ``topics`` (all when ``None``)."""
        return await self._call(lambda a: a.committed_offsets(group, topics))

    async def delete_group(self, group: str) -> None:
        """Deletes a group without members, with its committed offsets."""
        await self._call(lambda a: a.delete_group(group))

    async def reset_offsets(
        self,
        group: str,
        to: str,
        value: Optional[int] = None,
        *,
        topics: Optional[Sequence[str]] = None,
        dry_run: bool = False,
    ) -> List[OffsetChange]:
        """Moves the committed offsets of a group without members (see
        :meth:`weir.Admin.reset_offsets`); with ``dry_run=True`` nothing changes."""
        return await self._call(
            lambda a: a.reset_offsets(group, to, value, topics=topics, dry_run=dry_run)
        )

    async def create_tenant(self, name: str) -> TenantInfo:
        """Creates a tenant (needs ``admin``). Raises :class:`weir.TenantAlreadyExists`."""
        return await self._call(lambda a: a.create_tenant(name))

    async def list_tenants(self) -> List[TenantInfo]:
        """The tenants the credential can see: every one with ``admin``, else its own."""
        return await self._call(lambda a: a.list_tenants())

    async def delete_tenant(self, name: str) -> None:
        """Deletes a tenant without topics or groups (needs ``admin``); its keys stop
        working."""
        await self._call(lambda a: a.delete_tenant(name))

    async def create_key(
        self,
        name: str,
        scopes: Optional[Sequence[str]] = None,
        *,
        expires_at_ms: Optional[int] = None,
    ) -> CreatedKey:
        """Creates an API key in this client's tenant (see :meth:`weir.Admin.create_key`);
        the secret is ``CreatedKey.key``, in this answer only."""
        return await self._call(lambda a: a.create_key(name, scopes, expires_at_ms=expires_at_ms))

    async def list_keys(self) -> List[KeyInfo]:
        """This tenant's API keys, revoked ones included (never their secrets)."""
        return await self._call(lambda a: a.list_keys())

    async def revoke_key(self, id: str) -> None:
        """Revokes one of this tenant's keys by ``KeyInfo.id``; it stops working at once.
        Raises :class:`weir.KeyNotFound`."""
        await self._call(lambda a: a.revoke_key(id))

    async def quotas(self, tenant: Optional[str] = None) -> Quotas:
        """The quotas in force for ``tenant`` (default: this client's); 0 means unlimited."""
        return await self._call(lambda a: a.quotas(tenant))

    async def set_quotas(self, tenant: str, change: QuotaChange) -> Quotas:
        """Changes ``tenant``'s quotas (needs ``admin``; see :meth:`weir.Admin.set_quotas`)
        and returns the quotas now in force."""
        return await self._call(lambda a: a.set_quotas(tenant, change))

    async def usage(self, tenant: Optional[str] = None) -> Usage:
        """What ``tenant`` (default: this client's) uses now."""
        return await self._call(lambda a: a.usage(tenant))

    async def close(self) -> None:
        """Nothing to release (calls are independent); for symmetry with the other
        clients."""

    async def __aenter__(self) -> Admin:
        """Connects."""
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        """Closes the admin client."""
        await self.close()
