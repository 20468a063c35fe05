"""Tenancy administration through the real server, sync (`weir.Admin`) and asyncio
(`weir.aio.Admin`): tenants, scoped API keys (whose token then produces, and is refused once
revoked), quotas set, read back and cleared (and enforced), usage after producing, and the
typed exceptions of refusals."""

from __future__ import annotations

import asyncio
import time
from typing import Any, Coroutine, Dict, Optional, TypeVar

import pytest

import weir
import weir.aio
from conftest import eventually, unique
from weir_server import WeirServer

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
    """Runs a coroutine on a fresh event loop, bounded in time."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


def in_tenant(server: WeirServer, tenant: str, token: Optional[str] = None) -> Dict[str, Any]:
    """Client settings for `tenant`, with the bootstrap admin token unless `token` is given."""
    return {"url": server.grpc, "tenant": tenant, "token": token or server.token}


def test_tenant_lifecycle_and_refusals(server: WeirServer, admin: weir.Admin) -> None:
    tenant = unique("tn")
    created = admin.create_tenant(tenant)
    assert created.name == tenant
    assert created.keys == 0
    assert created.usage.topics == 0 and isinstance(created.quotas, weir.Quotas)
    listed = {t.name: t for t in admin.list_tenants()}
    assert tenant in listed and "default" in listed
    assert listed[tenant].usage.topics == 0
    with pytest.raises(weir.TenantAlreadyExists):
        admin.create_tenant(tenant)

    tenant_admin = weir.Admin(**in_tenant(server, tenant))
    tenant_admin.create_topic("kept")
    with pytest.raises(weir.TenantNotEmpty):
        admin.delete_tenant(tenant)
    tenant_admin.delete_topic("kept")
    admin.delete_tenant(tenant)
    assert tenant not in [t.name for t in admin.list_tenants()]

    missing = unique("gone")
    with pytest.raises(weir.TenantNotFound):
        admin.delete_tenant(missing)
    with pytest.raises(weir.TenantNotFound):
        admin.quotas(missing)
    with pytest.raises(weir.TenantNotFound):
        admin.set_quotas(missing, {"topics": 1})
    with pytest.raises(weir.TenantNotFound):
        admin.usage(missing)
    with pytest.raises(weir.TenantNotFound):
        admin.quotas(tenant)  # deleted


def test_scoped_key_produces_until_revoked(server: WeirServer, admin: weir.Admin) -> None:
    tenant = unique("tn")
    admin.create_tenant(tenant)
    tenant_admin = weir.Admin(**in_tenant(server, tenant))
    tenant_admin.create_topic("orders-eu")
    tenant_admin.create_topic("audit")

    created = tenant_admin.create_key("orders-writer", ["topics:write:orders-*"])
    info = created.info
    assert created.key.startswith("weir_")
    assert created.key not in repr(created), "repr leaves the secret out"
    assert info.name == "orders-writer" and info.scopes == ["topics:write:orders-*"]
    assert info.created_at_ms > 0 and info.created_by
    assert info.expires_at_ms is None and info.revoked_at_ms is None
    in_an_hour = int(time.time() * 1000) + 3_600_000
    expiring = tenant_admin.create_key("reader", ["topics:read"], expires_at_ms=in_an_hour)
    assert expiring.info.expires_at_ms == in_an_hour
    assert expiring.key != created.key

    # The new key works, within its scopes only.
    key_args = in_tenant(server, tenant, token=created.key)
    with weir.Producer(**key_args) as p:
        meta = p.send("orders-eu", b"hello").result(timeout=10)
        assert (meta.topic, meta.partition, meta.offset) == ("orders-eu", 0, 0)
        with pytest.raises(weir.Forbidden):
            p.send("audit", b"not mine").result(timeout=10)
    with pytest.raises(weir.Forbidden):
        weir.Admin(**key_args).create_key("escalate", ["admin"])
    assert tenant_admin.describe_topic("orders-eu").partitions[0].high_watermark == 1

    keys = {k.id: k for k in tenant_admin.list_keys()}
    assert set(keys) == {info.id, expiring.info.id}
    assert keys[info.id].name == "orders-writer" and keys[info.id].revoked_at_ms is None
    assert not hasattr(keys[info.id], "key"), "listed keys carry no secret"
    assert [t.keys for t in admin.list_tenants() if t.name == tenant] == [2]

    tenant_admin.revoke_key(info.id)
    revoked = {k.id: k for k in tenant_admin.list_keys()}[info.id]
    assert revoked.revoked_at_ms is not None and revoked.revoked_at_ms >= info.created_at_ms
    with pytest.raises(weir.Unauthenticated):
        weir.Producer(**key_args)
    with pytest.raises(weir.Unauthenticated):
        weir.Admin(**key_args).partition_count("orders-eu")
    with pytest.raises(weir.KeyNotFound):
        tenant_admin.revoke_key("0123456789abcdef")
    with pytest.raises(weir.InvalidRequest):
        tenant_admin.create_key("bad", ["topics:fly"])

    for topic in ("orders-eu", "audit"):
        tenant_admin.delete_topic(topic)
    admin.delete_tenant(tenant)


def test_revocation_stops_a_producer_already_connected(
    server: WeirServer, admin: weir.Admin
) -> None:
    tenant = unique("tn")
    admin.create_tenant(tenant)
    tenant_admin = weir.Admin(**in_tenant(server, tenant))
    tenant_admin.create_topic("orders")
    created = tenant_admin.create_key("writer", ["topics:write"])
    try:
        with weir.Producer(**in_tenant(server, tenant, token=created.key)) as p:
            p.send("orders", b"before").result(timeout=10)
            tenant_admin.revoke_key(created.info.id)
            with pytest.raises(weir.Unauthenticated):
                p.send("orders", b"after").result(timeout=10)
    finally:
        tenant_admin.delete_topic("orders")
        admin.delete_tenant(tenant)


def test_quotas_set_read_back_clear_and_enforced(server: WeirServer, admin: weir.Admin) -> None:
    tenant = unique("tn")
    admin.create_tenant(tenant)
    tenant_admin = weir.Admin(**in_tenant(server, tenant))
    before = admin.quotas(tenant)

    change: weir.QuotaChange = {"topics": 2, "produce_bytes_per_sec": 5_000_000, "live_tails": 3}
    now = admin.set_quotas(tenant, change)
    assert (now.topics, now.produce_bytes_per_sec, now.live_tails) == (2, 5_000_000, 3)
    assert (now.partitions, now.groups, now.storage_bytes) == (
        before.partitions,
        before.groups,
        before.storage_bytes,
    ), "quotas not named keep their value"
    for read in (admin.quotas(tenant), tenant_admin.quotas()):  # the default: own tenant
        assert (read.topics, read.produce_bytes_per_sec, read.live_tails) == (2, 5_000_000, 3)
    assert [t.quotas.topics for t in admin.list_tenants() if t.name == tenant] == [2]

    tenant_admin.create_topic("a")
    tenant_admin.create_topic("b")
    with pytest.raises(weir.CountQuotaExceeded):
        tenant_admin.create_topic("c")

    # 0 clears a limit; None (like a name left out) keeps one.
    cleared = admin.set_quotas(tenant, {"topics": 0, "live_tails": None})
    assert (cleared.topics, cleared.live_tails, cleared.produce_bytes_per_sec) == (0, 3, 5_000_000)
    assert admin.quotas(tenant).topics == 0
    tenant_admin.create_topic("c")  # unlimited again

    with pytest.raises(weir.InvalidArgument, match="unknown quota"):
        admin.set_quotas(tenant, {"topic": 1})  # type: ignore[typeddict-unknown-key]
    with pytest.raises(weir.InvalidArgument):
        admin.set_quotas(tenant, {"topics": -1})
    assert admin.quotas(tenant).topics == 0, "a refused change changes nothing"

    for topic in ("a", "b", "c"):
        tenant_admin.delete_topic(topic)
    admin.delete_tenant(tenant)


def test_usage_reports_what_was_produced(server: WeirServer, admin: weir.Admin) -> None:
    tenant = unique("tn")
    admin.create_tenant(tenant)
    tenant_admin = weir.Admin(**in_tenant(server, tenant))
    tenant_admin.create_topic("events", partitions=3)
    idle = admin.usage(tenant)
    assert (idle.topics, idle.partitions, idle.groups, idle.storage_bytes) == (1, 3, 0, 0)

    with weir.Producer(**in_tenant(server, tenant)) as p:

        def produce_and_look() -> Optional[weir.Usage]:
            # Rates cover the last complete second: produce on every look, so one is busy.
            for i in range(10):
                p.send("events", b"x" * 1000, key=str(i))
            p.flush(timeout=10)
            usage = admin.usage(tenant)
            busy = usage.produce_bytes_per_sec > 0 and usage.requests_per_sec > 0
            return usage if busy and usage.storage_bytes >= 10_000 else None

        usage = eventually(produce_and_look, "usage showing the records produced")
    assert usage is not None
    assert (usage.topics, usage.partitions, usage.groups) == (1, 3, 0)
    assert usage.throttled_requests_total == 0
    own = tenant_admin.usage()  # the default: own tenant
    assert (own.topics, own.partitions) == (1, 3) and own.storage_bytes >= usage.storage_bytes

    tenant_admin.delete_topic("events")
    admin.delete_tenant(tenant)


def test_async_tenancy(server: WeirServer) -> None:
    tenant = unique("tn")

    async def main() -> None:
        async with weir.aio.Admin(**server.client_args()) as admin:
            created = await admin.create_tenant(tenant)
            assert created.name == tenant
            assert tenant in [t.name for t in await admin.list_tenants()]
            with pytest.raises(weir.TenantAlreadyExists):
                await admin.create_tenant(tenant)

            tenant_admin = await weir.aio.Admin(**in_tenant(server, tenant)).start()
            await tenant_admin.create_topic("orders-eu", partitions=2)
            key = await tenant_admin.create_key("writer", ["topics:write:orders-*"])
            assert key.key.startswith("weir_") and key.info.scopes == ["topics:write:orders-*"]
            key_args = in_tenant(server, tenant, token=key.key)
            async with weir.aio.Producer(**key_args) as p:
                metas = await asyncio.gather(*(p.send("orders-eu", f"{i}") for i in range(4)))
            assert len(metas) == 4 and min(m.offset for m in metas) == 0
            described = await tenant_admin.describe_topic("orders-eu")
            assert sum(part.high_watermark for part in described.partitions) == 4
            assert [k.id for k in await tenant_admin.list_keys()] == [key.info.id]

            await tenant_admin.revoke_key(key.info.id)
            (listed,) = await tenant_admin.list_keys()
            assert listed.revoked_at_ms is not None
            with pytest.raises(weir.Unauthenticated):
                await weir.aio.Producer(**key_args).start()
            with pytest.raises(weir.KeyNotFound):
                await tenant_admin.revoke_key("0123456789abcdef")

            quotas = await admin.set_quotas(tenant, {"partitions": 3, "live_tails": 1})
            assert (quotas.partitions, quotas.live_tails) == (3, 1)
            assert (await tenant_admin.quotas()).partitions == 3
            with pytest.raises(weir.CountQuotaExceeded):
                await tenant_admin.create_topic("orders-us", partitions=2)
            quotas = await admin.set_quotas(tenant, {"partitions": 0})
            assert (quotas.partitions, quotas.live_tails) == (0, 1)
            assert (await admin.quotas(tenant)).partitions == 0
            await tenant_admin.create_topic("orders-us", partitions=2)

            usage = await admin.usage(tenant)
            assert (usage.topics, usage.partitions) == (2, 4)
            assert (await tenant_admin.usage()).topics == 2

            with pytest.raises(weir.TenantNotEmpty):
                await admin.delete_tenant(tenant)
            for topic in ("orders-eu", "orders-us"):
                await tenant_admin.delete_topic(topic)
            await admin.delete_tenant(tenant)
            with pytest.raises(weir.TenantNotFound):
                await admin.usage(tenant)
            with pytest.raises(weir.TenantNotFound):
                await admin.delete_tenant(tenant)

    run(main())
