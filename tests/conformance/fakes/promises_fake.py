"""A fake gateway for the promise checks: a key API, budgets, a rate limit, the consume scope,
credits at catalog prices, two model listings and a vision model. Written from the promises as
OpenAI and the gateway pages state them; independent of ``reference_server`` (never import it).

One live server serves every variant under ``/{variant}``: ``/v1/...`` (the API),
``/api/models`` (the public catalog) and ``/admin/...`` (its key API, deliberately unlike the
reference server's: the admin key in ``x-admin-key``, the secret at ``data.secret``, revocation
by ``POST /admin/revoke {"ids": [...]}``), so the profile describing it exercises the generic
key-API mechanism. A variant is ``ok`` or ``+``-joined knob names: broken knobs (``BROKEN``)
each bend one promise, quirks (``QUIRKS``) take a legal freedom.
"""

from __future__ import annotations

import email.utils
import json
import math
import secrets
import time
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

__all__ = [
    "ADMIN_KEY",
    "API_KEY",
    "BROKEN",
    "LEGAL",
    "MODELS",
    "QUIRKS",
    "create_promises_app",
    "profile_mapping",
]

API_KEY = "sk-fake-promises"
ADMIN_KEY = "sk-fake-promises-admin"
CREDITS_HEADER = "x-fake-credits"
# name -> (category, supports, input USD/Mtok, output USD/Mtok, health)
CATALOG: dict[str, tuple[str, tuple[str, ...], float, float, str]] = {
    "fake-alias": ("text", ("chat", "streaming"), 2.0, 8.0, "healthy"),
    "fake-chat": ("text", ("chat",), 1.0, 2.0, "healthy"),
    "fake-vision": ("multimodal", ("chat", "vision"), 3.0, 6.0, "degraded"),
    "fake-down": ("text", ("chat",), 1.0, 2.0, "unhealthy"),
    "fake-embed": ("embedding", ("embeddings",), 0.1, 0.0, "healthy"),
    "fake-image": ("image", ("images",), 0.0, 40.0, "healthy"),
    "fake-tts": ("audio", ("speech",), 15.0, 0.0, "healthy"),
    "fake-whisper": ("audio", ("audio_transcription",), 6.0, 0.0, "healthy"),
    "fake-video": ("video", ("videos",), 0.0, 100.0, "healthy"),
    "fake-realtime": ("realtime", ("realtime",), 4.0, 16.0, "healthy"),
}
ALIASES = ("fake-alias",)
MODELS = {
    "chat": "fake-chat",
    "responses": "fake-chat",
    "embedding": "fake-embed",
    "image": "fake-image",
    "speech": "fake-tts",
    "transcription": "fake-whisper",
    "video": "fake-video",
    "realtime": "fake-realtime",
}
# Broken variant -> the check id it must fail.
BROKEN: dict[str, str] = {
    "spent_transcriptions_free": "profile.budget.exhausted",
    "spent_realtime_served": "profile.budget.exhausted",
    "rate_no_retry_after": "profile.rate_limit.refusal",
    "rate_never": "profile.rate_limit.refusal",
    "rate_as_quota": "profile.rate_limit.refusal",
    "limited_no_headers": "profile.rate_limit.headers",
    "scope_ignored": "profile.scope.consume",
    "scope_plain_403": "profile.scope.consume",
    "alias_surcharged": "profile.credits.priced",
    "models_public": "profile.models.listings",
    "unhealthy_listed": "profile.models.listings",
    "vision_refused": "profile.vision.image_part",
}
QUIRKS = frozenset(
    {
        "array_wrapped",  # the catalog as {"object": "list", "data": [...]}
        "date_retry_after",  # Retry-After as an HTTP-date (RFC 9110)
        "limit_three",  # the limited key's limit is 3 requests, not 1
        "credits_ceiling",  # credits rounded up to the unit, printed with an exponent
        "models_403",  # /v1/models without a key: 403, not 401
        "quota_at_response",  # realtime: a spent session opens, its first response is refused
        "scope_code_null",  # the 403's error code is null
    }
)
LEGAL: dict[str, str] = {"ok": "ok", "quirks": "+".join(sorted(QUIRKS))}
PROMISE_IDS: tuple[str, ...] = (
    "profile.budget.exhausted",
    "profile.rate_limit.headers",
    "profile.rate_limit.refusal",
    "profile.scope.consume",
    "profile.credits.priced",
    "profile.models.listings",
    "profile.vision.image_part",
)


