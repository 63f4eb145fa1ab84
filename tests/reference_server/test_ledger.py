"""Ledger and settlement through MeteredControls: priced at the deployment that answered,
the direct-ID surcharge rule, credits header, written once.
"""

from __future__ import annotations

import sqlite3
import time

import pytest

from reference_server.controls.base import Admission, Served, hash_key
from reference_server.controls.config import build_controls
from reference_server.controls.metered import MeteredControls

PRICES = {
    "monday-standard": (3.0, 15.0),
    "primary/sonnet": (3.0, 15.0),
    "fallback/sonnet": (1.0, 5.0),
    "gpt-4o": (2.5, 10.0),
}


@pytest.fixture
async def controls(tmp_path):
    made = build_controls(
        {"store": {"path": str(tmp_path / "c.db")}, "credits_header": "X-Credits"},
        keys=[("demo", "demo-user", hash_key("sk-demo"), ["ai:consume"])],
        price=PRICES.__getitem__,
        is_alias=lambda name: name.startswith("monday-"),
        environ={},
    )
    assert isinstance(made, MeteredControls)
    yield made
    await made.aclose()


def admission(rid: str, model: str, endpoint="chat") -> Admission:
    return Admission(
        request_id=rid,
        endpoint=endpoint,
        model_asked=model,
        candidates=(model,),
        input_tokens=100,
        max_output_tokens=50,
        streaming=False,
    )


def served(deployment: str, prompt=1000, completion=500, outcome="ok") -> Served:
    now = time.time()
    return Served(deployment, "claude-sonnet-4-6", prompt, completion, outcome, now, now, now)


async def settle(controls, rid, model, deployment, endpoint="chat", **kw):
    principal = await controls.authenticate("Bearer sk-demo", "ai:consume")
    ticket = await controls.admit(principal, admission(rid, model, endpoint))
    return await controls.settle(ticket, served(deployment, **kw))


async def test_ledger_alias_billed_at_serving_deployment_without_surcharge(controls):
    primary = await settle(controls, "r1", "monday-standard", "primary/sonnet")
    fallback = await settle(controls, "r2", "monday-standard", "fallback/sonnet")
    assert primary.credits == pytest.approx(0.0105)  # 1000 x 3 + 500 x 15 per Mtok
    assert fallback.credits == pytest.approx(0.0035)  # its own, cheaper price
    assert primary.headers == {"x-credits": "0.010500"}


async def test_ledger_no_surcharge_by_default_on_any_endpoint(controls):
    direct = await settle(controls, "r1", "gpt-4o", "gpt-4o")
    assert direct.headers == {"x-credits": "0.007500"}  # 1000 x 2.5 + 500 x 10 per Mtok
    embed = await settle(controls, "r2", "monday-standard", "primary/sonnet", "embeddings")
    assert embed.headers == {"x-credits": "0.010500"}  # an alias, on a non-chat endpoint


@pytest.mark.parametrize("endpoint", ["chat", "embeddings"])
async def test_ledger_configured_surcharge_on_direct_ids_only(tmp_path, endpoint):
    made = build_controls(
        {
            "store": {"path": str(tmp_path / "c.db")},
            "credits_header": "X-Credits",
            "metering": {"direct_id_surcharge": 0.05},
        },
        keys=[("demo", "demo-user", hash_key("sk-demo"), ["ai:consume"])],
        price=PRICES.__getitem__,
        is_alias=lambda name: name.startswith("monday-"),
        environ={},
    )
    try:
        direct = await settle(made, "r1", "gpt-4o", "gpt-4o", endpoint)
        alias = await settle(made, "r2", "monday-standard", "primary/sonnet", endpoint)
    finally:
        await made.aclose()
    assert direct.headers == {"x-credits": "0.007875"}  # 0.0075 x 1.05
    assert alias.headers == {"x-credits": "0.010500"}  # price x usage, exactly


async def test_ledger_one_row_per_request_with_fields(tmp_path, controls):
    await settle(
        controls, "req-1", "monday-standard", "fallback/sonnet", completion=7, outcome="partial"
    )
    principal = await controls.authenticate("Bearer sk-demo", "ai:consume")
    ticket = await controls.admit(principal, admission("req-1", "monday-standard"))
    await controls.settle(ticket, served("fallback/sonnet"))  # a duplicate settlement
    rows = (
        sqlite3.connect(tmp_path / "c.db")
        .execute(
            "SELECT request_id, key_id, owner, model_asked, deployment, completion_tokens, "
            "credits_micro, outcome FROM ledger"
        )
        .fetchall()
    )
    assert rows == [
        ("req-1", "demo", "demo-user", "monday-standard", "fallback/sonnet", 7, 1035, "partial")
    ]


async def test_ledger_release_bills_nothing(tmp_path, controls):
    principal = await controls.authenticate("Bearer sk-demo", "ai:consume")
    ticket = await controls.admit(principal, admission("r9", "monday-standard"))
    await controls.release(ticket)
    count = sqlite3.connect(tmp_path / "c.db").execute("SELECT COUNT(*) FROM ledger").fetchone()
    assert count == (0,)
