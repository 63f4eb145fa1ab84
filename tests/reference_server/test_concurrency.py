"""Budgets and rate limits hold across worker processes: a live 4-worker server (subprocess).

* 200 concurrent chat requests (half streamed) on one key whose budget fits a few dozen:
  spend <= budget, every refusal a well-formed ``insufficient_quota`` 429, and the ledger's sum
  equals the sum of the credits the clients were told (header or ``usage.credits_used``).
* Rate-limit accuracy: the GCRA admits ``L + L*W/P`` requests over ``W`` seconds from rest; a
  short period (P = 3 s, L = 60) stands in for "per minute" so the test takes seconds. It
  measures the shared limiter across 4 processes, not the wall-clock minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from conformance.launch import free_port, launched, reference_server_argv
from reference_server.controls.base import hash_key

pytestmark = pytest.mark.slow


def write_config(tmp_path: Path, controls: dict[str, Any], keys: dict[str, str]) -> Path:
    config = {
        "keys": [
            {
                "id": key_id,
                "owner": f"owner-{key_id}",
                "secret_sha256": hash_key(secret),
                "scopes": ["ai:consume"],
            }
            for key_id, secret in keys.items()
        ],
        "controls": {
            "store": {"path": str(tmp_path / "controls.db")},
            "admin_key": "sk-admin-test",
            **controls,
        },
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@contextlib.contextmanager
def live_server(config: Path, workers: int = 4) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``python -m reference_server serve --workers N``; its output goes to ``<config>.log``."""
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    argv = reference_server_argv(
        "--config",
        str(config),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
    )
    with launched(argv, origin + "/api/models", log=config.with_suffix(".log")) as proc:
        time.sleep(0.5 * workers)  # let every worker finish booting
        yield origin, proc


