"""SQLite store (embedded default): shared by every worker process on one host.

Correctness across processes: WAL journal (readers never block the writer), and every mutation is
one ``BEGIN IMMEDIATE`` transaction (takes the write lock up front, so a read-check-write can
never interleave with another process's). Durability: ``synchronous=NORMAL`` in WAL mode keeps
every committed transaction across a process crash (``kill -9``); only an OS crash or power loss
may drop the last commits (``synchronous: full`` in config closes that too, at an fsync per
commit).

Where each operation runs (inline on the event loop, or on the store's thread, writers under a
cross-process ``flock``) is ``sqlite_runner``'s business; the SQL of rows is ``sqlite_rows``'.

The hot path: ``key_by_hash`` answers a known key from a per-process cache after one read of
the key generation (bumped by trigger with every change to ``keys``, so a revocation on any
worker counts from the next lookup: no stale window), and ``admit`` with no limit or budget to
take skips its transaction (it could change nothing) unless the periodic sweep of stale holds
is due; a request on such a key costs that one read and its share of a settlement
transaction: settlements that arrive together are committed as one group (``settle``), each
caller returning once its row is committed.

Must not: know about HTTP or the request flow.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from reference_server.controls import budgets
from reference_server.controls.budgets import OwnerBudget
from reference_server.controls.keys import KeyRecord
from reference_server.controls.ledger import GroupBy, LedgerRow, SpendGroup
from reference_server.controls.stores.base import (
    AdmitOutcome,
    AdmitRequest,
    StoreUnavailableError,
    decide_admission,
    hold_for,
)
from reference_server.controls.stores.sqlite_rows import (
    GROUP_SQL,
    KEY_GENERATION_SQL,
    KEY_SELECT_SQL,
    OWNER_UPSERT_SQL,
    finish_hold,
    key_record,
    key_row,
    owner_row,
    read_owner,
    seed_owners,
    sweep_expired,
)
from reference_server.controls.stores.sqlite_runner import SqliteRunner

__all__ = ["SqliteStore"]

_SWEEP_EVERY_S = 30.0
_KEY_CACHE_SIZE = 4096  # key records cached per process (the cache empties when it is full)


class SqliteStore:
    def __init__(
        self,
        path: str | Path,
        *,
        busy_timeout_s: float = 5.0,
        synchronous: Literal["normal", "full"] = "normal",
    ) -> None:
        self._path = str(path)
        self._runner = SqliteRunner(
            self._path, busy_timeout_s=busy_timeout_s, synchronous=synchronous
        )
        self._run = self._runner.run
        self._last_sweep = 0.0
        # Key records by digest, valid while the file's key generation is the one read with
        # them (sqlite_rows.SCHEMA: every change to `keys` bumps it, by trigger).
        self._keys: dict[str, KeyRecord] = {}
        self._keys_generation: int | None = None
        # True from a read of the generation to the end of that event loop iteration.
        self._generation_current = False
        # Settlements waiting for the next group commit, and the task committing them.
        self._settling: list[tuple[LedgerRow, int, asyncio.Future[bool]]] = []
        self._committer: asyncio.Future[None] | None = None

    async def close(self) -> None:
        if self._committer is not None:  # let the settlements in flight commit first
            with contextlib.suppress(Exception):
                await self._committer
        await self._runner.close()

    # -- admission ----------------------------------------------------------------------------

    async def admit(self, request: AdmitRequest) -> AdmitOutcome:
        sweep = request.now - self._last_sweep > _SWEEP_EVERY_S
        if sweep:
            self._last_sweep = request.now
        elif not request.rates and not request.budgets:
            # Nothing to take: decide_admission admits and changes no state, so the
            # transaction would only lock, read nothing and commit nothing.
            return AdmitOutcome("ok", ())

        def work(conn: sqlite3.Connection) -> AdmitOutcome:
            if sweep:
                sweep_expired(conn, request.now)
            tats: dict[str, float | None] = {}
            for rate in request.rates:
                row = conn.execute("SELECT tat FROM rate_state WHERE key=?", (rate.key,)).fetchone()
                tats[rate.key] = row[0] if row else None
            accounts: dict[str, budgets.Account] = {}
            for charge in request.budgets:
                row = conn.execute(
                    "SELECT spent, reserved FROM budget_counters WHERE bucket=?", (charge.bucket,)
                ).fetchone()
                accounts[charge.bucket] = budgets.Account(*row) if row else budgets.Account()
            outcome, new_tats, new_accounts = decide_admission(request, tats, accounts)
            if not outcome.admitted:
                return outcome
            conn.executemany(
                "INSERT INTO rate_state(key, tat) VALUES(?, ?) "
                "ON CONFLICT(key) DO UPDATE SET tat=excluded.tat",
                new_tats.items(),
            )
            conn.executemany(
                "INSERT INTO budget_counters(bucket, spent, reserved) VALUES(?, ?, ?) "
                "ON CONFLICT(bucket) DO UPDATE SET spent=excluded.spent, reserved=excluded.reserved",
                [(b, a.spent, a.reserved) for b, a in new_accounts.items()],
            )
            hold = hold_for(request)
            if hold is not None:
                conn.execute(
                    "INSERT INTO holds VALUES(?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        hold.request_id,
                        hold.key_id,
                        json.dumps(hold.buckets),
                        hold.amount,
                        hold.tokens_key,
                        hold.tokens_interval,
                        hold.tokens_reserved,
                        hold.expires_at,
                    ),
                )
            return outcome

        return await self._run(work, write=True)

    async def settle(self, row: LedgerRow, tokens_used: int) -> bool:
        """Write the ledger row and settle its hold; True once committed, False if the row
        was settled before. Settlements that arrive together share one transaction (group
        commit); each caller still returns only after its own row is committed."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._settling.append((row, tokens_used, future))
        if self._committer is None:
            self._committer = asyncio.ensure_future(self._commit_settlements())
        return await future

    async def _commit_settlements(self) -> None:
        # Runs one loop iteration after the first settlement of a group arrives, so every
        # request task that reached its settlement in the meantime joins the group; while a
        # group is committing the next one gathers. A BEGIN IMMEDIATE ... COMMIT costs far more
        # than the rows it writes, and durability is unchanged: nobody returns before commit.
        try:
            while self._settling:
                group, self._settling = self._settling, []
                try:
                    await self._commit_group(group)
                except BaseException as exc:  # nobody may wait forever
                    for _, _, future in group:
                        _resolve(future, exc)
                    if not isinstance(exc, Exception):
                        raise  # cancelled (shutdown); a bug reaches its callers, next group goes on
        finally:
            self._committer = None
            if self._settling:  # left behind by a cancellation: never wait forever
                failed = StoreUnavailableError(f"sqlite store {self._path!r}: settlement aborted")
                for _, _, future in self._settling:
                    _resolve(future, failed)
                self._settling = []

    async def _commit_group(self, group: list[tuple[LedgerRow, int, asyncio.Future[bool]]]) -> None:
        try:
            results = await self._run(
                functools.partial(_settle_rows, rows=[(r, t) for r, t, _ in group]), write=True
            )
        except StoreUnavailableError as exc:
            if len(group) == 1:
                _resolve(group[0][2], exc)
                return
            # One row's failure must not fail the others: settle each on its own.
            for row, tokens_used, future in group:
                try:
                    done = await self._run(
                        functools.partial(_settle_row, row=row, tokens_used=tokens_used),
                        write=True,
                    )
                except StoreUnavailableError as single:
                    _resolve(future, single)
                else:
                    _resolve(future, done)
            return
        for (_, _, future), done in zip(group, results, strict=True):
            _resolve(future, done)

    async def release(self, request_id: str, now: float) -> None:
        await self._run(lambda c: finish_hold(c, request_id, now, None, 0), write=True)

    # -- keys ---------------------------------------------------------------------------------

    async def seed_keys(self, records: Iterable[KeyRecord]) -> None:
        rows = [key_row(r) for r in records]
        self._generation_current = False  # this process's own change counts at once

        def work(conn: sqlite3.Connection) -> None:
            # Config keys are the config's: re-seeding updates them (scopes, limits, secret).
            conn.executemany(
                "INSERT INTO keys VALUES(?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET "
                "owner=excluded.owner, name=excluded.name, key_sha256=excluded.key_sha256, "
                "scopes=excluded.scopes, budget_micro=excluded.budget_micro, "
                "budget_period=excluded.budget_period, rpm=excluded.rpm, tpm=excluded.tpm, "
                "source=excluded.source",
                rows,
            )

        await self._run(work, write=True)

    async def put_key(self, record: KeyRecord) -> None:
        row = key_row(record)
        self._generation_current = False
        await self._run(
            lambda c: c.execute("INSERT INTO keys VALUES(?,?,?,?,?,?,?,?,?,?,?)", row) and None,
            write=True,
        )

    async def key_by_hash(self, digest: str) -> KeyRecord | None:
        """The key with this digest. One read of the key generation answers a repeated
        lookup from this process's cache, so a key revoked or changed by any process (or
        any writer of the file) is refused for every request that arrives after the change
        commits, on every worker.

        The generation read serves the rest of the event loop iteration it was made in:
        every request handled in that iteration arrived before the iteration's poll, so
        before the read, and checking it against the state at the read is exact. The next
        iteration (where requests that arrived later are handled) reads again."""
        if self._generation_current:
            record = self._keys.get(digest)
            if record is not None:
                return record

        def work(conn: sqlite3.Connection) -> KeyRecord | None:
            if (
                conn is not self._runner.inline_conn
            ):  # on the store's thread: the cache is the loop's
                found = conn.execute(KEY_SELECT_SQL + "key_sha256=?", (digest,))
                row = found.fetchone()
                return key_record(row) if row else None
            generation = conn.execute(KEY_GENERATION_SQL).fetchone()[0]
            if not self._generation_current:
                self._generation_current = True
                asyncio.get_running_loop().call_soon(self._generation_expires)
            if generation != self._keys_generation:
                self._keys.clear()
                self._keys_generation = generation
            elif digest in self._keys:
                return self._keys[digest]
            # Read after the generation: the row is at least as new as the generation it is
            # cached under (a change in between bumps it again, and the next lookup rereads).
            found = conn.execute(KEY_SELECT_SQL + "key_sha256=?", (digest,)).fetchone()
            if found is None:
                return None  # not cached: a refused key must not grow the cache
            if len(self._keys) >= _KEY_CACHE_SIZE:
                self._keys.clear()
            record = self._keys[digest] = key_record(found)
            return record

        return await self._run(work, write=False)

    def _generation_expires(self) -> None:
        self._generation_current = False

    async def key_by_id(self, key_id: str) -> KeyRecord | None:
        def work(conn: sqlite3.Connection) -> KeyRecord | None:
            found = conn.execute(KEY_SELECT_SQL + "keys.id=?", (key_id,)).fetchone()
            return key_record(found) if found else None

        return await self._run(work, write=False)

    async def delete_key(self, key_id: str) -> bool:
        self._generation_current = False

        def work(conn: sqlite3.Connection) -> bool:
            return conn.execute("DELETE FROM keys WHERE id=?", (key_id,)).rowcount > 0

        return await self._run(work, write=True)

    async def rotate_key(self, key_id: str, digest: str) -> bool:
        self._generation_current = False

        def work(conn: sqlite3.Connection) -> bool:
            changed = conn.execute("UPDATE keys SET key_sha256=? WHERE id=?", (digest, key_id))
            return changed.rowcount > 0

        return await self._run(work, write=True)

    # -- owner budgets ------------------------------------------------------------------------

    async def seed_owner_budgets(self, budgets_: Iterable[OwnerBudget]) -> None:
        self._generation_current = False
        await self._run(functools.partial(seed_owners, budgets_=list(budgets_)), write=True)

    async def put_owner_budget(self, budget: OwnerBudget) -> None:
        self._generation_current = False
        await self._run(
            lambda c: c.execute(OWNER_UPSERT_SQL, owner_row(budget)) and None, write=True
        )

    async def owner_budget(self, owner: str) -> OwnerBudget | None:
        return await self._run(functools.partial(read_owner, owner=owner), write=False)

    async def delete_owner_budget(self, owner: str) -> bool:
        self._generation_current = False
        sql = "DELETE FROM owner_budgets WHERE owner=?"
        return await self._run(lambda c: c.execute(sql, (owner,)).rowcount > 0, write=True)

    # -- reading spend ------------------------------------------------------------------------

    async def key_usage(self, key_id: str) -> tuple[int, int]:
        def work(conn: sqlite3.Connection) -> tuple[int, int]:
            spent = conn.execute(
                "SELECT COALESCE(SUM(credits_micro), 0) FROM ledger WHERE key_id=?", (key_id,)
            ).fetchone()[0]
            held = conn.execute(
                "SELECT COALESCE(SUM(amount), 0) FROM holds WHERE key_id=?", (key_id,)
            ).fetchone()[0]
            return int(spent), int(held)

        return await self._run(work, write=False)

    async def budget_account(self, bucket: str) -> budgets.Account:
        def work(conn: sqlite3.Connection) -> budgets.Account:
            row = conn.execute(
                "SELECT spent, reserved FROM budget_counters WHERE bucket=?", (bucket,)
            ).fetchone()
            return budgets.Account(*row) if row else budgets.Account()

        return await self._run(work, write=False)

    async def spend(
        self, *, key_id: str | None, owner: str | None, group_by: GroupBy | None
    ) -> list[SpendGroup]:
        group = "'total'" if group_by is None else GROUP_SQL[group_by]
        where, args = [], []
        if key_id is not None:
            where.append("key_id=?")
            args.append(key_id)
        if owner is not None:
            where.append("owner=?")
            args.append(owner)
        sql = (
            f"SELECT {group} AS g, SUM(credits_micro), COUNT(*), SUM(prompt_tokens), "  # noqa: S608 - fixed column names
            "SUM(completion_tokens) FROM ledger"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " GROUP BY g ORDER BY g"
        )

        def work(conn: sqlite3.Connection) -> list[SpendGroup]:
            return [SpendGroup(str(r[0]), *map(int, r[1:])) for r in conn.execute(sql, args)]

        return await self._run(work, write=False)


def _settle_rows(conn: sqlite3.Connection, rows: list[tuple[LedgerRow, int]]) -> list[bool]:
    return [_settle_row(conn, row, tokens_used) for row, tokens_used in rows]


def _settle_row(conn: sqlite3.Connection, row: LedgerRow, tokens_used: int) -> bool:
    """Inside a transaction: the ledger row and its hold; False if the row exists already."""
    # A LedgerRow is a tuple in the ledger table's column order (``streaming`` binds as 0/1).
    inserted = conn.execute(
        "INSERT OR IGNORE INTO ledger VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", row
    ).rowcount
    if not inserted:
        return False  # settled before: the ledger is never written twice
    finish_hold(conn, row.request_id, row.settled_at, row.credits_micro, tokens_used)
    return True


def _resolve(future: asyncio.Future[bool], outcome: bool | BaseException) -> None:
    if future.done():  # the caller was cancelled; its row is committed (or failed) regardless
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
