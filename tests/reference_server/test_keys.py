"""Keys: hashed storage, scopes, the admin key, revocation seen by every instance."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator

import pytest

from reference_server.controls.base import hash_key
from reference_server.controls.config import ControlsConfigError, build_controls
from reference_server.controls.keys import mint_key
from reference_server.controls.metered import MeteredControls
from reference_server.errors import GatewayError

PRICES = {"m": (1.0, 2.0)}


def make(tmp_path, raw=None, environ=None) -> MeteredControls:
    controls = build_controls(
        {"store": {"path": str(tmp_path / "c.db")}, **(raw or {})},
        keys=[("demo", "demo-user", hash_key("sk-demo"), ["ai:consume"])],
        price=PRICES.__getitem__,
        is_alias=lambda name: False,
        environ=environ or {},
    )
    assert isinstance(controls, MeteredControls)
    return controls


@pytest.fixture
async def controls(tmp_path) -> AsyncIterator[MeteredControls]:
    made = make(tmp_path, {"admin_key": "sk-admin"})
    yield made
    await made.aclose()


@pytest.mark.parametrize(
    ("header", "status", "code"),
    [
        (None, 401, "missing_api_key"),
        ("Basic abc", 401, "missing_api_key"),
        ("Bearer sk-wrong", 401, "invalid_api_key"),
    ],
    ids=["absent", "not-bearer", "wrong"],
)
async def test_keys_refusals_are_openai_errors(controls, header, status, code):
    with pytest.raises(GatewayError) as info:
        await controls.authenticate(header, "ai:consume")
    assert (info.value.status, info.value.code, info.value.type) == (
        status,
        code,
        "invalid_request_error",
    )


async def test_keys_config_key_authenticates_and_lacks_admin(controls):
    principal = await controls.authenticate("Bearer sk-demo", "ai:consume")
    assert (principal.key_id, principal.owner) == ("demo", "demo-user")
    with pytest.raises(GatewayError) as info:
        await controls.authenticate("Bearer sk-demo", "admin")
    assert (info.value.status, info.value.type) == (403, "permission_error")


async def test_keys_admin_key_only_for_admin(controls):
    assert (await controls.authenticate("Bearer sk-admin", "admin")).key_id == "admin"
    with pytest.raises(GatewayError) as info:
        await controls.authenticate("Bearer sk-admin", "ai:consume")
    assert info.value.status == 403


async def test_keys_env_admin_key_wins_over_config(tmp_path):
    controls = make(tmp_path, {"admin_key": "sk-file"}, environ={"PARITY_ADMIN_KEY": "sk-env"})
    assert (await controls.authenticate("Bearer sk-env", "admin")).key_id == "admin"
    with pytest.raises(GatewayError):
        await controls.authenticate("Bearer sk-file", "admin")
    await controls.aclose()


async def test_keys_stored_hashed_never_plain(tmp_path, controls):
    minted = mint_key(
        owner="agent-7",
        name="ci",
        scopes=frozenset({"ai:consume"}),
        budget_micro=None,
        budget_period="total",
        rpm=None,
        tpm=None,
        now=0.0,
    )
    await controls.store.put_key(minted.record)
    await controls.authenticate(f"Bearer {minted.secret}", "ai:consume")
    dump = "\n".join(sqlite3.connect(tmp_path / "c.db").iterdump())
    assert minted.secret not in dump
    assert "sk-demo" not in dump
    assert hash_key(minted.secret) in dump


async def test_keys_revocation_seen_by_another_instance(tmp_path, controls):
    other = make(tmp_path, {"admin_key": "sk-admin"})  # a second worker on the same store
    minted = mint_key(
        owner="u",
        name="n",
        scopes=frozenset({"ai:consume"}),
        budget_micro=None,
        budget_period="total",
        rpm=None,
        tpm=None,
        now=0.0,
    )
    await controls.store.put_key(minted.record)
    assert (await other.authenticate(f"Bearer {minted.secret}", "ai:consume")).owner == "u"
    assert await controls.store.delete_key(minted.record.id)
    # A request that arrives after the revocation is handled in a later event loop iteration
    # of the other worker (stores/sqlite.py: a generation read serves one iteration).
    await asyncio.sleep(0)
    with pytest.raises(GatewayError) as info:
        await other.authenticate(f"Bearer {minted.secret}", "ai:consume")
    assert info.value.code == "invalid_api_key"
    await other.aclose()


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        ({"store": {"backend": "mongo"}}, "'mongo'"),
        ({"metering": {"direct_id_surcharge": -1}}, "metering.direct_id_surcharge"),
        ({"owners": {"u": {"budget_credits": "lots"}}}, "owners.u.budget_credits"),
        ({"key_limits": {"nobody": {"rpm": 3}}}, "'nobody'"),
        ({"defaults": {"rpm": 0}}, "defaults.rpm"),
        ({"bogus": 1}, "'bogus'"),
        ({"store": {"max_connections": 0}}, "store.max_connections"),
    ],
    ids=[
        "backend",
        "surcharge",
        "owner-budget",
        "unknown-key",
        "zero-rpm",
        "unknown-field",
        "zero-pool",
    ],
)
def test_keys_config_errors_name_field_and_value(tmp_path, raw, needle):
    with pytest.raises(ControlsConfigError, match=needle):
        make(tmp_path, raw)
