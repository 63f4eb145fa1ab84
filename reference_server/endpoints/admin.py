"""The admin API (``spec/admin.yaml``), mounted by the app under ``/admin``.

``POST /keys`` mints a key (the secret is in that response only), ``GET /keys/{id}`` shows its
settings with ``spent_credits`` / ``reserved_credits``, ``DELETE /keys/{id}`` revokes it (every
worker sees it at once: authentication reads the shared store), ``POST /keys/{id}/rotate``
gives it a new secret (shown once) and revokes the old one, ``GET`` / ``PUT`` / ``DELETE
/owners/{owner}/budget`` read, set and remove the budget of an owner (a user or an agent, across
its keys), ``GET /spend`` totals the ledger by ``key_id`` / ``owner``, grouped by ``model``,
``deployment`` or ``day``. Keys and owner budgets from the config file are the config's: the
API refuses to rotate or change them (409), as a restart would undo it. Only a key with the
``admin`` scope (the configured admin key, or ``PARITY_ADMIN_KEY``) may call it: model-endpoint
keys get 403. Every error is the OpenAI error object.

Must not: implement key, budget or ledger rules (``MeteredControls`` and its store do).
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from typing import Any, TypedDict

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, Router
from starlette.types import Receive, Scope, Send

from reference_server.controls import budgets
from reference_server.controls.base import Controls, hash_key
from reference_server.controls.budgets import OwnerBudget
from reference_server.controls.keys import ADMIN_SCOPE, SCOPES, KeyRecord, mint_key, new_secret
from reference_server.controls.ledger import GROUP_BYS, GroupBy
from reference_server.controls.metered import MeteredControls
from reference_server.controls.metering import MICRO, micro_credits
from reference_server.edge import error_response
from reference_server.errors import GatewayError

__all__ = ["KeyJSON", "admin_mount", "admin_router"]

_MAX_BODY = 64 * 1024
# Routes accept every method so that a wrong one gets an OpenAI-shaped 405, not plain text.
_ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
_CREATE_FIELDS = frozenset(
    {"name", "owner", "scopes", "budget_credits", "budget_period", "rpm", "tpm"}
)
_BUDGET_FIELDS = frozenset({"budget_credits", "budget_period"})


class KeyJSON(TypedDict):
    object: str
    id: str
    name: str
    owner: str
    scopes: list[str]
    budget_credits: float | None
    budget_period: str
    rpm: int | None
    tpm: int | None
    created_at: int
    source: str


def _key_json(record: KeyRecord) -> KeyJSON:
    return {
        "object": "api_key",
        "id": record.id,
        "name": record.name,
        "owner": record.owner,
        "scopes": sorted(record.scopes),
        "budget_credits": None if record.budget_micro is None else record.budget_micro / MICRO,
        "budget_period": record.budget_period,
        "rpm": record.rpm,
        "tpm": record.tpm,
        "created_at": int(record.created_at),
        "source": record.source,
    }


def _bad(message: str, param: str) -> GatewayError:
    return GatewayError(400, message, type="invalid_request_error", param=param)


def _optional_int(body: Mapping[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _bad(f"{name!r} must be an integer >= 1 or null, got {value!r}.", name)
    return value


def _create_args(body: object) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise _bad(f"The body must be a JSON object, got {type(body).__name__}.", "body")
    unknown = sorted(set(body) - _CREATE_FIELDS)
    if unknown:
        raise _bad(
            f"Unrecognized request argument(s) {unknown!r}; valid: {sorted(_CREATE_FIELDS)}.",
            unknown[0],
        )
    for name in ("name", "owner"):
        value = body.get(name)
        if not isinstance(value, str) or not value.strip() or len(value) > 200:
            raise _bad(f"{name!r} is required: a non-empty string, got {value!r}.", name)
    scopes = body.get("scopes", ["ai:consume"])
    # An empty list is a key that authenticates but may call nothing (every endpoint: 403).
    if not isinstance(scopes, list) or not all(isinstance(s, str) and s in SCOPES for s in scopes):
        raise _bad(f"'scopes' must be a list of {list(SCOPES)}, got {scopes!r}.", "scopes")
    budget = body.get("budget_credits")
    budget_micro = None if budget is None else _budget_micro(budget)
    period = _period(body)
    return {
        "name": body["name"],
        "owner": body["owner"],
        "scopes": frozenset(scopes),
        "budget_micro": budget_micro,
        "budget_period": period,
        "rpm": _optional_int(body, "rpm"),
        "tpm": _optional_int(body, "tpm"),
    }


def _budget_micro(budget: object) -> int:
    if isinstance(budget, bool) or not isinstance(budget, int | float) or budget < 0:
        raise _bad(f"'budget_credits' must be a number >= 0, got {budget!r}.", "budget_credits")
    return micro_credits(Decimal(str(budget)))


def _period(body: Mapping[str, Any]) -> budgets.Period:
    period = body.get("budget_period", "total")
    for choice in budgets.PERIODS:
        if period == choice:
            return choice
    raise _bad(
        f"'budget_period' must be one of {list(budgets.PERIODS)}, got {period!r}.",
        "budget_period",
    )


def _budget_args(body: object) -> tuple[int, budgets.Period]:
    if not isinstance(body, dict):
        raise _bad(f"The body must be a JSON object, got {type(body).__name__}.", "body")
    unknown = sorted(set(body) - _BUDGET_FIELDS)
    if unknown:
        raise _bad(
            f"Unrecognized request argument(s) {unknown!r}; valid: {sorted(_BUDGET_FIELDS)}.",
            unknown[0],
        )
    if body.get("budget_credits") is None:
        raise _bad(
            "'budget_credits' is required: a number >= 0 (DELETE the budget to remove it).",
            "budget_credits",
        )
    return _budget_micro(body["budget_credits"]), _period(body)


def _from_config(what: str, where: str) -> GatewayError:
    return GatewayError(
        409,
        f"{what} comes from the config file ({where}): change it there (a restart would undo "
        "a change made here).",
        type="invalid_request_error",
        code="set_in_config",
    )


Handler = Callable[[Request], Awaitable[Response]]


def admin_mount(controls: Controls) -> list[BaseRoute]:
    """``/admin`` for controls that keep keys in a store (``MeteredControls``); nothing for
    others (``StaticControls`` hold only the config's keys: there is nothing to administer)."""
    if not isinstance(controls, MeteredControls):
        return []
    return [Mount("/admin", app=admin_router(controls))]


def admin_router(controls: MeteredControls) -> Router:
    """Routes relative to the mount point (the app mounts them at ``/admin``)."""
    store = controls.store

    def endpoint(methods: Mapping[str, Handler]) -> Handler:
        async def handle(request: Request) -> Response:
            handler = methods.get(request.method)
            if handler is None:
                return error_response(
                    GatewayError(
                        405,
                        f"Method {request.method} is not allowed here; allowed: {sorted(methods)}.",
                        code="method_not_allowed",
                        headers={"allow": ", ".join(sorted(methods))},
                    )
                )
            try:
                await controls.authenticate(request.headers.get("authorization"), ADMIN_SCOPE)
                await controls.start()  # the config's keys and owners exist before any request
                return await handler(request)
            except GatewayError as exc:
                return error_response(exc)

        return handle

    async def json_body(request: Request) -> object:
        raw = await request.body()
        if len(raw) > _MAX_BODY:
            raise GatewayError(
                413, f"The body exceeds {_MAX_BODY} bytes.", type="invalid_request_error"
            )
        try:
            return json.loads(raw)
        except ValueError:
            raise _bad("The body is not valid JSON.", "body") from None

    async def create_key(request: Request) -> Response:
        body = await json_body(request)
        minted = mint_key(**_create_args(body), now=time.time())
        await controls.guarded(store.put_key(minted.record))
        payload: dict[str, Any] = dict(_key_json(minted.record))
        payload["key"] = minted.secret  # shown once; only the SHA-256 is stored
        return JSONResponse(payload, status_code=201)

    async def found(key_id: str) -> KeyRecord:
        record = await controls.guarded(store.key_by_id(key_id))
        if record is None:
            raise GatewayError(
                404,
                f"No API key with id {key_id!r}.",
                type="invalid_request_error",
                code="key_not_found",
                param="id",
            )
        return record

    async def get_key(request: Request) -> Response:
        record = await found(request.path_params["key_id"])
        spent, held = await controls.guarded(store.key_usage(record.id))
        payload: dict[str, Any] = dict(_key_json(record))
        payload["spent_credits"] = spent / MICRO
        payload["reserved_credits"] = held / MICRO
        if record.budget_micro is not None:
            bucket = budgets.Budget("key", record.id, record.budget_micro, record.budget_period)
            account = await controls.guarded(store.budget_account(bucket.bucket(time.time())))
            payload["budget_remaining_credits"] = (
                max(record.budget_micro - account.spent - account.reserved, 0) / MICRO
            )
        return JSONResponse(payload)

    async def delete_key(request: Request) -> Response:
        record = await found(request.path_params["key_id"])
        await controls.guarded(store.delete_key(record.id))
        return JSONResponse({"object": "api_key.deleted", "id": record.id, "deleted": True})

    async def rotate_key(request: Request) -> Response:
        record = await found(request.path_params["key_id"])
        if record.source == "config":
            raise _from_config(f"The key {record.id!r}", "keys[].secret_sha256")
        secret = new_secret()
        # Only the new digest is stored; the old secret fails from the next request.
        if not await controls.guarded(store.rotate_key(record.id, hash_key(secret))):
            raise GatewayError(404, f"No API key with id {record.id!r}.", code="key_not_found")
        payload: dict[str, Any] = dict(_key_json(record))
        payload["key"] = secret  # shown once
        return JSONResponse(payload)

    async def owner_budget(owner: str) -> OwnerBudget:
        budget = await controls.guarded(store.owner_budget(owner))
        if budget is None:
            raise GatewayError(
                404,
                f"The owner {owner!r} has no budget.",
                type="invalid_request_error",
                code="budget_not_found",
                param="owner",
            )
        return budget

    async def owner_json(budget: OwnerBudget) -> dict[str, Any]:
        bucket = budgets.Budget("owner", budget.owner, budget.limit_micro, budget.period)
        account = await controls.guarded(store.budget_account(bucket.bucket(time.time())))
        left = max(budget.limit_micro - account.spent - account.reserved, 0)
        return {
            "object": "owner_budget",
            "owner": budget.owner,
            "budget_credits": budget.limit_micro / MICRO,
            "budget_period": budget.period,
            "source": budget.source,
            "spent_credits": account.spent / MICRO,
            "reserved_credits": account.reserved / MICRO,
            "budget_remaining_credits": left / MICRO,
        }

    async def get_owner_budget(request: Request) -> Response:
        return JSONResponse(await owner_json(await owner_budget(request.path_params["owner"])))

    async def put_owner_budget(request: Request) -> Response:
        owner = request.path_params["owner"]
        limit_micro, period = _budget_args(await json_body(request))
        current = await controls.guarded(store.owner_budget(owner))
        if current is not None and current.source == "config":
            raise _from_config(f"The budget of {owner!r}", "controls.owners")
        budget = OwnerBudget(owner, limit_micro, period, "admin")
        await controls.guarded(store.put_owner_budget(budget))
        return JSONResponse(await owner_json(budget))

    async def delete_owner_budget(request: Request) -> Response:
        budget = await owner_budget(request.path_params["owner"])
        if budget.source == "config":
            raise _from_config(f"The budget of {budget.owner!r}", "controls.owners")
        await controls.guarded(store.delete_owner_budget(budget.owner))
        return JSONResponse(
            {"object": "owner_budget.deleted", "owner": budget.owner, "deleted": True}
        )

    async def spend(request: Request) -> Response:
        query = request.query_params
        unknown = sorted(set(query) - {"key_id", "owner", "group_by"})
        if unknown:
            raise _bad(
                f"Unknown query parameter(s) {unknown!r}; valid: ['group_by', 'key_id', 'owner'].",
                unknown[0],
            )
        group_by = query.get("group_by") or None
        if group_by is not None and group_by not in GROUP_BYS:
            raise _bad(
                f"'group_by' must be one of {list(GROUP_BYS)}, got {group_by!r}.", "group_by"
            )
        key_id = query.get("key_id") or None
        owner = query.get("owner") or None
        groups = await controls.guarded(
            store.spend(key_id=key_id, owner=owner, group_by=_group(group_by))
        )
        return JSONResponse(
            {
                "object": "spend",
                "key_id": key_id,
                "owner": owner,
                "group_by": group_by,
                "total_credits": sum(g.credits_micro for g in groups) / MICRO,
                "total_requests": sum(g.requests for g in groups),
                "data": [g.to_json() for g in groups],
            }
        )

    async def not_found(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("root_path", "") + scope.get("path", "")
        response = error_response(
            GatewayError(404, f"Unknown admin path {path!r}.", code="not_found")
        )
        await response(scope, receive, send)

    return Router(
        routes=[
            Route("/keys", endpoint({"POST": create_key}), methods=_ALL_METHODS),
            Route(
                "/keys/{key_id}",
                endpoint({"GET": get_key, "DELETE": delete_key}),
                methods=_ALL_METHODS,
            ),
            Route("/keys/{key_id}/rotate", endpoint({"POST": rotate_key}), methods=_ALL_METHODS),
            Route(
                "/owners/{owner}/budget",
                endpoint(
                    {
                        "GET": get_owner_budget,
                        "PUT": put_owner_budget,
                        "DELETE": delete_owner_budget,
                    }
                ),
                methods=_ALL_METHODS,
            ),
            Route("/spend", endpoint({"GET": spend}), methods=_ALL_METHODS),
        ],
        default=not_found,
    )


def _group(value: str | None) -> GroupBy | None:
    for choice in GROUP_BYS:
        if value == choice:
            return choice
    return None
