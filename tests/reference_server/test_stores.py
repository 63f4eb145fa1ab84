"""Stores: the same atomic behaviours on SQLite and on a real redis-server; SQLite shared by
several processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import shutil
import socket
import sqlite3
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from conformance.launch import free_port
from reference_server.controls.base import hash_key
from reference_server.controls.budgets import Account
from reference_server.controls.keys import KeyRecord
from reference_server.controls.ledger import LedgerRow
from reference_server.controls.ratelimits import Limit
from reference_server.controls.stores import AdmitRequest, BudgetCharge, RateCharge
from reference_server.controls.stores.redis import RedisStore
from reference_server.controls.stores.sqlite import SqliteStore


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """Start ``redis-server`` (no persistence) on a free loopback port; yield its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (Debian package redis-server)")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"redis-server on port {port} did not start") from None
                time.sleep(0.02)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "redis"], ids=["sqlite", "redis"])
async def store(request, tmp_path) -> AsyncIterator[SqliteStore | RedisStore]:
    if request.param == "sqlite":
        made: SqliteStore | RedisStore = SqliteStore(tmp_path / "controls.db")
    else:
        url = request.getfixturevalue("redis_url")
        made = RedisStore(url, timeout_s=1.0, prefix=f"t{time.monotonic_ns()}:")
    try:
        yield made
    finally:
        await made.close()


def _row(request_id: str, credits: int, *, key_id: str = "k1", model: str = "m") -> LedgerRow:
    now = time.time()
    return LedgerRow(
        request_id=request_id,
        key_id=key_id,
        owner="alice",
        endpoint="chat",
        model_asked=model,
        deployment=f"d/{model}",
        model_served=model,
        prompt_tokens=10,
        completion_tokens=5,
        units=0.0,
        credits_micro=credits,
        outcome="ok",
        streaming=False,
        started_at=now,
        first_byte_at=now,
        finished_at=now,
        settled_at=now,
    )


def _admit(rid: str, amount: int, limit: int, *, now: float | None = None) -> AdmitRequest:
    return AdmitRequest(
        request_id=rid,
        key_id="k1",
        rates=(),
        budgets=(BudgetCharge("key:k1:total", limit),),
        amount=amount,
        now=time.time() if now is None else now,
    )


async def test_stores_reserve_settle_release_keep_budget(store):
    assert (await store.admit(_admit("r1", 60, 100))).admitted
    assert not (await store.admit(_admit("r2", 60, 100))).admitted
    assert await store.budget_account("key:k1:total") == Account(0, 60)
    assert await store.settle(_row("r1", 25), 15)
    assert await store.budget_account("key:k1:total") == Account(25, 0)
    assert (await store.admit(_admit("r3", 60, 100))).admitted
    await store.release("r3", time.time())
    assert await store.budget_account("key:k1:total") == Account(25, 0)
    assert await store.key_usage("k1") == (25, 0)


async def test_stores_settle_writes_ledger_once(store):
    assert (await store.admit(_admit("r1", 50, 100))).admitted
    assert await store.settle(_row("r1", 30), 15)
    assert not await store.settle(_row("r1", 30), 15)  # a retry of the same settlement
    await store.release("r1", time.time())  # and a late release: both no-ops
    assert await store.budget_account("key:k1:total") == Account(30, 0)
    [total] = await store.spend(key_id="k1", owner=None, group_by=None)
    assert (total.credits_micro, total.requests) == (30, 1)


async def test_stores_spend_groups(store):
    await store.settle(_row("a", 10, model="x"), 1)
    await store.settle(_row("b", 20, model="y"), 1)
    await store.settle(_row("c", 5, model="x", key_id="k2"), 1)
    by_model = await store.spend(key_id=None, owner="alice", group_by="model")
    assert [(g.group, g.credits_micro, g.requests) for g in by_model] == [
        ("x", 15, 2),
        ("y", 20, 1),
    ]
    by_key = await store.spend(key_id="k2", owner=None, group_by="deployment")
    assert [(g.group, g.credits_micro) for g in by_key] == [("d/x", 5)]
    by_day = await store.spend(key_id=None, owner=None, group_by="day")
    assert len(by_day) == 1
    assert by_day[0].requests == 3


