"""Gateway promises judged against the public catalog: credits at catalog prices, the two model
listings, and vision on the models tagged for it.

The profile names the catalog it promises (``catalog: /api/models``; spec/catalog.yaml) and how
its credits relate to the catalog's prices (``credits_per_usd``, ``credits_rounding``); without
them the checks are skipped, saying which field would judge them. A catalog is read as a JSON
array or as ``{"data": [...]}``; an entry is matched to a ``/v1/models`` id by ``model_name``,
``slug`` or ``id``.

Sources: the generic platform's and the catalog platform's documentation as the profile cites
it (``GET /api/models``: every model, serving or not, with prices, ``supports[]`` tags and
``health_status``, no auth; ``GET /v1/models``: a bearer key, only models currently serving;
``vision``: image parts in chat), monday.com's Models API docs ("no extra surcharge on top of
underlying usage" through aliases), OpenAI's API reference (``CompletionUsage``; image_url
content parts).

Must not: judge a promise the profile does not make, or spend more than one request per
promise beyond what the other profile checks share.
"""

from __future__ import annotations

import base64
import math
import struct
import zlib
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from conformance.checks.verdicts import excerpt, ok_json
from conformance.context import CATALOG_KEY, MODELS_LIST_KEY
from conformance.registry import CheckFailed, CheckSkipped, check

if TYPE_CHECKING:
    from conformance.context import CheckContext
    from conformance.exchange import Exchange

__all__: list[str] = []

_SHORT = [{"role": "user", "content": "Say hi."}]
_NOT_SERVING = "unhealthy"  # spec/catalog.yaml HealthStatus: absent from GET /v1/models
_SOURCE_CATALOG = (
    "gateway profile: the catalog it promises (spec/catalog.yaml; GET /api/models lists every "
    "model with health, GET /v1/models only serving ones, with a bearer key)"
)


