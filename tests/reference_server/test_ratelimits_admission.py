"""Rate limits through MeteredControls: headers on admission, 429 shape, TPM correction."""

from __future__ import annotations

import time

import pytest

from reference_server.controls.base import Admission, Served, hash_key
from reference_server.controls.config import build_controls
from reference_server.controls.metered import MeteredControls
from reference_server.errors import GatewayError


def make(tmp_path, raw) -> MeteredControls:
    made = build_controls(
        {"store": {"path": str(tmp_path / "c.db")}, **raw},
        keys=[("k1", "alice", hash_key("sk-1"), ["ai:consume"])],
        price=lambda name: (1.0, 1.0),
        is_alias=lambda name: True,
        environ={},
    )
    assert isinstance(made, MeteredControls)
    return made


def adm(rid: str, input_tokens=10, max_out=10) -> Admission:
    return Admission(rid, "chat", "m", ("m",), input_tokens, max_out, False)


async def test_ratelimits_rpm_headers_then_429(tmp_path):
    controls = make(tmp_path, {"key_limits": {"k1": {"rpm": 2}}})
    p = await controls.authenticate("Bearer sk-1", "ai:consume")
    first = await controls.admit(p, adm("a"))
    assert first.headers["x-ratelimit-limit-requests"] == "2"
    assert first.headers["x-ratelimit-remaining-requests"] == "1"
    assert first.headers["x-ratelimit-reset-requests"] == "30s"
    await controls.admit(p, adm("b"))
    with pytest.raises(GatewayError) as info:
        await controls.admit(p, adm("c"))
    err = info.value
    assert (err.status, err.code, err.type) == (429, "rate_limit_exceeded", "requests")
    assert 29 <= int(err.headers["retry-after"]) <= 30
    assert err.headers["x-ratelimit-remaining-requests"] == "0"
    await controls.aclose()


async def test_ratelimits_tpm_counts_input_and_max_output_then_refunds(tmp_path):
    controls = make(tmp_path, {"defaults": {"tpm": 100}})
    p = await controls.authenticate("Bearer sk-1", "ai:consume")
    ticket = await controls.admit(p, adm("a", 10, 70))
    assert ticket.headers["x-ratelimit-remaining-tokens"] == "20"
    with pytest.raises(GatewayError) as info:
        await controls.admit(p, adm("b", 10, 20))
    assert info.value.type == "tokens"
    now = time.time()
    await controls.settle(ticket, Served("m", "m", 10, 5, "ok", now, now, now))  # 65 refunded
    again = await controls.admit(p, adm("b", 10, 20))
    assert int(again.headers["x-ratelimit-remaining-tokens"]) in (54, 55)
    await controls.aclose()


async def test_ratelimits_request_larger_than_tpm_is_not_retryable(tmp_path):
    controls = make(tmp_path, {"defaults": {"tpm": 100}})
    p = await controls.authenticate("Bearer sk-1", "ai:consume")
    with pytest.raises(GatewayError) as info:
        await controls.admit(p, adm("a", 90, 20))
    assert "retry-after" not in info.value.headers
    assert info.value.headers["x-should-retry"] == "false"
    assert "Request too large" in info.value.message
    await controls.aclose()
