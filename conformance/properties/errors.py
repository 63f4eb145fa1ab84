"""The invalid-request property (area ``properties``, level ``deep``): generated invalid
requests are answered 4xx with the OpenAI error object, never 2xx or 5xx.

Must not: draw a violation the target's profile documents as allowed (a gateway with a
default model may accept a request without ``model``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from conformance.properties.harness import hold
from conformance.properties.strategies import InvalidRequest, invalid_requests
from conformance.registry import CheckFailed, CheckSkipped, check

if TYPE_CHECKING:
    from conformance.context import CheckContext

__all__: list[str] = []


@check(
    "properties.errors.invalid_rejected",
    area="properties",
    level="deep",
    endpoint="POST /v1/chat/completions, POST /v1/embeddings",
    asserts="Generated invalid requests (wrong type, out-of-range number, unknown enum value, "
    "missing required field) are answered 4xx with the error object, never 2xx or 5xx.",
    source="OpenAI API reference, Error codes (400 invalid_request_error); spec components "
    "CreateChatCompletionRequest, CreateEmbeddingRequest, ErrorResponse",
)
async def check_invalid_rejected(ctx: CheckContext) -> None:
    models = {
        cap: ctx.target.models[cap] for cap in ("chat", "embedding") if ctx.target.models.get(cap)
    }
    if not models:
        raise CheckSkipped("the target offers neither a chat nor an embedding model")

    async def prop(request: InvalidRequest) -> None:
        exchange = await ctx.client.request("POST", request.path, json=request.body)
        what = f"{request.violation} ({request.reason}) on POST {request.path}"
        if exchange.status is None or not 400 <= exchange.status < 500:
            raise CheckFailed(
                f"{what}: answered {exchange.status}, not 4xx: "
                f"{exchange.body[:160].decode('utf-8', errors='replace')!r}",
                evidence=exchange,
            )
        try:
            error = exchange.json().get("error")
        except (ValueError, AttributeError):
            error = None
        if not isinstance(error, dict) or not isinstance(error.get("message"), str):
            raise CheckFailed(
                f"{what}: the {exchange.status} body is not the error object", exchange
            )
        if not isinstance(error.get("type"), str):
            raise CheckFailed(f"{what}: error.type is {error.get('type')!r}", evidence=exchange)

    strategy = invalid_requests(models, model_required=ctx.target.profile.default_model is None)
    await hold(ctx, strategy, prop)
