"""Admin API: key lifecycle, spend report, scope enforcement, OpenAI error objects."""

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

ADMIN = {"authorization": "Bearer sk-admin"}


@pytest.fixture
async def setup(tmp_path) -> AsyncIterator[tuple[httpx.AsyncClient, MeteredControls]]:
    controls = build_controls(
        {"store": {"path": str(tmp_path / "c.db")}, "admin_key": "sk-admin"},
        keys=[("demo", "demo-user", hash_key("sk-demo"), ["ai:consume"])],
        price=lambda name: (1.0, 2.0),
        is_alias=lambda name: True,
        environ={},
    )
    assert isinstance(controls, MeteredControls)
    app = Starlette(routes=[Mount("/admin", app=admin_router(controls))])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        yield client, controls
    await controls.aclose()


def assert_error(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert isinstance(error["message"], str)
    assert error["message"]
    return error


async def test_admin_key_lifecycle(setup):
    client, controls = setup
    created = await client.post(
        "/admin/keys",
        headers=ADMIN,
        json={
            "name": "bot",
            "owner": "agent-1",
            "scopes": ["ai:consume"],
            "budget_credits": 2.5,
            "rpm": 10,
            "tpm": None,
        },
    )
    assert created.status_code == 201
    body = created.json()
    assert body["key"].startswith("sk-parity-")
    assert (body["owner"], body["budget_credits"], body["rpm"], body["tpm"]) == (
        "agent-1",
        2.5,
        10,
        None,
    )

    principal = await controls.authenticate(f"Bearer {body['key']}", "ai:consume")
    ticket = await controls.admit(principal, Admission("r1", "chat", "m", ("m",), 10, 10, False))
    shown = (await client.get(f"/admin/keys/{body['id']}", headers=ADMIN)).json()
    assert "key" not in shown  # the secret is shown once
    assert shown["reserved_credits"] == pytest.approx(0.00003)
    now = time.time()
    await controls.settle(ticket, Served("d", "m", 10, 5, "ok", now, now, now))
    shown = (await client.get(f"/admin/keys/{body['id']}", headers=ADMIN)).json()
    assert (shown["spent_credits"], shown["reserved_credits"]) == (0.00002, 0)
    assert shown["budget_remaining_credits"] == pytest.approx(2.49998)

    deleted = await client.delete(f"/admin/keys/{body['id']}", headers=ADMIN)
    assert deleted.json() == {"object": "api_key.deleted", "id": body["id"], "deleted": True}
    assert_error(await client.get(f"/admin/keys/{body['id']}", headers=ADMIN), 404)


async def test_admin_spend_groups(setup):
    client, controls = setup
    principal = await controls.authenticate("Bearer sk-demo", "ai:consume")
    now = time.time()
    for rid, model, deployment in [("a", "m1", "d1"), ("b", "m1", "d2"), ("c", "m2", "d2")]:
        ticket = await controls.admit(
            principal, Admission(rid, "chat", model, (model,), 1, 1, False)
        )
        await controls.settle(ticket, Served(deployment, model, 1000, 0, "ok", now, now, now))
    total = (await client.get("/admin/spend", headers=ADMIN, params={"key_id": "demo"})).json()
    assert (total["total_credits"], total["total_requests"]) == (0.003, 3)
    by_model = (
        await client.get("/admin/spend", headers=ADMIN, params={"group_by": "model"})
    ).json()
    assert [(g["group"], g["requests"]) for g in by_model["data"]] == [("m1", 2), ("m2", 1)]
    by_dep = (
        await client.get(
            "/admin/spend", headers=ADMIN, params={"owner": "demo-user", "group_by": "deployment"}
        )
    ).json()
    assert [(g["group"], g["credits"]) for g in by_dep["data"]] == [("d1", 0.001), ("d2", 0.002)]
    by_day = (await client.get("/admin/spend", headers=ADMIN, params={"group_by": "day"})).json()
    assert len(by_day["data"]) == 1
    nobody = (await client.get("/admin/spend", headers=ADMIN, params={"owner": "nobody"})).json()
    assert (nobody["total_requests"], nobody["data"]) == (0, [])


@pytest.mark.parametrize(
    ("method", "path", "headers", "body", "status", "param"),
    [
        ("GET", "/admin/spend", {}, None, 401, None),
        ("GET", "/admin/spend", {"authorization": "Bearer sk-demo"}, None, 403, None),
        (
            "POST",
            "/admin/keys",
            {"authorization": "Bearer sk-demo"},
            {"name": "x", "owner": "y"},
            403,
            None,
        ),
        ("POST", "/admin/keys", ADMIN, {"owner": "y"}, 400, "name"),
        (
            "POST",
            "/admin/keys",
            ADMIN,
            {"name": "x", "owner": "y", "scopes": ["root"]},
            400,
            "scopes",
        ),
        ("POST", "/admin/keys", ADMIN, {"name": "x", "owner": "y", "rpm": 0}, 400, "rpm"),
        (
            "POST",
            "/admin/keys",
            ADMIN,
            {"name": "x", "owner": "y", "budget_credits": -1},
            400,
            "budget_credits",
        ),
        ("POST", "/admin/keys", ADMIN, {"name": "x", "owner": "y", "colour": "red"}, 400, "colour"),
        ("GET", "/admin/spend?group_by=hour", ADMIN, None, 400, "group_by"),
        ("GET", "/admin/keys", ADMIN, None, 405, None),
        ("PUT", "/admin/keys/demo", ADMIN, None, 405, None),
        ("GET", "/admin/nothing", ADMIN, None, 404, None),
    ],
    ids=[
        "no-key",
        "model-key-403",
        "model-key-create-403",
        "missing-name",
        "bad-scope",
        "zero-rpm",
        "negative-budget",
        "unknown-field",
        "bad-group-by",
        "list-not-allowed",
        "put-not-allowed",
        "unknown-path",
    ],
)
async def test_admin_refusals_are_openai_errors(setup, method, path, headers, body, status, param):
    client, _ = setup
    response = await client.request(method, path, headers=headers, json=body)
    error = assert_error(response, status)
    assert error["param"] == param


async def test_admin_malformed_json_is_400(setup):
    client, _ = setup
    response = await client.post(
        "/admin/keys", headers={**ADMIN, "content-type": "application/json"}, content=b"{nope"
    )
    assert_error(response, 400)


def spec_errors(component: str, instance: object) -> list[str]:
    import json
    from pathlib import Path

    import jsonschema
    import yaml

    document = yaml.safe_load((Path(__file__).parents[2] / "spec" / "admin.yaml").read_text())
    schema = {
        "components": json.loads(json.dumps(document["components"])),
        "$ref": f"#/components/schemas/{component}",
    }
    validator = jsonschema.Draft202012Validator(schema)
    return [error.message for error in validator.iter_errors(instance)]


def test_admin_spec_is_valid_openapi():
    from pathlib import Path

    import yaml
    from openapi_spec_validator import validate

    validate(yaml.safe_load((Path(__file__).parents[2] / "spec" / "admin.yaml").read_text()))


async def test_admin_responses_match_spec(setup):
    client, _ = setup
    created = (
        await client.post(
            "/admin/keys", headers=ADMIN, json={"name": "n", "owner": "o", "budget_credits": 1}
        )
    ).json()
    assert spec_errors("CreatedKey", created) == []
    shown = (await client.get(f"/admin/keys/{created['id']}", headers=ADMIN)).json()
    assert spec_errors("KeyWithUsage", shown) == []
    spend = (await client.get("/admin/spend", headers=ADMIN, params={"group_by": "day"})).json()
    assert spec_errors("Spend", spend) == []
    deleted = (await client.delete(f"/admin/keys/{created['id']}", headers=ADMIN)).json()
    assert spec_errors("DeletedKey", deleted) == []
    error = (await client.get("/admin/spend")).json()
    assert spec_errors("ErrorResponse", error) == []
    assert spec_errors("Spend", {"object": "spend"}) != []  # the validation can fail