async def test_stores_rate_limit_refusal_changes_nothing(store):
    limit = Limit("requests", 2, 60.0)
    now = time.time()

    def req(rid: str) -> AdmitRequest:
        return AdmitRequest(
            rid,
            "k1",
            rates=(RateCharge("k1:requests", limit, 1),),
            budgets=(BudgetCharge("key:k1:total", 1000),),
            amount=10,
            now=now,
        )

    first, second, third = [await store.admit(req(r)) for r in ("a", "b", "c")]
    assert first.admitted
    assert second.admitted
    assert third.status == "rate_limited"
    assert third.retry_after_s == pytest.approx(30.0)
    assert [v.remaining for _, v in (first.verdicts + second.verdicts)] == [1, 0]
    assert await store.budget_account("key:k1:total") == Account(0, 20)  # c holds nothing


async def test_stores_tokens_limit_corrected_on_settle(store):
    limit = Limit("tokens", 100, 60.0)
    now = time.time()

    def req(rid: str, cost: int) -> AdmitRequest:
        return AdmitRequest(
            rid, "k1", rates=(RateCharge("k1:tokens", limit, cost),), budgets=(), amount=0, now=now
        )

    assert (await store.admit(req("a", 80))).admitted
    assert not (await store.admit(req("b", 30))).admitted
    assert await store.settle(_row("a", 1), 15)  # used 15 of the 80 held: 65 refunded
    again = await store.admit(req("b", 30))
    assert again.admitted
    assert again.verdicts[0][1].remaining == pytest.approx(55, abs=1)


async def test_stores_expired_holds_are_swept(store):
    stale = AdmitRequest(
        "old",
        "k1",
        rates=(),
        budgets=(BudgetCharge("key:k1:total", 100),),
        amount=90,
        now=time.time() - 1000,
        hold_ttl_s=10,
    )
    assert (await store.admit(stale)).admitted
    # The next admission (first of this store instance past the sweep period) frees the hold.
    assert (await store.admit(_admit("new", 90, 100))).admitted
    assert await store.budget_account("key:k1:total") == Account(0, 90)


async def test_stores_keys_by_hash_and_delete(store):
    record = KeyRecord("k9", "bob", "ci", hash_key("sk-x"), frozenset({"ai:consume"}), rpm=5)
    await store.put_key(record)
    found = await store.key_by_hash(hash_key("sk-x"))
    assert found is not None
    assert (found.id, found.owner, found.rpm, found.scopes) == (
        "k9",
        "bob",
        5,
        frozenset({"ai:consume"}),
    )
    assert await store.delete_key("k9")
    assert await store.key_by_hash(hash_key("sk-x")) is None
    assert not await store.delete_key("k9")


async def test_stores_seed_updates_config_keys(store):
    await store.seed_keys(
        [KeyRecord("demo", "u", "d", hash_key("a"), frozenset({"ai:consume"}), source="config")]
    )
    await store.seed_keys(
        [
            KeyRecord(
                "demo", "u", "d", hash_key("b"), frozenset({"ai:consume"}), tpm=9, source="config"
            )
        ]
    )
    assert await store.key_by_hash(hash_key("a")) is None
    found = await store.key_by_hash(hash_key("b"))
    assert found is not None
    assert found.tpm == 9


async def test_stores_redis_unreachable_fails_fast():
    from reference_server.controls.stores import StoreUnavailableError

    dead = RedisStore(f"redis://127.0.0.1:{free_port()}/0", timeout_s=0.2)
    started = time.monotonic()
    with pytest.raises(StoreUnavailableError, match=r"127\.0\.0\.1"):
        await dead.admit(_admit("r", 1, 10))
    assert time.monotonic() - started < 2
    await dead.close()


