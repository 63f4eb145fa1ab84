"""Budgets through MeteredControls: key and owner budgets, insufficient_quota, concurrency."""

from __future__ import annotations

import asyncio
import time

import pytest

from reference_server.controls.base import Admission, Served, hash_key
from reference_server.controls.config import build_controls
from reference_server.controls.metered import MeteredControls
from reference_server.errors import GatewayError

PRICES = {"m": (1000.0, 1000.0)}  # 1000 credits per Mtok: one token costs 1000 micro-credits


def make(tmp_path, raw) -> MeteredControls:
    made = build_controls(
        {"store": {"path": str(tmp_path / "c.db")}, **raw},
        keys=[
            ("k1", "alice", hash_key("sk-1"), ["ai:consume"]),
            ("k2", "alice", hash_key("sk-2"), ["ai:consume"]),
        ],
        price=PRICES.__getitem__,
        is_alias=lambda name: True,
        environ={},
    )
    assert isinstance(made, MeteredControls)
    return made


def adm(rid: str, max_out: int | None = 10) -> Admission:
    return Admission(rid, "chat", "m", ("m",), 10, max_out, False)


def done(prompt: int, completion: int) -> Served:
    now = time.time()
    return Served("m", "m", prompt, completion, "ok", now, now, now)


async def test_budgets_exhausted_key_gets_insufficient_quota(tmp_path):
    # Max cost per request: (10 + 10) tokens x 1000 = 0.02 credits; budget fits two.
    controls = make(tmp_path, {"key_limits": {"k1": {"budget_credits": 0.05}}})
    p = await controls.authenticate("Bearer sk-1", "ai:consume")
    t1 = await controls.admit(p, adm("a"))
    t2 = await controls.admit(p, adm("b"))
    assert t1.reserved_credits == pytest.approx(0.02)
    with pytest.raises(GatewayError) as info:
        await controls.admit(p, adm("c"))
    err = info.value
    assert (err.status, err.type, err.code) == (429, "insufficient_quota", "insufficient_quota")
    assert "retry-after" not in err.headers
    assert err.headers["x-should-retry"] == "false"
    await controls.settle(t1, done(10, 2))  # 0.012 spent; 0.008 of the hold is freed
    await controls.release(t2)
    await controls.admit(p, adm("c"))  # fits again
    await controls.aclose()


async def test_budgets_absent_max_tokens_reserves_configured_cap(tmp_path):
    controls = make(
        tmp_path,
        {"default_max_output_tokens": 100, "key_limits": {"k1": {"budget_credits": 1}}},
    )
    p = await controls.authenticate("Bearer sk-1", "ai:consume")
    ticket = await controls.admit(p, adm("a", max_out=None))
    assert ticket.reserved_credits == pytest.approx(0.11)  # (10 + 100) x 1000 micro
    await controls.aclose()


async def test_budgets_owner_budget_spans_keys(tmp_path):
    controls = make(tmp_path, {"owners": {"alice": {"budget_credits": 0.03}}})
    p1 = await controls.authenticate("Bearer sk-1", "ai:consume")
    p2 = await controls.authenticate("Bearer sk-2", "ai:consume")
    await controls.admit(p1, adm("a"))
    with pytest.raises(GatewayError, match="owner:alice"):
        await controls.admit(p2, adm("b"))
    await controls.aclose()


async def test_budgets_no_budget_never_blocks(tmp_path):
    controls = make(tmp_path, {})
    p = await controls.authenticate("Bearer sk-1", "ai:consume")
    for i in range(20):
        ticket = await controls.admit(p, adm(f"r{i}", max_out=10**9))
        assert ticket.reserved_credits == 0
    await controls.aclose()


async def test_budgets_concurrent_admissions_never_overspend(tmp_path):
    """100 concurrent requests on two instances (two workers) sharing one store."""
    raw = {"key_limits": {"k1": {"budget_credits": 0.5}}}
    workers = [make(tmp_path, raw), make(tmp_path, raw)]
    settled: list[float] = []
    refused = 0

    async def one(i: int) -> None:
        nonlocal refused
        controls = workers[i % 2]
        p = await controls.authenticate("Bearer sk-1", "ai:consume")
        try:
            ticket = await controls.admit(p, adm(f"r{i}"))
        except GatewayError as exc:
            codes.append(exc.code)
            refused += 1
            return
        await asyncio.sleep(0)
        settled.append((await controls.settle(ticket, done(10, 10))).credits)

    codes: list[str | None] = []
    await asyncio.gather(*(one(i) for i in range(100)))
    assert set(codes) == {"insufficient_quota"}
    assert sum(settled) <= 0.5 + 1e-9
    assert len(settled) == 25  # each holds its full cost 0.02, which is also its real cost
    assert refused == 75
    spent, held = await workers[0].store.key_usage("k1")
    assert (spent, held) == (500_000, 0)
    for controls in workers:
        await controls.aclose()
