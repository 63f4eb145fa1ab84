"""Checks for the public model catalog as the catalog page documents it (``spec/catalog.yaml``).

The page: ``GET /api/models`` needs no key and answers a JSON array of model objects
(``model_name``, the value to pass as ``model``; ``slug``, the dashboard URL form;
``category``; ``supports[]`` tags; ``input_per_mtok``/``output_per_mtok``; ``health_status``),
serving or not; ``GET /v1/models`` lists the serving models in OpenAI's Model shape, each with
its ``category``; the category -> endpoint table says where to call a model, and for ``audio``
the ``audio_transcription`` tag marks speech-to-text (without it: text-to-speech).

OpenAI has no ``/api/models``: these checks judge only a target whose profile claims the page
(``Profile.catalog``: the built-in ``catalog`` profile, or ``catalog: true`` in a profile file)
and are skipped, with that reason, under any other. When the catalog body itself is broken only
``catalog.api_models.schema`` fails; the checks that read the catalog skip, pointing to it.

Must not: judge a target whose profile does not claim the catalog; send more than a bounded
number of probes (one per category, :data:`_MAX_AUDIO_PROBES` audio models).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import yaml

from conformance.checks.verdicts import excerpt
from conformance.context import CATALOG_KEY, MODELS_LIST_KEY
from conformance.media import wav_tone
from conformance.registry import CheckFailed, CheckSkipped, check
from conformance.schemas import schema_errors, spec_dir

if TYPE_CHECKING:
    from conformance.context import CheckContext
    from conformance.exchange import Exchange

__all__: list[str] = []

_ENDPOINT = "GET /api/models"
_SOURCE = "the catalog page (spec/catalog.yaml; spec/PROVENANCE.md, 'The catalog page')"
_SEE_SCHEMA = "see catalog.api_models.schema"
_MAX_AUDIO_PROBES = 6
# A category that names the same capability as one of the page's tags: a client filtering
# supports[] on that tag must find every model of the category.
_CATEGORY_TAGS = {"reasoning": "reasoning", "embedding": "embeddings", "vision": "vision"}


@functools.cache
def _document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(
        (spec_dir() / "catalog.yaml").read_text(encoding="utf-8")
    )
    return loaded


def _claimed(ctx: CheckContext) -> None:
    profile = ctx.target.profile
    if not profile.catalog:
        raise CheckSkipped(
            f"profile {profile.name!r} does not claim the catalog page's contract (GET /api/models "
            "is not part of OpenAI's API); judge it with --profile catalog, or `catalog: true` "
            "in a profile file"
        )


async def _fetch(ctx: CheckContext) -> Exchange:
    _claimed(ctx)
    url = f"{ctx.target.origin}{ctx.target.profile.catalog}"
    return await ctx.shared(CATALOG_KEY, lambda: ctx.client.request("GET", url, auth=False))


async def _catalog(ctx: CheckContext) -> tuple[Exchange, list[dict[str, Any]]]:
    """The catalog's model objects; skips (see the schema check) when the body is no array."""
    exchange = await _fetch(ctx)
    if exchange.status != 200:
        raise CheckSkipped(f"GET /api/models answered {exchange.status}; {_SEE_SCHEMA}")
    try:
        body = exchange.json()
    except ValueError:
        raise CheckSkipped(f"GET /api/models is not JSON; {_SEE_SCHEMA}") from None
    if not isinstance(body, list):
        raise CheckSkipped(f"GET /api/models is not a JSON array; {_SEE_SCHEMA}")
    return exchange, [m for m in body if isinstance(m, dict)]


def _tags(entry: dict[str, Any]) -> list[str]:
    return [s for s in entry.get("supports") or [] if isinstance(s, str)]


def _healthy(entry: dict[str, Any]) -> bool:
    return entry.get("health_status") != "unhealthy" and isinstance(entry.get("model_name"), str)


def _page_endpoint(entry: dict[str, Any]) -> str | None:
    """Where a client written from the page calls this model (paths relative to ``/v1``)."""
    document = _document()
    direction = document["x-audio-transcription"]
    if entry.get("category") == "audio" and direction["tag"] in _tags(entry):
        return str(direction["endpoint"])
    endpoint = document["x-category-endpoints"].get(entry.get("category"))
    return None if endpoint is None else str(endpoint)