def _png(size: int = 8) -> bytes:
    """A small grey PNG (written here: the check needs an image part, not an image file)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x80\x80\x80" * size for _ in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


_IMAGE_URL = "data:image/png;base64," + base64.b64encode(_png()).decode("ascii")


async def _catalog(ctx: CheckContext) -> tuple[Exchange, list[dict[str, Any]]]:
    path = ctx.target.profile.catalog
    if not path:
        raise CheckSkipped(
            f"profile {ctx.target.profile.name!r} promises no public catalog (catalog: true)"
        )
    url = f"{ctx.target.origin}{path}"
    exchange = await ctx.shared(CATALOG_KEY, lambda: ctx.client.request("GET", url, auth=False))
    if exchange.status != 200:
        raise CheckFailed(
            f"the promised catalog GET {path} answered {exchange.status} without a key: "
            f"{excerpt(exchange)}",
            exchange,
        )
    try:
        body = exchange.json()
    except ValueError:
        raise CheckFailed(f"GET {path} is not JSON: {excerpt(exchange)}", exchange) from None
    data = body.get("data") if isinstance(body, dict) else body
    if not isinstance(data, list):
        raise CheckFailed(f"GET {path} holds no list of models: {excerpt(exchange)}", exchange)
    return exchange, [entry for entry in data if isinstance(entry, dict)]


def _names(entry: dict[str, Any]) -> set[str]:
    return {entry[k] for k in ("model_name", "slug", "id") if isinstance(entry.get(k), str)}


async def _listed(ctx: CheckContext) -> tuple[Exchange, list[str]]:
    exchange = await ctx.shared(MODELS_LIST_KEY, lambda: ctx.client.request("GET", "/models"))
    data = ok_json(exchange, "GET /models").get("data")
    ids = [m["id"] for m in data or [] if isinstance(m, dict) and isinstance(m.get("id"), str)]
    return exchange, ids


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


@check(
    "profile.credits.priced",
    area="profile",
    level="standard",
    endpoint="POST /chat/completions",
    asserts="the credits charged for a chat request through each alias equal the catalog's price "
    "x the usage the response reports (no surcharge on aliases), within the profile's rounding "
    "unit",
    source="gateway profile (monday: usage draws down tokens at the underlying cost, 'no extra "
    "surcharge on top of underlying usage' through aliases); OpenAI OpenAPI spec: "
    "CompletionUsage",
    capability="chat",
)
async def check_profile_credits_priced(ctx: CheckContext) -> None:
    profile = ctx.target.profile
    header, per_usd, unit = (
        profile.credits_header,
        profile.credits_per_usd,
        profile.credits_rounding,
    )
    if header is None or per_usd is None or unit is None:
        raise CheckSkipped(
            f"profile {profile.name!r} does not state how its credits relate to catalog prices "
            "(credits_header, credits_per_usd, credits_rounding)"
        )
    if not profile.aliases:
        raise CheckSkipped(f"profile {profile.name!r} names no aliases (priced without surcharge)")
    _, catalog = await _catalog(ctx)
    for alias in profile.aliases:
        entry = next((e for e in catalog if alias in _names(e)), None)
        if entry is None:
            raise CheckFailed(f"the catalog lists no entry for the alias {alias!r}")
        prices = [_number(entry.get(f)) for f in ("input_per_mtok", "output_per_mtok")]
        exchange = await _alias_chat(ctx, alias)
        usage = ok_json(exchange, f"chat through {alias!r}").get("usage")
        usage = usage if isinstance(usage, dict) else {}
        prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
        if type(prompt) is not int or type(completion) is not int or min(prompt, completion) < 0:
            raise CheckFailed(f"{alias!r}: usage {usage!r:.120} gives no token counts", exchange)
        if prices[0] is None or prices[1] is None:
            raise CheckFailed(f"the catalog gives {alias!r} no per-token prices: {entry!r:.160}")
        tokens = (prompt, completion)
        raw = exchange.headers.get(header.lower())
        charged = _number(_float(raw))
        if charged is None:
            raise CheckFailed(
                f"{alias!r}: the metering header {header}: {raw!r} is no number", exchange
            )
        expected = (tokens[0] * prices[0] + tokens[1] * prices[1]) / 1e6 * per_usd
        if abs(charged - expected) > unit * (1 + 1e-9) + 1e-12:
            raise CheckFailed(
                f"{alias!r}: charged {charged:g} credits for {tokens[0]} prompt + {tokens[1]} "
                f"completion tokens; the catalog's prices ({prices[0]:g} / {prices[1]:g} USD per "
                f"million) make {expected:.9g} (x {per_usd:g} credits per USD, rounded to "
                f"{unit:g})",
                exchange,
            )


def _alias_chat(ctx: CheckContext, alias: str) -> Awaitable[Exchange]:
    # The same request (and shared key) profile.aliases.callable sends: one request per alias.
    body = {"model": alias, "messages": _SHORT, "max_tokens": 8}
    return ctx.shared(
        f"profile.alias.{alias}",
        lambda: ctx.client.request("POST", "/chat/completions", json=body),
    )


def _float(raw: str | None) -> float | None:
    try:
        return None if raw is None else float(raw.strip())
    except ValueError:
        return None


@check(
    "profile.models.listings",
    area="profile",
    level="standard",
    endpoint="GET /models",
    asserts="GET /v1/models requires a key and lists exactly the models the catalog shows as "
    "serving; the catalog lists every model with its health_status",
    source=_SOURCE_CATALOG,
)
async def check_profile_models_listings(ctx: CheckContext) -> None:
    _, catalog = await _catalog(ctx)
    anonymous = await ctx.client.request("GET", "/models", auth=False)
    if anonymous.status not in (401, 403):
        raise CheckFailed(
            f"GET /models without a key answered {anonymous.status}: the listing requires a "
            "bearer key",
            anonymous,
        )
    listing, ids = await _listed(ctx)
    for entry in catalog:
        if not isinstance(entry.get("health_status"), str):
            raise CheckFailed(f"a catalog entry has no health_status: {entry!r:.160}")
    for model in ids:
        found = [e for e in catalog if model in _names(e)]
        if not found:
            raise CheckFailed(
                f"{model!r} is listed by /v1/models but absent from the catalog", listing
            )
        if found[0]["health_status"] == _NOT_SERVING:
            raise CheckFailed(
                f"{model!r} is {_NOT_SERVING} in the catalog yet listed as serving", listing
            )
    listed = set(ids)
    for entry in catalog:
        if entry["health_status"] != _NOT_SERVING and not _names(entry) & listed:
            raise CheckFailed(
                f"{sorted(_names(entry))} is {entry['health_status']!r} in the catalog but not "
                "listed by /v1/models (which lists every model serving)",
                listing,
            )


@check(
    "profile.vision.image_part",
    area="profile",
    level="standard",
    endpoint="POST /chat/completions",
    asserts="a chat request with an image_url content part is answered by a serving model the "
    "catalog tags `vision`",
    source="gateway profile: the catalog's `vision` tag (spec/catalog.yaml supports[]); OpenAI API "
    "reference: ChatCompletionRequestMessageContentPartImage",
    capability="chat",
)
async def check_profile_vision_image_part(ctx: CheckContext) -> None:
    _, catalog = await _catalog(ctx)
    _, ids = await _listed(ctx)
    model = next(
        (
            name
            for entry in catalog
            if "vision" in (entry.get("supports") or [])
            and entry.get("health_status") != _NOT_SERVING
            for name in sorted(_names(entry) & set(ids))
        ),
        None,
    )
    if model is None:
        raise CheckSkipped("the catalog tags no serving model `vision`")
    content = [
        {"type": "text", "text": "What colour is this image?"},
        {"type": "image_url", "image_url": {"url": _IMAGE_URL}},
    ]
    body = {"model": model, "messages": [{"role": "user", "content": content}], "max_tokens": 8}
    exchange = await ctx.client.request("POST", "/chat/completions", json=body)
    choices = ok_json(exchange, f"chat with an image part to {model!r} (tagged vision)").get(
        "choices"
    )
    if not isinstance(choices, list) or not choices:
        raise CheckFailed(f"{model!r} answered an image part with no choices", exchange)