def profile_mapping(variant: str) -> dict[str, Any]:
    """The profile describing the fake's promises and key API, as a user writes one."""
    owner = "parity-{run}"
    return {
        "name": "promises-fake",
        "aliases": list(ALIASES),
        "credits_header": CREDITS_HEADER,
        "credits_per_usd": 1,
        "credits_rounding": 0.000001,
        "rate_limit_headers": True,
        "rate_limit_probe": 5,
        "catalog": f"/{variant}/api/models",
        "key_api": {
            "mint": {"method": "POST", "url": "{origin}/" + variant + "/admin/keys"},
            "secret": "data.secret",
            "id": "data.id",
            "revoke": {
                "method": "POST",
                "url": "{origin}/" + variant + "/admin/revoke",
                "body": {"ids": ["{id}"]},
            },
            "admin_header": {"name": "x-admin-key", "value": "{admin_key}"},
            "roles": {
                "spent": {"owner": owner, "budget": 0},
                "limited": {"owner": owner, "requests_per_minute": 1},
                "unscoped": {"owner": owner, "permissions": []},
            },
        },
    }


class _State:
    def __init__(self) -> None:
        self.keys: dict[str, dict[str, Any]] = {}  # secret -> {id, role, used}
        self.revoked: list[str] = []


def _knobs(variant: str) -> frozenset[str]:
    return frozenset() if variant == "ok" else frozenset(variant.split("+"))


def _error(status: int, message: str, type_: str, code: str | None, **headers: str) -> Response:
    body = {"error": {"message": message, "type": type_, "param": None, "code": code}}
    return JSONResponse(body, status, headers=headers or None)


def _quota() -> Response:
    return _error(
        429, "You exceeded your current quota.", "insufficient_quota", "insufficient_quota"
    )