@check(
    "catalog.api_models.schema",
    area="catalog",
    level="standard",
    endpoint=_ENDPOINT,
    asserts="GET /api/models answers without a key with a bare JSON array of model objects "
    "matching spec/catalog.yaml CatalogList (model_name, slug, category, supports, "
    "input_per_mtok, output_per_mtok, health_status)",
    source=_SOURCE,
)
async def check_catalog_api_models_schema(ctx: CheckContext) -> None:
    exchange = await _fetch(ctx)
    if exchange.status is None:
        raise CheckFailed(f"GET /api/models: no response ({exchange.error})", exchange)
    if exchange.status in (401, 403):
        raise CheckFailed(
            f"the catalog must be public, got {exchange.status} without a key", exchange
        )
    if exchange.status != 200:
        raise CheckFailed(
            f"the profile claims the catalog, but GET /api/models answered {exchange.status}: "
            f"{excerpt(exchange)}",
            exchange,
        )
    try:
        body = exchange.json()
    except ValueError as exc:
        raise CheckFailed(f"GET /api/models: {exc}", exchange) from None
    if isinstance(body, dict):
        raise CheckFailed(
            f"the catalog is an object (keys {sorted(body)[:6]!r}); the page documents a bare "
            "JSON array of model objects, which a client written from it iterates directly",
            exchange,
        )
    errors = schema_errors("CatalogList", body, document="catalog.yaml")
    if errors:
        raise CheckFailed("the catalog breaks CatalogList: " + "; ".join(errors[:5]), exchange)


async def _listing(ctx: CheckContext) -> tuple[Exchange, list[dict[str, Any]]]:
    listing = await ctx.shared(MODELS_LIST_KEY, lambda: ctx.client.request("GET", "/models"))
    try:
        body = listing.json() if listing.status == 200 else None
    except ValueError:
        body = None
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        raise CheckSkipped("GET /models answered no model list; see models.list.shape")
    return listing, [m for m in data if isinstance(m, dict)]


@check(
    "catalog.categories.consistent",
    area="catalog",
    level="standard",
    endpoint="GET /models",
    asserts="every model GET /v1/models lists is in the catalog under its model_name, with the "
    "same category, and none of them is unhealthy",
    source=_SOURCE,
)
async def check_catalog_categories_consistent(ctx: CheckContext) -> None:
    _, catalog = await _catalog(ctx)
    by_name = {m.get("model_name"): m for m in catalog}
    listing, models = await _listing(ctx)
    for model in models:
        entry = by_name.get(model.get("id"))
        if entry is None:
            raise CheckFailed(
                f"{model.get('id')!r} is listed but no catalog entry has that model_name", listing
            )
        if "category" in model and model["category"] != entry.get("category"):
            raise CheckFailed(
                f"{model['id']!r}: category {model['category']!r} in /v1/models, "
                f"{entry.get('category')!r} in the catalog",
                listing,
            )
        if entry.get("health_status") == "unhealthy":
            raise CheckFailed(f"{model['id']!r} is unhealthy yet listed as serving", listing)


@check(
    "catalog.v1_models.category",
    area="catalog",
    level="standard",
    endpoint="GET /models",
    asserts="every model GET /v1/models lists carries a `category` the page names, which tells "
    "the client which endpoint to call",
    source=_SOURCE,
)
async def check_catalog_v1_models_category(ctx: CheckContext) -> None:
    _claimed(ctx)
    listing, models = await _listing(ctx)
    known = _document()["components"]["schemas"]["Category"]["enum"]
    for model in models:
        if model.get("category") not in known:
            raise CheckFailed(
                f"{model.get('id')!r} has category {model.get('category')!r}; expected one of "
                f"{known}",
                listing,
            )


@check(
    "catalog.supports.documented_tags",
    area="catalog",
    level="standard",
    endpoint=_ENDPOINT,
    asserts="a capability the page has a tag for is tagged with the page's tag (tool_use, not "
    "tools; audio_transcription, not transcription): clients filter supports[] on those",
    source=_SOURCE,
)
async def check_catalog_supports_documented_tags(ctx: CheckContext) -> None:
    exchange, catalog = await _catalog(ctx)
    synonyms: dict[str, str] = _document()["x-supports-synonyms"]
    for entry in catalog:
        tags = _tags(entry)
        for tag in tags:
            documented = synonyms.get(tag)
            if documented is not None and documented not in tags:
                raise CheckFailed(
                    f"{entry.get('model_name')!r} is tagged {tag!r}, not the page's "
                    f"{documented!r}: a client filtering on {documented!r} misses it",
                    exchange,
                )


