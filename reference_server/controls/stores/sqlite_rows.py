"""SQLite store internals: the schema, row mappings, and settling a hold inside a transaction.

Every function here runs inside a transaction the caller (``SqliteStore``) opened.

Must not: open connections, take locks or know about the event loop.
"""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any

from reference_server.controls import budgets
from reference_server.controls.budgets import OwnerBudget
from reference_server.controls.keys import KeyRecord
from reference_server.controls.ledger import GroupBy

__all__ = [
    "GROUP_SQL",
    "KEY_GENERATION_SQL",
    "KEY_SELECT_SQL",
    "OWNER_UPSERT_SQL",
    "SCHEMA",
    "finish_hold",
    "key_record",
    "key_row",
    "owner_row",
    "read_owner",
    "seed_owners",
    "sweep_expired",
]

SCHEMA = """
CREATE TABLE IF NOT EXISTS keys (
    id TEXT PRIMARY KEY, owner TEXT NOT NULL, name TEXT NOT NULL,
    key_sha256 TEXT NOT NULL UNIQUE, scopes TEXT NOT NULL,
    budget_micro INTEGER, budget_period TEXT NOT NULL, rpm INTEGER, tpm INTEGER,
    created_at REAL NOT NULL, source TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rate_state (key TEXT PRIMARY KEY, tat REAL NOT NULL);
CREATE TABLE IF NOT EXISTS budget_counters (
    bucket TEXT PRIMARY KEY, spent INTEGER NOT NULL, reserved INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS holds (
    request_id TEXT PRIMARY KEY, key_id TEXT NOT NULL, buckets TEXT NOT NULL,
    amount INTEGER NOT NULL, tokens_key TEXT, tokens_interval REAL NOT NULL,
    tokens_reserved INTEGER NOT NULL, expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS holds_key ON holds (key_id);
CREATE INDEX IF NOT EXISTS holds_expiry ON holds (expires_at);
CREATE TABLE IF NOT EXISTS ledger (
    request_id TEXT PRIMARY KEY, key_id TEXT NOT NULL, owner TEXT NOT NULL,
    endpoint TEXT NOT NULL, model_asked TEXT NOT NULL, deployment TEXT NOT NULL,
    model_served TEXT NOT NULL, prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL, units REAL NOT NULL, credits_micro INTEGER NOT NULL,
    outcome TEXT NOT NULL, streaming INTEGER NOT NULL, started_at REAL NOT NULL,
    first_byte_at REAL, finished_at REAL NOT NULL, settled_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS ledger_key ON ledger (key_id);
CREATE INDEX IF NOT EXISTS ledger_owner ON ledger (owner);
CREATE TABLE IF NOT EXISTS key_generation (
    id INTEGER PRIMARY KEY CHECK (id = 0), value INTEGER NOT NULL
);
INSERT OR IGNORE INTO key_generation VALUES (0, 0);
CREATE TRIGGER IF NOT EXISTS keys_inserted AFTER INSERT ON keys
    BEGIN UPDATE key_generation SET value = value + 1; END;
CREATE TRIGGER IF NOT EXISTS keys_updated AFTER UPDATE ON keys
    BEGIN UPDATE key_generation SET value = value + 1; END;
CREATE TRIGGER IF NOT EXISTS keys_deleted AFTER DELETE ON keys
    BEGIN UPDATE key_generation SET value = value + 1; END;
CREATE TABLE IF NOT EXISTS owner_budgets (
    owner TEXT PRIMARY KEY, limit_micro INTEGER NOT NULL, period TEXT NOT NULL,
    source TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS owner_budgets_inserted AFTER INSERT ON owner_budgets
    BEGIN UPDATE key_generation SET value = value + 1; END;
CREATE TRIGGER IF NOT EXISTS owner_budgets_updated AFTER UPDATE ON owner_budgets
    BEGIN UPDATE key_generation SET value = value + 1; END;
CREATE TRIGGER IF NOT EXISTS owner_budgets_deleted AFTER DELETE ON owner_budgets
    BEGIN UPDATE key_generation SET value = value + 1; END;
"""
# Every change to ``keys`` or ``owner_budgets`` (admin API, config seeding, or any other writer
# of the file) bumps ``key_generation`` in the same transaction, by trigger: a process may answer
# key lookups (which carry the owner's budget) from its own cache for as long as the generation
# it read with them is still the current one.
KEY_GENERATION_SQL = "SELECT value FROM key_generation"
OWNER_UPSERT_SQL = (
    "INSERT INTO owner_budgets VALUES(?,?,?,?) ON CONFLICT(owner) DO UPDATE SET "
    "limit_micro=excluded.limit_micro, period=excluded.period, source=excluded.source"
)
# A key with its owner's budget, as ``key_record`` reads it.
KEY_SELECT_SQL = (
    "SELECT keys.*, owner_budgets.limit_micro, owner_budgets.period FROM keys "
    "LEFT JOIN owner_budgets ON owner_budgets.owner = keys.owner WHERE "
)

