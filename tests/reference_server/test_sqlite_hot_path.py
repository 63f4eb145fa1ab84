"""The SQLite store's hot-path shortcuts keep its promises: the key cache never outlives a change
to ``keys`` (made by any instance, or by any writer of the file), refused keys are not cached, and
an admission with nothing to charge skips the transaction but never the sweep of stale holds.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from reference_server.budgets import Account
from reference_server.controls import hash_key
from reference_server.keys import KeyRecord
from reference_server.stores import AdmitRequest, BudgetCharge
from reference_server.stores import sqlite as sqlite_module
from reference_server.stores.sqlite import SqliteStore

SECRET = "sk-cached"
DIGEST = hash_key(SECRET)


def _record(scopes: frozenset[str] = frozenset({"ai:consume"})) -> KeyRecord:
    return KeyRecord("k1", "alice", "ci", DIGEST, scopes, rpm=7, created_at=1.0)


@pytest.fixture
async def stores(tmp_path: Path) -> AsyncIterator[tuple[SqliteStore, SqliteStore]]:
    """Two instances on one file: two worker processes, as far as the store can tell."""
    path = tmp_path / "controls.db"
    first, second = SqliteStore(path), SqliteStore(path)
    await first.put_key(_record())
    await second.key_by_hash(DIGEST)  # the first call sets the connection up on its thread
    yield first, second
    await first.close()
    await second.close()


async def _cached_lookup(store: SqliteStore) -> KeyRecord | None:
    """A lookup that the cache must be able to answer (the second one on the loop thread)."""
    await store.key_by_hash(DIGEST)
    return await store.key_by_hash(DIGEST)


async def test_sqlite_key_cache_answers_repeats_without_rebuilding(stores, monkeypatch):
    _, second = stores
    assert await _cached_lookup(second) == _record()
    built: list[object] = []
    real = sqlite_module.key_record
    monkeypatch.setattr(sqlite_module, "key_record", lambda row: built.append(row) or real(row))
    for _ in range(3):
        assert await second.key_by_hash(DIGEST) == _record()
    assert built == []


async def test_sqlite_key_cache_sees_revocation_by_another_instance(stores):
    first, second = stores
    assert await _cached_lookup(second) is not None
    assert await first.delete_key("k1")
    assert await second.key_by_hash(DIGEST) is None


async def test_sqlite_key_cache_sees_a_change_by_any_writer_of_the_file(stores, tmp_path):
    _, second = stores
    assert await _cached_lookup(second) == _record()
    # Not through the store API: the triggers in the schema bump the generation all the same.
    with sqlite3.connect(tmp_path / "controls.db") as conn:
        conn.execute("UPDATE keys SET scopes=?, rpm=? WHERE id='k1'", ('["admin"]', 1))
    found = await second.key_by_hash(DIGEST)
    assert found is not None
    assert (found.scopes, found.rpm) == (frozenset({"admin"}), 1)


async def test_sqlite_key_cache_sees_a_key_created_after_a_miss(stores):
    first, second = stores
    other = KeyRecord(
        "k2", "bob", "ci", hash_key("sk-new"), frozenset({"ai:consume"}), created_at=1.0
    )
    assert await second.key_by_hash(other.key_sha256) is None
    assert await second.key_by_hash(other.key_sha256) is None
    await first.put_key(other)
    assert await second.key_by_hash(other.key_sha256) == other


async def test_sqlite_key_cache_holds_no_refused_keys(stores):
    _, second = stores
    await _cached_lookup(second)
    for n in range(50):
        assert await second.key_by_hash(hash_key(f"sk-wrong-{n}")) is None
    assert set(second._keys) == {DIGEST}


def _request(request_id: str, now: float, *charges: BudgetCharge) -> AdmitRequest:
    return AdmitRequest(request_id, "k1", (), charges, 50 if charges else 0, now, hold_ttl_s=10)


async def test_sqlite_admit_with_nothing_to_charge_changes_nothing(stores, tmp_path):
    first, _ = stores
    assert (await first.admit(_request("warm", 1000.0))).admitted  # the sweep of this instance
    before = _snapshot(tmp_path / "controls.db")
    outcome = await first.admit(_request("free", 1001.0))
    assert (outcome.status, outcome.verdicts) == ("ok", ())
    assert _snapshot(tmp_path / "controls.db") == before


async def test_sqlite_admit_with_nothing_to_charge_still_sweeps_stale_holds(stores):
    first, second = stores
    bucket = BudgetCharge("key:k1:total", 100)
    assert (await first.admit(_request("crashed", 1000.0, bucket))).admitted
    assert await first.budget_account("key:k1:total") == Account(0, 50)
    # `second` has not swept yet: its first admission, though it charges nothing, sweeps the
    # hold that expired (its worker "crashed" before settling).
    assert (await second.admit(_request("free", 1011.0))).admitted
    assert await second.budget_account("key:k1:total") == Account(0, 0)


def _snapshot(path: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return [
            (table, *row)
            for table in ("rate_state", "budget_counters", "holds", "ledger")
            for row in conn.execute(f"SELECT * FROM {table} ORDER BY 1")
        ]