def create_promises_app() -> Starlette:
    state = _State()

    def caller(request: Request) -> tuple[str | None, dict[str, Any] | None]:
        """("main" | role | None, the minted key's record)."""
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token == API_KEY:
            return "main", None
        record = state.keys.get(token)
        return (record["role"], record) if record else (None, None)

    async def mint(request: Request) -> Response:
        if request.headers.get("x-admin-key") != ADMIN_KEY:
            return _error(401, "Admin key required.", "invalid_request_error", "invalid_api_key")
        body = await request.json()
        role = (
            "spent"
            if body.get("budget") == 0
            else "limited"
            if "requests_per_minute" in body
            else "unscoped"
            if body.get("permissions") == []
            else "main"
        )
        secret, ident = "sk-fake-minted-" + secrets.token_hex(8), "k" + secrets.token_hex(4)
        state.keys[secret] = {"id": ident, "role": role, "used": 0}
        return JSONResponse({"data": {"id": ident, "secret": secret, "role": role}}, 201)

    async def revoke(request: Request) -> Response:
        if request.headers.get("x-admin-key") != ADMIN_KEY:
            return _error(401, "Admin key required.", "invalid_request_error", "invalid_api_key")
        ids = set((await request.json()).get("ids") or [])
        for secret in [s for s, r in state.keys.items() if r["id"] in ids]:
            state.revoked.append(state.keys.pop(secret)["id"])
        return JSONResponse({"revoked": sorted(ids)})

    async def catalog(request: Request) -> Response:
        knobs = _knobs(request.path_params["variant"])
        data = [
            {
                "model_name": name,
                "slug": name.replace("-", "_"),
                "category": category,
                "supports": list(supports),
                "input_per_mtok": price_in,
                "output_per_mtok": price_out,
                "health_status": health,
            }
            for name, (category, supports, price_in, price_out, health) in CATALOG.items()
        ]
        if "array_wrapped" in knobs:
            return JSONResponse({"object": "list", "data": data})
        return JSONResponse(data)

    async def models(request: Request) -> Response:
        knobs = _knobs(request.path_params["variant"])
        who, _ = caller(request)
        if who is None and "models_public" not in knobs:
            status = 403 if "models_403" in knobs else 401
            return _error(status, "A bearer key is required.", "invalid_request_error", None)
        data = [
            {"id": name, "object": "model", "created": 1_750_000_000, "owned_by": "fake"}
            for name, entry in CATALOG.items()
            if entry[4] != "unhealthy" or "unhealthy_listed" in knobs
        ]
        return JSONResponse({"object": "list", "data": data})

    def limited(knobs: frozenset[str], record: dict[str, Any]) -> Response | None:
        """The limited key's refusal once past its limit (None: admitted)."""
        limit = 3 if "limit_three" in knobs else 1
        record["used"] += 1
        remaining = max(limit - record["used"], 0)
        headers = {
            "x-ratelimit-limit-requests": str(limit),
            "x-ratelimit-remaining-requests": str(remaining),
            "x-ratelimit-reset-requests": "60s" if "limit_three" in knobs else "1m0s",
        }
        # limited_no_headers: the answers lack them, the refusals keep them.
        record["headers"] = {} if "limited_no_headers" in knobs else headers
        if record["used"] <= limit or "rate_never" in knobs:
            return None
        if "date_retry_after" in knobs:
            headers["retry-after"] = email.utils.formatdate(time.time() + 30, usegmt=True)
        elif "rate_no_retry_after" not in knobs:
            headers["retry-after"] = "30"
        if "rate_as_quota" in knobs:
            return _error(429, "Quota.", "insufficient_quota", "insufficient_quota", **headers)
        return _error(
            429, "Rate limit reached for requests.", "requests", "rate_limit_exceeded", **headers
        )

    async def post(request: Request) -> Response:
        variant, path = request.path_params["variant"], request.path_params["path"]
        knobs = _knobs(variant)
        who, record = caller(request)
        if who is None:
            return _error(
                401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key"
            )
        if who == "spent" and not (
            path == "audio/transcriptions" and "spent_transcriptions_free" in knobs
        ):
            return _quota()
        if who == "unscoped" and "scope_ignored" not in knobs:
            if "scope_plain_403" in knobs:
                return Response("forbidden", 403, media_type="text/plain")
            code = None if "scope_code_null" in knobs else "insufficient_permissions"
            return _error(403, "This key lacks the consume scope.", "permission_error", code)
        headers: dict[str, str] = {}
        if who == "limited" and record is not None:
            refused = limited(knobs, record)
            if refused is not None:
                return refused
            headers.update(record["headers"])
        if path != "chat/completions":
            return JSONResponse({"text": "free"} if path.startswith("audio") else {"ok": True})
        return chat(knobs, await request.json(), headers)

    def chat(knobs: frozenset[str], body: dict[str, Any], headers: dict[str, str]) -> Response:
        model = body.get("model")
        entry = CATALOG.get(str(model))
        if entry is None:
            return _error(
                404,
                f"The model {model!r} does not exist.",
                "invalid_request_error",
                "model_not_found",
            )
        images = any(
            isinstance(m.get("content"), list)
            and any(p.get("type") == "image_url" for p in m["content"])
            for m in body.get("messages") or []
        )
        if images and ("vision" not in entry[1] or "vision_refused" in knobs):
            return _error(400, "This model does not accept images.", "invalid_request_error", None)
        prompt = 5 + len(json.dumps(body.get("messages"))) // 16
        completion = min(int(body.get("max_tokens") or 16), 5)
        credits = (prompt * entry[2] + completion * entry[3]) / 1e6
        if "alias_surcharged" in knobs and model in ALIASES:
            credits *= 1.1
        if "credits_ceiling" in knobs:
            shown = f"{math.ceil(round(credits * 1e6, 6)) / 1e6:.3e}"
        else:
            shown = f"{credits:.6f}"
        usage = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }
        message = {"role": "assistant", "content": "grey " * completion, "refusal": None}
        payload = {
            "id": "chatcmpl-" + secrets.token_hex(6),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {"index": 0, "message": message, "finish_reason": "length", "logprobs": None}
            ],
            "usage": usage,
        }
        return JSONResponse(payload, headers={**headers, CREDITS_HEADER: shown})

    async def realtime(websocket: WebSocket) -> None:
        knobs = _knobs(websocket.path_params["variant"])
        token = websocket.headers.get("authorization", "").removeprefix("Bearer ")
        record = state.keys.get(token)
        await websocket.accept()
        quota = {
            "type": "error",
            "event_id": "event_" + secrets.token_hex(6),
            "error": {
                "type": "insufficient_quota",
                "code": "insufficient_quota",
                "message": "Quota.",
                "param": None,
                "event_id": None,
            },
        }
        spent = record is not None and record["role"] == "spent"
        if spent and not ({"quota_at_response", "spent_realtime_served"} & knobs):
            await websocket.send_json(quota)
            await websocket.close(code=1008)
            return
        await websocket.send_json(
            {"type": "session.created", "event_id": "event_1", "session": {"id": "sess_1"}}
        )
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            if spent and "quota_at_response" in knobs:
                await websocket.send_json(quota)
                await websocket.close(code=1008)
                return
            done = {"id": "resp_1", "status": "completed", "output": []}
            await websocket.send_json(
                {"type": "response.done", "event_id": "event_2", "response": done}
            )

    prefix = "/{variant}"
    app = Starlette(
        routes=[
            Route(f"{prefix}/admin/keys", mint, methods=["POST"]),
            Route(f"{prefix}/admin/revoke", revoke, methods=["POST"]),
            Route(f"{prefix}/api/models", catalog),
            Route(f"{prefix}/v1/models", models),
            WebSocketRoute(f"{prefix}/v1/realtime", realtime),
            Route(f"{prefix}/v1/{{path:path}}", post, methods=["POST"]),
        ]
    )
    app.state.promises = state
    return app
