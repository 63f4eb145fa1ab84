"""Checks for the public model catalog ``GET /api/models`` (a gateway extension, when offered).

Sources: ``spec/catalog.yaml`` (``CatalogList``; the category -> endpoint table in
``x-category-endpoints``), modelled on monday.com's public Models API catalog; the
``category`` extension on ``GET /v1/models`` entries (``spec/openai.yaml`` ``Model``).
A target without ``/api/models`` skips these checks.

Must not: require the catalog from targets that do not offer one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import yaml

from conformance.checks.verdicts import excerpt, ok_json
from conformance.context import CATALOG_KEY, MODELS_LIST_KEY
from conformance.media import wav_tone
from conformance.registry import CheckFailed, CheckSkipped, check
from conformance.schemas import schema_errors, spec_dir

if TYPE_CHECKING:
    from conformance.context import CheckContext
    from conformance.exchange import Exchange

__all__: list[str] = []

_ENDPOINT = "GET /api/models"
_SOURCE = "spec/catalog.yaml (gateway extension modelled on monday.com's Models API catalog)"


async def _catalog(ctx: CheckContext) -> tuple[Exchange, list[dict[str, Any]]]:
    url = f"{ctx.target.origin}/api/models"
    exchange = await ctx.shared(CATALOG_KEY, lambda: ctx.client.request("GET", url, auth=False))
    if exchange.status in (404, 405) or exchange.status is None:
        raise CheckSkipped(f"the target offers no public catalog at {url} ({exchange.status})")
    if exchange.status in (401, 403):
        raise CheckFailed(
            f"the catalog must be public, got {exchange.status} without a key", exchange
        )
    body = ok_json(exchange, "GET /api/models")
    data = body.get("data")
    if not isinstance(data, list):
        raise CheckFailed(f"`data` must be a list, got {data!r:.80}", exchange)
    return exchange, [m for m in data if isinstance(m, dict)]


def _table() -> dict[str, list[str]]:
    document = yaml.safe_load((spec_dir() / "catalog.yaml").read_text(encoding="utf-8"))
    table: dict[str, list[str]] = document["x-category-endpoints"]
    return table


@check(
    "catalog.api_models.schema",
    area="catalog",
    level="standard",
    endpoint=_ENDPOINT,
    asserts="GET /api/models answers without a key and matches spec/catalog.yaml CatalogList",
    source=_SOURCE,
)
async def check_catalog_api_models_schema(ctx: CheckContext) -> None:
    exchange, _ = await _catalog(ctx)
    errors = schema_errors("CatalogList", exchange.json(), document="catalog.yaml")
    if errors:
        raise CheckFailed("the catalog breaks CatalogList: " + "; ".join(errors[:5]), exchange)


@check(
    "catalog.categories.consistent",
    area="catalog",
    level="standard",
    endpoint="GET /models",
    asserts="every model GET /v1/models lists is in the catalog with the same category, and "
    "none of them is unhealthy",
    source=_SOURCE,
)
async def check_catalog_categories_consistent(ctx: CheckContext) -> None:
    _, catalog = await _catalog(ctx)
    by_slug = {m.get("slug"): m for m in catalog}
    listing = await ctx.shared(MODELS_LIST_KEY, lambda: ctx.client.request("GET", "/models"))
    data = ok_json(listing, "GET /models").get("data") or []
    for model in data:
        if not isinstance(model, dict):
            continue
        entry = by_slug.get(model.get("id"))
        if entry is None:
            raise CheckFailed(f"{model.get('id')!r} is listed but not in the catalog", listing)
        if "category" in model and model["category"] != entry.get("category"):
            raise CheckFailed(
                f"{model['id']!r}: category {model['category']!r} in /v1/models, "
                f"{entry.get('category')!r} in the catalog",
                listing,
            )
        if entry.get("health_status") == "unhealthy":
            raise CheckFailed(f"{model['id']!r} is unhealthy yet listed as serving", listing)


def _probe(category: str, model: str, supports: list[str]) -> tuple[str, dict[str, Any]]:
    """The first endpoint of ``category`` in the table and a minimal request for it."""
    if category == "embedding":
        return "/embeddings", {"json": {"model": model, "input": "catalog probe"}}
    if category == "image":
        return "/images/generations", {
            "json": {"model": model, "prompt": "a dot", "size": "1024x1024"}
        }
    if category == "audio":
        if any(s in supports for s in ("transcription", "audio_transcription")):
            files = {"file": ("probe.wav", wav_tone(0.5), "audio/wav")}
            return "/audio/transcriptions", {"data": {"model": model}, "files": files}
        return "/audio/speech", {"json": {"model": model, "input": "probe", "voice": "alloy"}}
    return "/chat/completions", {
        "json": {"model": model, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}
    }


@check(
    "catalog.categories.routes",
    area="catalog",
    level="deep",
    endpoint=_ENDPOINT,
    asserts="one healthy model of every category is served by the endpoint the category table "
    "names (video and realtime are covered by their own areas)",
    source=_SOURCE,
)
async def check_catalog_categories_routes(ctx: CheckContext) -> None:
    _, catalog = await _catalog(ctx)
    table = _table()
    tried: set[tuple[str, bool]] = set()
    for entry in catalog:
        category, slug = entry.get("category"), entry.get("slug")
        supports = [s for s in entry.get("supports") or [] if isinstance(s, str)]
        if category not in table or category in ("video", "realtime") or not isinstance(slug, str):
            continue
        kind = (str(category), "transcription" in " ".join(supports))
        if kind in tried or entry.get("health_status") == "unhealthy":
            continue
        tried.add(kind)
        path, request = _probe(str(category), slug, supports)
        if path not in table[str(category)]:
            raise CheckFailed(
                f"the category table sends {category!r} to {table[category]}, not {path}"
            )
        exchange = await ctx.client.request("POST", path, **request)
        if exchange.status != 200:
            raise CheckFailed(
                f"{slug!r} (category {category!r}) is not served by POST {path}: "
                f"status {exchange.status}: {excerpt(exchange)}",
                exchange,
            )
    if not tried:
        raise CheckSkipped("the catalog lists no healthy model of a probed category")
