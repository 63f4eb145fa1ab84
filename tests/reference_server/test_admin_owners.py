"""Admin API: key rotation, owner budgets set and read through the API, scope-less keys."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from reference_server.controls.base import Admission, Served, hash_key
from reference_server.controls.config import build_controls
from reference_server.controls.metered import MeteredControls
from reference_server.endpoints.admin import admin_router
from reference_server.errors import GatewayError
from tests.reference_server.test_admin import ADMIN, assert_error, spec_errors


@pytest.fixture
async def setup(tmp_path) -> AsyncIterator[tuple[httpx.AsyncClient, MeteredControls]]:
    controls = build_controls(
        {
            "store": {"path": str(tmp_path / "c.db")},
            "admin_key": "sk-admin",
            "owners": {"cfg-owner": {"budget_credits": 1}},
        },
        keys=[("demo", "demo-user", hash_key("sk-demo"), ["ai:consume"])],
        price=lambda name: (1000.0, 1000.0),  # one token: 0.001 credit
        is_alias=lambda name: True,
        environ={},
    )
    assert isinstance(controls, MeteredControls)
    app = Starlette(routes=[Mount("/admin", app=admin_router(controls))])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        yield client, controls
    await controls.aclose()


def _adm(rid: str) -> Admission:
    return Admission(rid, "chat", "m", ("m",), 10, 10, False)  # holds 0.02 credits


async def _mint(client: httpx.AsyncClient, **fields: object) -> dict:
    response = await client.post(
        "/admin/keys", headers=ADMIN, json={"name": "n", "owner": "agent-7", **fields}
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_admin_rotate_returns_a_new_secret_once_and_revokes_the_old(setup):
    client, controls = setup
    minted = await _mint(client, budget_credits=5, rpm=30)
    old = minted["key"]
    await controls.authenticate(f"Bearer {old}", "ai:consume")
    rotated = await client.post(f"/admin/keys/{minted['id']}/rotate", headers=ADMIN)
    assert rotated.status_code == 200, rotated.text
    body = rotated.json()
    assert spec_errors("CreatedKey", body) == []
    assert body["key"].startswith("sk-parity-")
    assert body["key"] != old
    assert (body["id"], body["budget_credits"], body["rpm"]) == (minted["id"], 5, 30)
    with pytest.raises(GatewayError) as refused:
        await controls.authenticate(f"Bearer {old}", "ai:consume")
    assert refused.value.status == 401
    principal = await controls.authenticate(f"Bearer {body['key']}", "ai:consume")
    assert principal.key_id == minted["id"]
    # Stored hashed: the store holds the new secret's SHA-256, never the secret.
    record = await controls.store.key_by_id(minted["id"])
    assert record is not None
    assert record.key_sha256 == hash_key(body["key"])
    shown = (await client.get(f"/admin/keys/{minted['id']}", headers=ADMIN)).json()
    assert "key" not in shown


async def test_admin_rotate_refuses_config_keys_and_unknown_ids(setup):
    client, _ = setup
    error = assert_error(await client.post("/admin/keys/demo/rotate", headers=ADMIN), 409)
    assert error["code"] == "set_in_config"
    assert_error(await client.post("/admin/keys/key_nope/rotate", headers=ADMIN), 404)
    assert_error(await client.get("/admin/keys/demo/rotate", headers=ADMIN), 405)


async def test_admin_owner_budget_set_read_and_enforced(setup):
    client, controls = setup
    minted = await _mint(client)
    assert_error(await client.get("/admin/owners/agent-7/budget", headers=ADMIN), 404)
    put = await client.put(
        "/admin/owners/agent-7/budget",
        headers=ADMIN,
        json={"budget_credits": 0.03, "budget_period": "day"},
    )
    assert put.status_code == 200, put.text
    assert spec_errors("OwnerBudget", put.json()) == []
    principal = await controls.authenticate(f"Bearer {minted['key']}", "ai:consume")
    ticket = await controls.admit(principal, _adm("a"))  # holds 0.02 of 0.03
    shown = (await client.get("/admin/owners/agent-7/budget", headers=ADMIN)).json()
    assert (shown["budget_credits"], shown["budget_period"], shown["source"]) == (
        0.03,
        "day",
        "admin",
    )
    assert shown["reserved_credits"] == pytest.approx(0.02)
    assert shown["budget_remaining_credits"] == pytest.approx(0.01)
    with pytest.raises(GatewayError) as refused:
        await controls.admit(principal, _adm("b"))
    assert (refused.value.status, refused.value.code) == (429, "insufficient_quota")
    assert "owner:agent-7" in refused.value.message
    now = time.time()
    await controls.settle(ticket, Served("m", "m", 10, 5, "ok", now, now, now))
    shown = (await client.get("/admin/owners/agent-7/budget", headers=ADMIN)).json()
    assert (shown["spent_credits"], shown["reserved_credits"]) == (0.015, 0)
    deleted = await client.delete("/admin/owners/agent-7/budget", headers=ADMIN)
    assert deleted.json() == {"object": "owner_budget.deleted", "owner": "agent-7", "deleted": True}
    # Each request authenticates first: the next one reads the owner without a budget.
    principal = await controls.authenticate(f"Bearer {minted['key']}", "ai:consume")
    await controls.admit(principal, _adm("c"))


async def test_admin_owner_budget_zero_refuses_everything_and_config_owners_are_kept(setup):
    client, controls = setup
    minted = await _mint(client)
    await client.put("/admin/owners/agent-7/budget", headers=ADMIN, json={"budget_credits": 0})
    principal = await controls.authenticate(f"Bearer {minted['key']}", "ai:consume")
    with pytest.raises(GatewayError) as refused:
        await controls.require_quota(principal)
    assert refused.value.code == "insufficient_quota"
    shown = (await client.get("/admin/owners/cfg-owner/budget", headers=ADMIN)).json()
    assert (shown["budget_credits"], shown["source"]) == (1, "config")
    for method in ("PUT", "DELETE"):
        response = await client.request(
            method, "/admin/owners/cfg-owner/budget", headers=ADMIN, json={"budget_credits": 2}
        )
        assert assert_error(response, 409)["code"] == "set_in_config"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({}, "budget_credits"),
        ({"budget_credits": -1}, "budget_credits"),
        ({"budget_credits": True}, "budget_credits"),
        ({"budget_credits": 1, "budget_period": "week"}, "budget_period"),
        ({"budget_credits": 1, "rpm": 3}, "rpm"),
    ],
    ids=["missing", "negative", "boolean", "bad-period", "unknown-field"],
)
async def test_admin_owner_budget_refusals_name_the_field(setup, body, param):
    client, _ = setup
    response = await client.put("/admin/owners/agent-7/budget", headers=ADMIN, json=body)
    assert assert_error(response, 400)["param"] == param


async def test_admin_scopeless_key_authenticates_but_gets_403(setup):
    client, controls = setup
    minted = await _mint(client, scopes=[])
    assert minted["scopes"] == []
    with pytest.raises(GatewayError) as refused:
        await controls.authenticate(f"Bearer {minted['key']}", "ai:consume")
    assert (refused.value.status, refused.value.type) == (403, "permission_error")
