"""The models endpoints: ``GET /models`` (list) and ``GET /models/{model}`` (retrieve).

The list is one shared request; retrieving every listed id is capped by level (1 at smoke,
5 at standard, all at deep) to keep a run cheap.

Must not: decide which capability a model serves (the session's discovery does).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from conformance.checks.chat import created_problem
from conformance.checks.errors import envelope_problems
from conformance.context import MODELS_LIST_KEY
from conformance.registry import CheckFailed, CheckSkipped, check

if TYPE_CHECKING:
    from conformance.context import CheckContext
    from conformance.exchange import Exchange

__all__: list[str] = []

MODELS = "/models"
_UNKNOWN = "parity-no-such-model-7f3a"
_CAPS = {"smoke": 1, "standard": 5}
# openai-python's path_template percent-encodes a path segment, keeping RFC 3986 pchar.
_SEGMENT_SAFE = "!$&'()*+,;=:@"


async def _listing(ctx: CheckContext) -> Exchange:
    # The run seeds this key with its discovery request, so the listing costs nothing more.
    return await ctx.shared(MODELS_LIST_KEY, lambda: ctx.client.request("GET", MODELS))


async def _models(ctx: CheckContext) -> tuple[Exchange, list[dict[str, Any]]]:
    exchange = await _listing(ctx)
    if exchange.status != 200:
        raise CheckSkipped(f"GET /models answered {exchange.status}; see models.list.shape")
    try:
        body = exchange.json()
    except ValueError:
        raise CheckSkipped("GET /models is not JSON; see models.list.shape") from None
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        raise CheckSkipped("GET /models has no data list; see models.list.shape")
    return exchange, [m for m in data if isinstance(m, dict)]


@check(
    "models.list.shape",
    area="models",
    level="smoke",
    endpoint=MODELS,
    asserts="`GET /models` answers 200 with `{object: list, data: [...]}`, each entry with a "
    "string `id`, `object: model` and a string `owned_by`.",
    source="OpenAI OpenAPI spec: ListModelsResponse (object 'list', data of Model: id, "
    "object 'model', created, owned_by)",
)
async def check_list_shape(ctx: CheckContext) -> None:
    exchange = await _listing(ctx)
    if exchange.status != 200:
        raise CheckFailed(f"GET /models answered {exchange.status}", exchange)
    try:
        body = exchange.json()
    except ValueError as exc:
        raise CheckFailed(str(exc), exchange) from None
    if not isinstance(body, dict) or body.get("object") != "list":
        got = body.get("object") if isinstance(body, dict) else type(body).__name__
        raise CheckFailed(f"the listing's object is {got!r}, expected 'list'", exchange)
    data = body.get("data")
    if not isinstance(data, list) or not data:
        raise CheckFailed(f"data is {data!r:.120}, expected a non-empty list", exchange)
    for entry in data:
        if not isinstance(entry, dict):
            raise CheckFailed(f"a data entry is {entry!r:.120}", exchange)
        problems = [
            f"{name} is {entry.get(name)!r}"
            for name in ("id", "owned_by")
            if not isinstance(entry.get(name), str) or not entry[name]
        ]
        if entry.get("object") != "model":
            problems.append(f"object is {entry.get('object')!r}")
        if problems:
            raise CheckFailed(f"model {entry.get('id')!r}: {'; '.join(problems)}", exchange)


@check(
    "models.list.created_seconds",
    area="models",
    level="smoke",
    endpoint=MODELS,
    asserts="Every listed model's `created` is an integer Unix timestamp in seconds.",
    source="OpenAI OpenAPI spec: Model.created ('The Unix timestamp (in seconds) when the "
    "model was created', type integer)",
)
async def check_list_created(ctx: CheckContext) -> None:
    exchange, models = await _models(ctx)
    for model in models:
        problem = created_problem(model.get("created"), recent=False)
        if problem:
            raise CheckFailed(f"model {model.get('id')!r}: {problem}", exchange)


@check(
    "models.list.schema",
    area="models",
    level="standard",
    endpoint=MODELS,
    asserts="The listing validates against the spec's ListModelsResponse schema.",
    source="OpenAI OpenAPI spec: components.schemas.ListModelsResponse",
)
async def check_list_schema(ctx: CheckContext) -> None:
    from conformance.schemas import schema_errors

    exchange = await _listing(ctx)
    if exchange.status != 200:
        raise CheckSkipped(f"GET /models answered {exchange.status}; see models.list.shape")
    try:
        body = exchange.json()
    except ValueError:
        raise CheckSkipped("GET /models is not JSON; see models.list.shape") from None
    errors = schema_errors("ListModelsResponse", body)
    if errors:
        raise CheckFailed("; ".join(errors[:5]), exchange)


@check(
    "models.retrieve.listed",
    area="models",
    level="smoke",
    endpoint="/models/{model}",
    asserts="Listed models are retrievable: `GET /models/{id}` answers 200 with the same id "
    "and `object: model` (1 model at smoke, 5 at standard, all at deep).",
    source="OpenAI OpenAPI spec: GET /models/{model} (retrieveModel) responses.200 Model",
)
async def check_retrieve_listed(ctx: CheckContext) -> None:
    _, models = await _models(ctx)
    ids = [m["id"] for m in models if isinstance(m.get("id"), str) and m["id"]]
    if not ids:
        raise CheckSkipped("no model ids listed; see models.list.shape")
    cap = _CAPS.get(ctx.target.level)
    for model_id in ids if cap is None else ids[:cap]:
        path = f"{MODELS}/{quote(model_id, safe=_SEGMENT_SAFE)}"

        async def retrieve(path: str = path) -> Exchange:
            return await ctx.client.request("GET", path)

        exchange = await ctx.shared(f"models.retrieve.{model_id}", retrieve)
        if exchange.status != 200:
            raise CheckFailed(f"GET {path} answered {exchange.status}", exchange)
        try:
            body = exchange.json()
        except ValueError as exc:
            raise CheckFailed(str(exc), exchange) from None
        if not isinstance(body, dict) or body.get("id") != model_id:
            got = body.get("id") if isinstance(body, dict) else body
            raise CheckFailed(f"GET {path} returned id {got!r}", exchange)
        if body.get("object") != "model":
            raise CheckFailed(f"GET {path} returned object {body.get('object')!r}", exchange)


@check(
    "models.retrieve.unknown",
    area="models",
    level="standard",
    endpoint="/models/{model}",
    asserts="Retrieving a model that does not exist answers 404 with an OpenAI error object.",
    source="OpenAI API reference, Error codes: 404 (model does not exist); OpenAI OpenAPI "
    "spec: Error",
)
async def check_retrieve_unknown(ctx: CheckContext) -> None:
    exchange = await ctx.shared(
        "models.retrieve.unknown", lambda: ctx.client.request("GET", f"{MODELS}/{_UNKNOWN}")
    )
    if exchange.status != 404:
        raise CheckFailed(f"GET /models/{_UNKNOWN} answered {exchange.status}", exchange)
    problems = envelope_problems(exchange)
    if problems:
        raise CheckFailed("; ".join(problems), exchange)