@check(
    "catalog.supports.category_tags",
    area="catalog",
    level="standard",
    endpoint=_ENDPOINT,
    asserts="a model whose category names a capability the page also tags (reasoning, "
    "embedding -> embeddings, vision) carries that tag",
    source=_SOURCE,
)
async def check_catalog_supports_category_tags(ctx: CheckContext) -> None:
    exchange, catalog = await _catalog(ctx)
    for entry in catalog:
        category = entry.get("category")
        tag = _CATEGORY_TAGS.get(category) if isinstance(category, str) else None
        if tag is not None and tag not in _tags(entry):
            raise CheckFailed(
                f"{entry.get('model_name')!r} has category {entry.get('category')!r} but its "
                f"supports {_tags(entry)!r} lack {tag!r}: a client filtering on it misses it",
                exchange,
            )


def _probe(path: str, model: str) -> dict[str, Any]:
    """A minimal request for one of the page's endpoints."""
    if path == "/embeddings":
        return {"json": {"model": model, "input": "catalog probe"}}
    if path == "/images/generations":
        return {"json": {"model": model, "prompt": "a dot", "size": "1024x1024"}}
    if path == "/audio/speech":
        return {"json": {"model": model, "input": "probe", "voice": "alloy"}}
    if path == "/audio/transcriptions":
        files = {"file": ("probe.wav", wav_tone(0.5), "audio/wav")}
        return {"data": {"model": model}, "files": files}
    if path == "/videos/generations":
        return {"json": {"model": model, "prompt": "a paper boat", "seconds": "4"}}
    return {
        "json": {"model": model, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}
    }


async def _served(ctx: CheckContext, entry: dict[str, Any], path: str) -> None:
    name = str(entry["model_name"])
    exchange = await ctx.client.request("POST", path, **_probe(path, name))
    if exchange.status != 200:
        raise CheckFailed(
            f"{name!r} (category {entry.get('category')!r}, supports {_tags(entry)!r}) is not "
            f"served where the page routes it, POST {path}: status {exchange.status}: "
            f"{excerpt(exchange)}",
            exchange,
        )


@check(
    "catalog.audio.directions",
    area="catalog",
    level="standard",
    endpoint=_ENDPOINT,
    asserts="every healthy audio model is accepted where its tags route it: speech-to-text "
    "(tagged audio_transcription) at POST /audio/transcriptions, otherwise POST /audio/speech "
    f"(at most {_MAX_AUDIO_PROBES} models)",
    source=_SOURCE,
)
async def check_catalog_audio_directions(ctx: CheckContext) -> None:
    _, catalog = await _catalog(ctx)
    audio = [e for e in catalog if e.get("category") == "audio" and _healthy(e)]
    if not audio:
        raise CheckSkipped("the catalog lists no healthy audio model")
    for entry in audio[:_MAX_AUDIO_PROBES]:
        path = _page_endpoint(entry)
        assert path is not None  # the audio category is in the table
        await _served(ctx, entry, path)


@check(
    "catalog.categories.routes",
    area="catalog",
    level="deep",
    endpoint=_ENDPOINT,
    asserts="one healthy model of every category is served at the endpoint the page's table "
    "names (video at POST /videos/generations; audio is catalog.audio.directions, realtime "
    "the realtime area)",
    source=_SOURCE,
)
async def check_catalog_categories_routes(ctx: CheckContext) -> None:
    _, catalog = await _catalog(ctx)
    tried: set[str] = set()
    for entry in catalog:
        category = entry.get("category")
        if category in ("audio", "realtime") or category in tried or not _healthy(entry):
            continue
        path = _page_endpoint(entry)
        if path is None:
            continue  # an unknown category: catalog.api_models.schema judges it
        tried.add(str(category))
        await _served(ctx, entry, path)
    if not tried:
        raise CheckSkipped("the catalog lists no healthy model of a probed category")
