"""Where the SQLite store's work runs: inline on the event loop when that cannot wait, else on
the store's one thread, writers always under the cross-process ``flock``.

Writers first take an exclusive ``flock`` on ``<path>.lock`` (a kernel queue: no sleep-and-retry
latency under contention between worker processes), then ``BEGIN IMMEDIATE``. The event loop
never waits long on SQLite: a read, or a write whose lock is free at that instant, runs inline
on the loop thread (one short transaction, tens of microseconds; at most 5 ms busy wait);
anything that would wait runs on one dedicated thread per store, where lock waits across
processes are bounded by ``busy_timeout``; past it the call raises StoreUnavailableError
(fail closed).

Must not: know the schema's tables or the store's operations (``sqlite``, ``sqlite_rows``).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal, TypeVar

from reference_server.controls.stores.base import StoreUnavailableError
from reference_server.controls.stores.sqlite_rows import SCHEMA

__all__ = ["SqliteRunner"]

_T = TypeVar("_T")

# The longest the event loop may wait on SQLite inline before the call moves to the thread.
_INLINE_BUSY_S = 0.005
_CHECKPOINT_EVERY = 200  # inline writes between WAL checkpoints (run on the store's thread)


class SqliteRunner:
    """Runs a function of a connection as a read or as one ``BEGIN IMMEDIATE`` transaction."""

    def __init__(
        self,
        path: str,
        *,
        busy_timeout_s: float,
        synchronous: Literal["normal", "full"],
    ) -> None:
        self._path = path
        self._busy_timeout_s = busy_timeout_s
        self._synchronous = synchronous
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="parity-sqlite")
        self._conn: sqlite3.Connection | None = None
        self._lock_fd: int | None = None
        self.inline_conn: sqlite3.Connection | None = None
        self._inline_lock_fd: int | None = None
        self._inline_writes = 0
        self._checkpoint: asyncio.Future[None] | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            if self._path != ":memory:":
                Path(self._path).parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                self._path,
                timeout=self._busy_timeout_s,
                isolation_level=None,  # explicit BEGIN IMMEDIATE / COMMIT
                check_same_thread=False,  # only ever used on the store's one thread
            )
            conn.execute(f"PRAGMA busy_timeout={int(self._busy_timeout_s * 1000)}")
            if self._path != ":memory:" and self._lock_fd is None:
                self._lock_fd = os.open(self._path + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
            # Set-up under the writers' lock: workers starting together on a fresh file would
            # otherwise race on the switch to WAL, which SQLite may refuse at once as busy.
            if self._lock_fd is not None:
                fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute(f"PRAGMA synchronous={self._synchronous.upper()}")
                conn.executescript("BEGIN IMMEDIATE;" + SCHEMA + "COMMIT;")
            except BaseException:
                conn.close()
                raise
            finally:
                if self._lock_fd is not None:
                    fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            self._conn = conn
        return self._conn

    @staticmethod
    def _immediate(conn: sqlite3.Connection, work: Callable[[sqlite3.Connection], _T]) -> _T:
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = work(conn)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return result

    def _try_inline(
        self, work: Callable[[sqlite3.Connection], _T], write: bool
    ) -> tuple[bool, _T | None]:
        """Run on the event loop thread when that cannot wait: a read (WAL readers never
        block), or a write whose cross-process lock is free right now. Returns (done, result);
        not done means: take the executor path, which may wait."""
        if self._conn is None or self._path == ":memory:":
            return False, None  # the first call (schema set-up) goes through the executor
        if self.inline_conn is None:
            self.inline_conn = sqlite3.connect(
                self._path, timeout=_INLINE_BUSY_S, isolation_level=None
            )
            self.inline_conn.execute(f"PRAGMA busy_timeout={int(_INLINE_BUSY_S * 1000)}")
            self.inline_conn.execute(f"PRAGMA synchronous={self._synchronous.upper()}")
            # Checkpoints copy the WAL into the database (milliseconds): never on the loop.
            self.inline_conn.execute("PRAGMA wal_autocheckpoint=0")
            self._inline_lock_fd = os.open(self._path + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        conn = self.inline_conn
        try:
            if not write:
                return True, work(conn)
            assert self._inline_lock_fd is not None
            try:
                fcntl.flock(self._inline_lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False, None
            try:
                result = self._immediate(conn, work)
            finally:
                fcntl.flock(self._inline_lock_fd, fcntl.LOCK_UN)
            self._inline_writes += 1
            if self._inline_writes % _CHECKPOINT_EVERY == 0:
                self._checkpoint = asyncio.get_running_loop().run_in_executor(
                    self._executor, self._checkpoint_now
                )
            return True, result
        except sqlite3.OperationalError:
            return False, None  # busy: the executor path waits for it (rolled back, retry safe)

    def _checkpoint_now(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):  # busy: the next one catches up
                self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)")

    async def run(self, work: Callable[[sqlite3.Connection], _T], *, write: bool) -> _T:
        try:
            done, result = self._try_inline(work, write)
        except (sqlite3.Error, OSError) as exc:
            raise StoreUnavailableError(f"sqlite store {self._path!r}: {exc}") from exc
        if done:
            return result  # type: ignore[return-value]  # done implies a result of type _T

        def call() -> _T:
            conn = self._connect()
            if not write:
                return work(conn)
            if self._lock_fd is None:
                return self._immediate(conn, work)
            # Writers queue on a kernel lock first: waiters wake the moment it is released,
            # where SQLite's busy handler would sleep 1-100 ms between retries. Each holder
            # keeps it for one short transaction (itself bounded by busy_timeout); the kernel
            # drops it if the holder dies (kill -9).
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
            try:
                return self._immediate(conn, work)
            finally:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, call)
        except (sqlite3.Error, OSError) as exc:
            raise StoreUnavailableError(f"sqlite store {self._path!r}: {exc}") from exc

    async def close(self) -> None:
        def shut() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None

        await asyncio.get_running_loop().run_in_executor(self._executor, shut)
        self._executor.shutdown(wait=True)
        if self.inline_conn is not None:
            self.inline_conn.close()
            self.inline_conn = None
        if self._inline_lock_fd is not None:
            os.close(self._inline_lock_fd)
            self._inline_lock_fd = None