async def test_stores_redis_burst_beyond_the_pool_waits_for_a_connection(redis_url):
    """More commands in flight on one worker than it has connections: they queue, none fails.

    redis-py's default asyncio pool refuses the 101st concurrent command (MaxConnectionsError),
    which the controls turn into a 503 with Redis idle; a burst on one worker must not do that.
    """
    import redis.asyncio as aioredis

    observer = aioredis.Redis.from_url(redis_url)
    before = int((await observer.info("clients"))["connected_clients"])
    store = RedisStore(
        redis_url, timeout_s=5.0, max_connections=8, prefix=f"t{time.monotonic_ns()}:"
    )
    try:
        outcomes = await asyncio.gather(
            *(store.admit(_admit(f"r{i}", 1, 10_000)) for i in range(300))
        )
        assert all(outcome.admitted for outcome in outcomes)
        assert await store.budget_account("key:k1:total") == Account(0, 300)
        during = int((await observer.info("clients"))["connected_clients"])
        assert during - before <= 8, (before, during)
    finally:
        await store.close()
        await observer.aclose()


def test_stores_sqlite_lock_wait_is_bounded(tmp_path):
    from reference_server.controls.stores import StoreUnavailableError

    path = tmp_path / "locked.db"
    asyncio.run(_touch(path))
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        store = SqliteStore(path, busy_timeout_s=0.2)
        started = time.monotonic()
        with pytest.raises(StoreUnavailableError, match="locked"):
            asyncio.run(store.admit(_admit("r", 1, 10)))
        assert time.monotonic() - started < 2
    finally:
        holder.execute("ROLLBACK")
        holder.close()


async def _touch(path) -> None:
    store = SqliteStore(path)
    await store.key_by_id("nothing")
    await store.close()


def _hammer(path: str, worker: int, count: int, limit: int) -> None:
    async def run() -> None:
        store = SqliteStore(path)
        for i in range(count):
            rid = f"w{worker}-{i}"
            outcome = await store.admit(_admit(rid, 7, limit))
            if outcome.admitted:
                await store.settle(_row(rid, 5 + (i % 3)), 1)
        await store.close()

    asyncio.run(run())


def test_stores_sqlite_processes_share_one_budget(tmp_path):
    """Four processes race on one budget: no overspend, nothing lost, ledger == counters."""
    path = str(tmp_path / "shared.db")
    asyncio.run(_touch(path))
    limit = 1000
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_hammer, args=(path, w, 80, limit)) for w in range(4)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=60)
        assert proc.exitcode == 0
    conn = sqlite3.connect(path)
    spent, reserved = conn.execute(
        "SELECT spent, reserved FROM budget_counters WHERE bucket='key:k1:total'"
    ).fetchone()
    ledger_sum, rows = conn.execute("SELECT SUM(credits_micro), COUNT(*) FROM ledger").fetchone()
    conn.close()
    assert reserved == 0
    assert spent == ledger_sum
    assert spent <= limit
    # Each admission holds 7 and settles <= 7; the budget admits until fewer than 7 remain.
    assert limit - spent < 7 * 4 or rows == 320


def _seed_at_once(path: str, barrier: Any) -> None:
    store = SqliteStore(path)
    barrier.wait()
    record = KeyRecord("k", "o", "n", hash_key("x"), frozenset({"ai:consume"}), source="config")
    asyncio.run(store.seed_keys([record]))
    asyncio.run(store.close())


def test_stores_sqlite_workers_start_together_on_fresh_file(tmp_path):
    """Workers booting at once race on creating the file and switching it to WAL."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(6)
    path = str(tmp_path / "fresh.db")
    procs = [ctx.Process(target=_seed_at_once, args=(path, barrier)) for _ in range(6)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=60)
    assert [proc.exitcode for proc in procs] == [0] * 6
