"""kill -9 during load: every response a client received is in the ledger, once, with the credits
the client was told; after a restart the store is consistent and crashed requests' holds expire.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from typing import Any

import httpx
import pytest

from tests.reference_server.test_concurrency import chat, kill9, live_server, write_config

pytestmark = pytest.mark.slow

ADMIN = {"authorization": "Bearer sk-admin-test"}


def test_crash_kill9_ledger_matches_what_clients_received(tmp_path):
    db = tmp_path / "controls.db"
    config = write_config(
        tmp_path,
        {"hold_ttl_s": 1, "key_limits": {"load": {"budget_credits": 1000.0}}},
        {"load": "sk-load-key"},
    )
    received: dict[str, int] = {}  # request id -> credits told to the client
    failures = 0

    with live_server(config, workers=2) as (origin, proc):

        async def load() -> None:
            nonlocal failures
            stop = time.monotonic() + 8

            async def user(n: int) -> None:
                nonlocal failures
                async with httpx.AsyncClient(base_url=origin, timeout=5) as client:
                    i = 0
                    while time.monotonic() < stop:
                        i += 1
                        try:
                            status, credits, _, headers = await chat(
                                client, "sk-load-key", stream=i % 2 == 0, i=n * 10_000 + i
                            )
                        except httpx.HTTPError:
                            failures += 1
                            return  # the server is gone
                        assert status == 200
                        assert credits is not None
                        received[headers["x-request-id"].removeprefix("req_")] = credits

            async def killer() -> None:
                while len(received) < 150:
                    await asyncio.sleep(0.02)
                kill9(proc.pid)

            await asyncio.gather(killer(), *(user(n) for n in range(8)))

        asyncio.run(load())
        assert failures > 0, "the kill did not interrupt any request: the test proves nothing"

    with contextlib.closing(sqlite3.connect(db)) as conn:
        rows = dict(conn.execute("SELECT request_id, credits_micro FROM ledger").fetchall())
    missing = sorted(set(received) - set(rows))
    assert not missing, f"{len(missing)} delivered responses are not in the ledger"
    wrong = {rid: (told, rows[rid]) for rid, told in received.items() if rows[rid] != told}
    assert not wrong
    # Rows without a received response: settled, then killed before the bytes arrived.
    unseen = len(rows) - len(received)
    assert unseen <= 16  # at most the requests in flight (8 users) per worker
    print(
        f"\ncrash: {len(received)} received, {len(rows)} in ledger, {unseen} settled but undelivered"
    )

    time.sleep(1.2)  # past hold_ttl_s: holds of killed requests are expired
    with (
        live_server(config, workers=1) as (origin, _),
        httpx.Client(base_url=origin, timeout=10) as client,
    ):
        first = client.post(
            "/v1/chat/completions",
            headers={"authorization": "Bearer sk-load-key"},
            json={
                "model": "monday-standard",
                "messages": [{"role": "user", "content": "after"}],
                "max_tokens": 4,
            },
        )
        assert first.status_code == 200
        spend: dict[str, Any] = client.get(
            "/admin/spend", params={"key_id": "load"}, headers=ADMIN
        ).json()
        key: dict[str, Any] = client.get("/admin/keys/load", headers=ADMIN).json()
    with contextlib.closing(sqlite3.connect(db)) as conn:
        total, count = conn.execute("SELECT SUM(credits_micro), COUNT(*) FROM ledger").fetchone()
        spent, reserved = conn.execute(
            "SELECT spent, reserved FROM budget_counters WHERE bucket='key:load:total'"
        ).fetchone()
    assert count == len(rows) + 1
    assert round(spend["total_credits"] * 1_000_000) == total
    assert spent == total  # budget counter and ledger agree after the crash
    assert reserved == 0  # the crashed requests' holds were swept
    assert key["reserved_credits"] == 0