GROUP_SQL: dict[GroupBy, str] = {
    "model": "model_asked",
    "deployment": "deployment",
    "key": "key_id",
    "owner": "owner",
    "day": "strftime('%Y-%m-%d', settled_at, 'unixepoch')",
}


def finish_hold(
    conn: sqlite3.Connection, request_id: str, now: float, actual: int | None, tokens_used: int
) -> None:
    """Settle (``actual`` micro-credits) or release (``None``) a hold; a missing hold is a no-op."""
    hold = conn.execute(
        "DELETE FROM holds WHERE request_id=? "
        "RETURNING buckets, amount, tokens_key, tokens_interval, tokens_reserved",
        (request_id,),
    ).fetchone()
    if hold is None:
        return
    buckets_json, amount, tokens_key, interval, tokens_reserved = hold
    for bucket in json.loads(buckets_json):
        found = conn.execute(
            "SELECT spent, reserved FROM budget_counters WHERE bucket=?", (bucket,)
        ).fetchone()
        account = budgets.Account(*found) if found else budgets.Account()
        account = (
            budgets.release(account, amount)
            if actual is None
            else budgets.settle(account, amount, actual)
        )
        conn.execute(
            "UPDATE budget_counters SET spent=?, reserved=? WHERE bucket=?",
            (account.spent, account.reserved, bucket),
        )
    if tokens_key is not None:
        found = conn.execute("SELECT tat FROM rate_state WHERE key=?", (tokens_key,)).fetchone()
        if found is not None:
            delta = (tokens_used if actual is not None else 0) - tokens_reserved
            tat = max(found[0] + delta * interval, now)
            conn.execute("UPDATE rate_state SET tat=? WHERE key=?", (tat, tokens_key))


def sweep_expired(conn: sqlite3.Connection, now: float) -> None:
    """Release holds left by requests that never finished (a crashed worker)."""
    for (request_id,) in conn.execute(
        "SELECT request_id FROM holds WHERE expires_at < ?", (now,)
    ).fetchall():
        finish_hold(conn, request_id, now, None, 0)


def key_row(record: KeyRecord) -> tuple[Any, ...]:
    return (
        record.id,
        record.owner,
        record.name,
        record.key_sha256,
        json.dumps(sorted(record.scopes)),
        record.budget_micro,
        record.budget_period,
        record.rpm,
        record.tpm,
        record.created_at or time.time(),
        record.source,
    )


def key_record(row: tuple[Any, ...]) -> KeyRecord:
    """A ``KEY_SELECT_SQL`` row (the key's columns, then its owner's budget, if any)."""
    owner_budget = row[11] if len(row) > 11 else None
    return KeyRecord(
        id=row[0],
        owner=row[1],
        name=row[2],
        key_sha256=row[3],
        scopes=frozenset(json.loads(row[4])),
        budget_micro=row[5],
        budget_period=row[6],
        rpm=row[7],
        tpm=row[8],
        created_at=row[9],
        source=row[10],
        owner_budget_micro=owner_budget,
        owner_budget_period=row[12] if owner_budget is not None else "total",
    )


def owner_row(budget: OwnerBudget) -> tuple[Any, ...]:
    return (budget.owner, budget.limit_micro, budget.period, budget.source)


def seed_owners(conn: sqlite3.Connection, budgets_: list[OwnerBudget]) -> None:
    """The config's owner budgets replace the config's before them (the admin API's stay)."""
    conn.execute("DELETE FROM owner_budgets WHERE source='config'")
    conn.executemany(OWNER_UPSERT_SQL, [owner_row(b) for b in budgets_])


def read_owner(conn: sqlite3.Connection, owner: str) -> OwnerBudget | None:
    row = conn.execute(
        "SELECT owner, limit_micro, period, source FROM owner_budgets WHERE owner=?", (owner,)
    ).fetchone()
    return OwnerBudget(*row) if row else None
