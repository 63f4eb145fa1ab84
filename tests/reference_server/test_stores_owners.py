"""Stores: owner budgets read with their keys, key rotation and the exhausted-budget rule, alike
on SQLite and on a real redis-server."""

from __future__ import annotations

import time

from reference_server.controls.base import hash_key
from reference_server.controls.budgets import OwnerBudget
from reference_server.controls.keys import KeyRecord
from reference_server.controls.stores import AdmitRequest, BudgetCharge
from tests.reference_server.test_stores import _row, redis_url, store  # noqa: F401 - fixtures


def _key(key_id: str = "k1", owner: str = "bob", secret: str = "sk-x") -> KeyRecord:
    return KeyRecord(key_id, owner, "ci", hash_key(secret), frozenset({"ai:consume"}))


async def test_stores_owner_budget_rides_on_its_keys(store):  # noqa: F811
    await store.put_key(_key())
    found = await store.key_by_hash(hash_key("sk-x"))
    assert found is not None
    assert found.owner_budget_micro is None
    await store.put_owner_budget(OwnerBudget("bob", 500, "month"))
    for found in (await store.key_by_hash(hash_key("sk-x")), await store.key_by_id("k1")):
        assert found is not None
        assert (found.owner_budget_micro, found.owner_budget_period) == (500, "month")
    assert await store.owner_budget("bob") == OwnerBudget("bob", 500, "month", "admin")
    assert await store.delete_owner_budget("bob")
    assert not await store.delete_owner_budget("bob")
    found = await store.key_by_hash(hash_key("sk-x"))
    assert found is not None
    assert found.owner_budget_micro is None
    # The owner's budget is read with the key, never stored with it.
    await store.put_key(_key("k2", secret="sk-y"))
    again = await store.key_by_id("k2")
    assert again is not None
    assert again.owner_budget_micro is None


async def test_stores_seeding_owner_budgets_replaces_the_configs_only(store):  # noqa: F811
    await store.put_owner_budget(OwnerBudget("api-set", 7))
    await store.seed_owner_budgets([OwnerBudget("a", 1, source="config")])
    await store.seed_owner_budgets([OwnerBudget("b", 2, source="config")])
    assert await store.owner_budget("a") is None  # the config no longer names it
    assert await store.owner_budget("b") == OwnerBudget("b", 2, "total", "config")
    assert await store.owner_budget("api-set") == OwnerBudget("api-set", 7)


async def test_stores_rotate_key_replaces_the_digest(store):  # noqa: F811
    await store.put_key(_key())
    assert await store.rotate_key("k1", hash_key("sk-new"))
    assert await store.key_by_hash(hash_key("sk-x")) is None
    found = await store.key_by_hash(hash_key("sk-new"))
    assert found is not None
    assert found.id == "k1"
    assert not await store.rotate_key("k-none", hash_key("sk-z"))


async def test_stores_exhausted_budget_refuses_even_a_free_request(store):  # noqa: F811
    def request(rid: str, amount: int, limit: int) -> AdmitRequest:
        charge = BudgetCharge("owner:bob:total", limit)
        return AdmitRequest(rid, "k1", (), (charge,), amount, time.time())

    assert not (await store.admit(request("zero-budget", 0, 0))).admitted
    assert (await store.admit(request("a", 40, 40))).admitted
    assert await store.release("a", time.time()) is None
    assert (await store.admit(request("b", 40, 40))).admitted
    await store.settle(_row("b", 40), 0)
    refused = await store.admit(request("c", 0, 40))
    assert (refused.status, refused.refused_bucket) == ("over_budget", "owner:bob:total")
