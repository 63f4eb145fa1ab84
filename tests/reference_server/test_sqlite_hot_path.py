"""The SQLite store's hot-path shortcuts keep its promises: the key cache never serves a request
that arrives after a change to ``keys`` (made by any instance, or by any writer of the file),
refused keys are not cached, an admission with nothing to charge skips the transaction but
never the sweep of stale holds, and settlements committed as a group are each committed, once,
before their caller returns.

A request that arrives after a change is handled in a later event loop iteration than any lookup
made before it; ``_next_request()`` (one ``sleep(0)``) stands for that.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from reference_server.controls.base import hash_key
from reference_server.controls.budgets import Account
from reference_server.controls.keys import KeyRecord
from reference_server.controls.ledger import LedgerRow
from reference_server.controls.stores import AdmitRequest, BudgetCharge, StoreUnavailableError
from reference_server.controls.stores import sqlite as sqlite_module
from reference_server.controls.stores.sqlite import SqliteStore
from tests.reference_server.test_stores import _row as _ledger_row

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


async def _next_request() -> None:
    await asyncio.sleep(0)


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
    await _next_request()
    assert await second.key_by_hash(DIGEST) is None


async def test_sqlite_key_generation_read_once_per_loop_iteration(stores):
    """Lookups handled in one loop iteration arrived before its first read of the generation:
    they share that read; the next iteration reads again and sees a revocation."""
    first, second = stores
    assert await _cached_lookup(second) is not None
    await _next_request()
    reads: list[str] = []
    assert second._runner.inline_conn is not None
    second._runner.inline_conn.set_trace_callback(reads.append)
    for _ in range(5):  # no suspension between these: one iteration
        assert await second.key_by_hash(DIGEST) == _record()
    assert sum("key_generation" in sql for sql in reads) == 1, reads
    assert await first.delete_key("k1")
    await _next_request()
    assert await second.key_by_hash(DIGEST) is None
    assert sum("key_generation" in sql for sql in reads) == 2, reads


async def test_sqlite_key_cache_sees_a_change_by_any_writer_of_the_file(stores, tmp_path):
    _, second = stores
    assert await _cached_lookup(second) == _record()
    # Not through the store API: the triggers in the schema bump the generation all the same.
    with sqlite3.connect(tmp_path / "controls.db") as conn:
        conn.execute("UPDATE keys SET scopes=?, rpm=? WHERE id='k1'", ('["admin"]', 1))
    await _next_request()
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
    await _next_request()
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


def _ledger_ids(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {row[0] for row in conn.execute("SELECT request_id FROM ledger")}


async def test_sqlite_settlements_arriving_together_share_one_commit(stores, tmp_path):
    first, _ = stores
    await first.settle(_ledger_row("warm", 7), 0)  # the inline connection exists from here on
    statements: list[str] = []
    assert first._runner.inline_conn is not None
    first._runner.inline_conn.set_trace_callback(statements.append)
    path = tmp_path / "controls.db"

    async def settle(n: int) -> None:
        assert await first.settle(_ledger_row(f"r{n}", 7), 15)
        # Returned: committed, visible to any other connection (another worker, the admin API).
        assert f"r{n}" in _ledger_ids(path)

    await asyncio.gather(*(settle(n) for n in range(20)))
    assert statements.count("BEGIN IMMEDIATE") == 1, statements
    assert statements.count("COMMIT") == 1
    assert _ledger_ids(path) == {"warm", *(f"r{n}" for n in range(20))}
    assert await first.settle(_ledger_row("r3", 7), 15) is False  # never written twice


async def test_sqlite_one_failing_settlement_does_not_fail_its_group(stores, tmp_path, monkeypatch):
    first, _ = stores
    real = sqlite_module._settle_row

    def flaky(conn: sqlite3.Connection, row: LedgerRow, tokens_used: int) -> bool:
        if row.request_id == "bad":
            raise sqlite3.OperationalError("disk I/O error")
        return real(conn, row, tokens_used)

    monkeypatch.setattr(sqlite_module, "_settle_row", flaky)
    results = await asyncio.gather(
        *(first.settle(_ledger_row(rid, 7), 15) for rid in ("a", "bad", "b")),
        return_exceptions=True,
    )
    assert results[0] is True
    assert results[2] is True
    assert isinstance(results[1], StoreUnavailableError)
    assert _ledger_ids(tmp_path / "controls.db") == {"a", "b"}


async def test_sqlite_settlement_of_a_cancelled_caller_is_still_committed(stores, tmp_path):
    first, _ = stores
    waiter = asyncio.ensure_future(first.settle(_ledger_row("gone", 7), 15))
    await asyncio.sleep(0)  # queued for the next group commit
    waiter.cancel()  # the client went away; what it was served is billed all the same
    await first.settle(_ledger_row("next", 7), 15)
    assert _ledger_ids(tmp_path / "controls.db") == {"gone", "next"}


async def test_sqlite_close_commits_settlements_in_flight(tmp_path):
    store = SqliteStore(tmp_path / "controls.db")
    await store.put_key(_record())
    pending = asyncio.ensure_future(store.settle(_ledger_row("late", 7), 15))
    await asyncio.sleep(0)
    await store.close()
    assert pending.done()
    assert pending.result() is True
    assert _ledger_ids(tmp_path / "controls.db") == {"late"}


async def test_sqlite_settlement_bug_reaches_its_callers_and_spares_the_next_group(
    stores, tmp_path, monkeypatch
):
    first, _ = stores
    real = sqlite_module._settle_rows
    monkeypatch.setattr(sqlite_module, "_settle_rows", lambda conn, rows: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        await first.settle(_ledger_row("broken", 7), 15)
    monkeypatch.setattr(sqlite_module, "_settle_rows", real)
    assert await first.settle(_ledger_row("after", 7), 15)
    assert _ledger_ids(tmp_path / "controls.db") == {"after"}