def kill9(pid: int) -> None:
    """SIGKILL a server process and its workers (uvicorn's supervisor first: it would restart
    them), the way a machine losing power stops them all at once."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    for child in children:
        with contextlib.suppress(ProcessLookupError, FileNotFoundError):
            kill9(int(child))


def micro(value: str | float) -> int:
    return int((Decimal(str(value)) * 1_000_000).to_integral_value())


async def chat(
    client: httpx.AsyncClient, key: str, *, stream: bool, i: int
) -> tuple[int, int | None, dict[str, Any], httpx.Headers]:
    """One chat request; returns (status, credits the client was told in micro, body, headers)."""
    body: dict[str, Any] = {
        "model": "monday-standard",
        "messages": [{"role": "user", "content": f"hello number {i}"}],
        "max_tokens": 16,
    }
    headers = {"authorization": f"Bearer {key}"}
    if not stream:
        response = await client.post("/v1/chat/completions", json=body, headers=headers)
        credits = response.headers.get("x-monday-credits-used")
        return (
            response.status_code,
            micro(credits) if credits else None,
            response.json(),
            response.headers,
        )
    body["stream"] = True
    body["stream_options"] = {"include_usage": True}
    async with client.stream(
        "POST", "/v1/chat/completions", json=body, headers=headers
    ) as response:
        raw = (await response.aread()).decode()
    if response.status_code != 200:
        return response.status_code, None, json.loads(raw), response.headers
    told = None
    for line in raw.splitlines():
        if line.startswith("data: ") and line != "data: [DONE]":
            usage = json.loads(line[6:]).get("usage")
            if usage:
                told = micro(usage["credits_used"])
    assert "data: [DONE]" in raw
    return 200, told, {}, response.headers


def ledger_sum(db: Path, key_id: str) -> tuple[int, int]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        total, rows = conn.execute(
            "SELECT COALESCE(SUM(credits_micro), 0), COUNT(*) FROM ledger WHERE key_id=?", (key_id,)
        ).fetchone()
    return int(total), int(rows)


@pytest.mark.parametrize("backend", ["sqlite", "redis"], ids=["sqlite", "redis"])
def test_concurrency_budget_holds_across_four_workers(tmp_path, backend):
    budget = Decimal("0.01")
    with contextlib.ExitStack() as stack:
        store: dict[str, Any] = {"path": str(tmp_path / "controls.db")}
        if backend == "redis":
            from tests.reference_server.test_stores import redis_server

            store = {"backend": "redis", "url": stack.enter_context(redis_server())}
        config = write_config(
            tmp_path,
            {"store": store, "key_limits": {"small": {"budget_credits": float(budget)}}},
            {"small": "sk-small-key"},
        )
        results, elapsed, spend = _burst(config)
    _check_burst(
        results, elapsed, spend, budget, tmp_path / "controls.db" if backend == "sqlite" else None
    )


def _burst(
    config: Path,
) -> tuple[list[tuple[int, int | None, dict[str, Any], httpx.Headers]], float, dict[str, Any]]:
    with live_server(config) as (origin, _):

        async def run() -> list[tuple[int, int | None, dict[str, Any], httpx.Headers]]:
            limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
            async with httpx.AsyncClient(base_url=origin, limits=limits, timeout=30) as client:
                return await asyncio.gather(
                    *(chat(client, "sk-small-key", stream=i % 2 == 1, i=i) for i in range(200))
                )

        started = time.monotonic()
        results = asyncio.run(run())
        elapsed = time.monotonic() - started
        spend = httpx.get(
            origin + "/admin/spend",
            params={"key_id": "small"},
            headers={"authorization": "Bearer sk-admin-test"},
        ).json()
    return results, elapsed, spend


def _check_burst(results, elapsed, spend, budget: Decimal, db: Path | None) -> None:
    unexpected = [(status, body) for status, _, body, _ in results if status not in {200, 429}]
    assert not unexpected, unexpected[:3]
    accepted = [r for r in results if r[0] == 200]
    refused = [r for r in results if r[0] == 429]
    assert accepted, "no request fit the budget"
    assert refused, "the budget never ran out: the test proves nothing"
    for _, _, body, headers in refused:
        assert body["error"]["type"] == "insufficient_quota"
        assert body["error"]["code"] == "insufficient_quota"
        assert set(body["error"]) == {"message", "type", "param", "code"}
        assert "retry-after" not in headers
        assert headers["x-should-retry"] == "false"
    told = [credits for _, credits, _, _ in accepted]
    assert None not in told, "an accepted response did not tell its credits"
    total = micro(spend["total_credits"])  # the ledger, through the admin API
    assert spend["total_requests"] == len(accepted)
    assert total == sum(told)
    assert total <= budget * 1_000_000
    if db is not None:  # and straight from the SQLite file
        assert ledger_sum(db, "small") == (total, len(accepted))
    print(
        f"\n200 concurrent: {len(accepted)} served, {len(refused)} refused, spend {total} of {budget * 1_000_000} micro, {elapsed:.2f}s"
    )


def test_concurrency_rate_limit_accuracy_across_four_workers(tmp_path):
    limit, period, window = 60, 3.0, 6.0
    config = write_config(
        tmp_path,
        {"rate_limit_period_s": period, "key_limits": {"rl": {"rpm": limit}}},
        {"rl": "sk-rate-key"},
    )
    with live_server(config) as (origin, _):

        async def run() -> tuple[int, list[tuple[int, dict[str, Any], httpx.Headers]]]:
            accepted = 0
            refusals: list[tuple[int, dict[str, Any], httpx.Headers]] = []
            limits = httpx.Limits(max_connections=16)
            async with httpx.AsyncClient(base_url=origin, limits=limits, timeout=30) as client:
                deadline = time.monotonic() + window

                async def hammer() -> None:
                    nonlocal accepted
                    while time.monotonic() < deadline:
                        status, _, body, headers = await chat(
                            client, "sk-rate-key", stream=False, i=0
                        )
                        if status == 200 and time.monotonic() <= deadline:
                            accepted += 1
                        elif status != 200:
                            refusals.append((status, body, headers))

                await asyncio.gather(*(hammer() for _ in range(12)))
            return accepted, refusals

        accepted, refusals = asyncio.run(run())

    expected = limit + limit * window / period  # burst from rest, then L per P
    assert refusals, "the limit was never reached: the test proves nothing"
    for status, body, headers in refusals[:50]:
        assert status == 429
        assert body["error"]["code"] == "rate_limit_exceeded"
        assert int(headers["retry-after"]) >= 1
        assert headers["x-ratelimit-limit-requests"] == str(limit)
        assert headers["x-ratelimit-remaining-requests"] == "0"
    print(
        f"\nrate limit: accepted {accepted} in {window}s, expected {expected:.0f}, {len(refusals)} refused"
    )
    assert abs(accepted - expected) <= 0.05 * expected
