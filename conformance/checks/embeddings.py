"""Checks for ``POST /embeddings``: shape, base64 encoding, dimensions, batches, token input.

Sources: OpenAI's API reference for embeddings (``CreateEmbeddingRequest``,
``CreateEmbeddingResponse``, ``Embedding``) and the official Python SDK, which asks for
``encoding_format: "base64"`` unless told otherwise and decodes the string as little-endian
float32 (openai-python ``resources/embeddings.py``).

Vectors are compared by cosine similarity, never by exact values, so the checks hold for any
correct model (OpenAI's own vectors vary in the last digits between calls).

Must not: expect particular vector values or a particular model dimension.
"""

from __future__ import annotations

import base64
import math
import struct
from typing import TYPE_CHECKING, Any

from conformance.checks.verdicts import ok_json, refusal_problem
from conformance.registry import CheckFailed, check

if TYPE_CHECKING:
    from conformance.context import CheckContext
    from conformance.exchange import Exchange

__all__: list[str] = []

_ENDPOINT = "POST /embeddings"
_TEXT = "parity conformance: the quick brown fox"
_BATCH = ["first batch input about rivers", "second batch input about mountains", _TEXT]
_SAME = 0.999  # cosine similarity above which two vectors are "the same vector"
_DIMENSIONS = 32


async def _embed(ctx: CheckContext, key: str, **fields: Any) -> Exchange:
    body = {"model": ctx.model("embedding"), **fields}
    return await ctx.shared(key, lambda: ctx.client.request("POST", "/embeddings", json=body))


async def _float_single(ctx: CheckContext) -> Exchange:
    return await _embed(ctx, "embeddings.float", input=_TEXT, encoding_format="float")


async def _float_vector(ctx: CheckContext) -> list[float]:
    exchange = await _float_single(ctx)
    return _vectors(ok_json(exchange, "float request"), exchange, encoded=False)[0]


def _vectors(body: dict[str, Any], exchange: Exchange, *, encoded: bool) -> list[list[float]]:
    """The vectors of ``data`` in list order; fails on a malformed item."""
    data = body.get("data")
    if not isinstance(data, list) or not data:
        raise CheckFailed(
            f"`data` must be a non-empty list of embeddings, got {data!r:.120}", evidence=exchange
        )
    vectors = []
    for position, item in enumerate(data):
        raw = item.get("embedding") if isinstance(item, dict) else None
        vectors.append(_vector(raw, position, exchange, encoded=encoded))
    return vectors


def _vector(raw: Any, position: int, exchange: Exchange, *, encoded: bool) -> list[float]:
    if encoded:
        if not isinstance(raw, str):
            raise CheckFailed(
                f"data[{position}].embedding: encoding_format base64 asks for a base64 string, "
                f"got {type(raw).__name__} (the official SDK's default request)",
                evidence=exchange,
            )
        try:
            packed = base64.b64decode(raw, validate=True)
        except ValueError as exc:
            raise CheckFailed(
                f"data[{position}].embedding is not valid base64: {exc}", evidence=exchange
            ) from None
        if not packed or len(packed) % 4:
            raise CheckFailed(
                f"data[{position}].embedding decodes to {len(packed)} bytes, "
                "not a whole number of float32 values",
                evidence=exchange,
            )
        return list(struct.unpack(f"<{len(packed) // 4}f", packed))
    if not isinstance(raw, list) or not raw:
        raise CheckFailed(
            f"data[{position}].embedding must be a non-empty list of numbers, got {raw!r:.80}",
            evidence=exchange,
        )
    if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in raw):
        raise CheckFailed(f"data[{position}].embedding holds non-numbers", evidence=exchange)
    return [float(x) for x in raw]


def _cosine(a: list[float], b: list[float]) -> float:
    if len(a) != len(b):
        return -2.0
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else -2.0


@check(
    "embeddings.response.shape",
    area="embeddings",
    level="smoke",
    endpoint=_ENDPOINT,
    asserts="a float request answers object 'list', items of object 'embedding' with index "
    "0..n-1 and a list of numbers, and a model string",
    source="OpenAI API reference: CreateEmbeddingResponse, Embedding",
    capability="embedding",
)
async def check_embeddings_response_shape(ctx: CheckContext) -> None:
    exchange = await _float_single(ctx)
    body = ok_json(exchange, "embeddings request")
    ctx.note_tokens(exchange)
    if body.get("object") != "list":
        raise CheckFailed(f"`object` must be 'list', got {body.get('object')!r}", exchange)
    if not isinstance(body.get("model"), str):
        raise CheckFailed(f"`model` must be a string, got {body.get('model')!r}", exchange)
    _vectors(body, exchange, encoded=False)
    for position, item in enumerate(body["data"]):
        if item.get("object") != "embedding":
            raise CheckFailed(
                f"data[{position}].object must be 'embedding', got {item.get('object')!r}",
                exchange,
            )
        if item.get("index") != position:
            raise CheckFailed(
                f"data[{position}].index must be {position}, got {item.get('index')!r}", exchange
            )


@check(
    "embeddings.response.usage",
    area="embeddings",
    level="standard",
    endpoint=_ENDPOINT,
    asserts="usage has integer prompt_tokens >= 1 and total_tokens >= prompt_tokens",
    source="OpenAI API reference: CreateEmbeddingResponse.usage",
    capability="embedding",
)
async def check_embeddings_response_usage(ctx: CheckContext) -> None:
    exchange = await _float_single(ctx)
    usage = ok_json(exchange, "embeddings request").get("usage")
    if not isinstance(usage, dict):
        raise CheckFailed(f"`usage` must be an object, got {usage!r}", exchange)
    prompt, total = usage.get("prompt_tokens"), usage.get("total_tokens")
    if not isinstance(prompt, int) or isinstance(prompt, bool) or prompt < 1:
        raise CheckFailed(f"usage.prompt_tokens must be an integer >= 1, got {prompt!r}", exchange)
    if not isinstance(total, int) or isinstance(total, bool) or total < prompt:
        raise CheckFailed(
            f"usage.total_tokens must be an integer >= prompt_tokens ({prompt}), got {total!r}",
            exchange,
        )


@check(
    "embeddings.base64.decodes",
    area="embeddings",
    level="smoke",
    endpoint=_ENDPOINT,
    asserts="encoding_format base64 answers base64 strings that decode as little-endian "
    "float32 to the same vector as the float request",
    source="official SDK behaviour: openai-python sends encoding_format=base64 by default and "
    "decodes little-endian float32",
    capability="embedding",
)
async def check_embeddings_base64_decodes(ctx: CheckContext) -> None:
    floats = [await _float_vector(ctx)]
    exchange = await _embed(ctx, "embeddings.base64", input=_TEXT, encoding_format="base64")
    decoded = _vectors(ok_json(exchange, "base64 request"), exchange, encoded=True)
    if len(decoded[0]) != len(floats[0]):
        raise CheckFailed(
            f"the base64 vector has {len(decoded[0])} float32 values, the float one "
            f"{len(floats[0])} (wrong byte order or width?)",
            exchange,
        )
    similarity = _cosine(decoded[0], floats[0])
    if similarity < _SAME:
        raise CheckFailed(
            f"the decoded base64 vector differs from the float vector "
            f"(cosine similarity {similarity:.4f}; expected little-endian float32)",
            exchange,
        )


@check(
    "embeddings.dimensions.honoured",
    area="embeddings",
    level="standard",
    endpoint=_ENDPOINT,
    asserts=f"dimensions={_DIMENSIONS} gives vectors of that length, or a 400 error object; "
    "never silently full-length vectors",
    source="OpenAI API reference: CreateEmbeddingRequest.dimensions",
    capability="embedding",
)
async def check_embeddings_dimensions_honoured(ctx: CheckContext) -> None:
    exchange = await _embed(
        ctx, "embeddings.dimensions", input=_TEXT, encoding_format="float", dimensions=_DIMENSIONS
    )
    if exchange.status is not None and 400 <= exchange.status < 500:
        problem = refusal_problem(exchange)
        if problem is not None:
            raise CheckFailed(f"dimensions refused, but not cleanly: {problem}", exchange)
        if exchange.status != 400:
            raise CheckFailed(
                f"dimensions refused with status {exchange.status}; OpenAI answers 400", exchange
            )
        return
    vectors = _vectors(ok_json(exchange, "dimensions request"), exchange, encoded=False)
    if len(vectors[0]) != _DIMENSIONS:
        raise CheckFailed(
            f"dimensions={_DIMENSIONS} was asked, the vector has {len(vectors[0])} values",
            exchange,
        )


@check(
    "embeddings.batch.order",
    area="embeddings",
    level="standard",
    endpoint=_ENDPOINT,
    asserts="a batch of n inputs gives n vectors with index 0..n-1 in input order, each "
    "vector matching its own input",
    source="OpenAI API reference: CreateEmbeddingRequest.input (array), Embedding.index",
    capability="embedding",
)
async def check_embeddings_batch_order(ctx: CheckContext) -> None:
    single = await _float_vector(ctx)
    exchange = await _embed(ctx, "embeddings.batch", input=_BATCH, encoding_format="float")
    body = ok_json(exchange, "batch request")
    vectors = _vectors(body, exchange, encoded=False)
    if len(vectors) != len(_BATCH):
        raise CheckFailed(f"{len(_BATCH)} inputs gave {len(vectors)} embeddings", evidence=exchange)
    indices = [item.get("index") for item in body["data"]]
    if indices != list(range(len(_BATCH))):
        raise CheckFailed(
            f"indices must be {list(range(len(_BATCH)))} in order, got {indices!r}", exchange
        )
    nearest = max(range(len(vectors)), key=lambda i: _cosine(vectors[i], single))
    if nearest != len(_BATCH) - 1:
        raise CheckFailed(
            f"the embedding of input {len(_BATCH) - 1} sits at data[{nearest}]: "
            "vectors are not in input order",
            exchange,
        )


@check(
    "embeddings.input.token_arrays",
    area="embeddings",
    level="standard",
    endpoint=_ENDPOINT,
    asserts="token-array and array-of-token-arrays input give one vector per input, or a 400 "
    "error object; never 422 or 5xx",
    source="OpenAI API reference: CreateEmbeddingRequest.input (array of integers, array of "
    "arrays of integers)",
    capability="embedding",
)
async def check_embeddings_input_token_arrays(ctx: CheckContext) -> None:
    for tokens, expected in (([1820, 374, 264], 1), ([[1820, 374], [264, 1296, 13]], 2)):
        exchange = await ctx.client.request(
            "POST",
            "/embeddings",
            json={"model": ctx.model("embedding"), "input": tokens, "encoding_format": "float"},
        )
        if exchange.status == 200:
            vectors = _vectors(ok_json(exchange, "token input"), exchange, encoded=False)
            if len(vectors) != expected:
                raise CheckFailed(
                    f"input {tokens!r} gave {len(vectors)} embeddings, expected {expected}",
                    exchange,
                )
            continue
        problem = refusal_problem(exchange)
        if problem is not None or exchange.status != 400:
            raise CheckFailed(
                f"input {tokens!r} must be embedded or refused with 400: "
                f"{problem or f'status {exchange.status}'}",
                exchange,
            )


@check(
    "embeddings.determinism.same_vector",
    area="embeddings",
    level="standard",
    endpoint=_ENDPOINT,
    asserts="the same input embedded twice gives the same vector (cosine similarity >= 0.999)",
    source="OpenAI embeddings guide: embeddings are a function of the input text",
    capability="embedding",
)
async def check_embeddings_determinism_same_vector(ctx: CheckContext) -> None:
    first = await _float_vector(ctx)
    exchange = await _embed(ctx, "embeddings.float.again", input=_TEXT, encoding_format="float")
    second = _vectors(ok_json(exchange, "repeat request"), exchange, encoded=False)[0]
    similarity = _cosine(first, second)
    if similarity < _SAME:
        raise CheckFailed(
            f"the same input gave different vectors (cosine similarity {similarity:.4f})",
            exchange,
        )


@check(
    "embeddings.input.empty_refused",
    area="embeddings",
    level="deep",
    endpoint=_ENDPOINT,
    asserts="an empty string input is refused with a 400 error object",
    source="official SDK docstring (resources/embeddings.py): the input must not be an empty "
    "string",
    capability="embedding",
)
async def check_embeddings_input_empty_refused(ctx: CheckContext) -> None:
    exchange = await ctx.client.request(
        "POST", "/embeddings", json={"model": ctx.model("embedding"), "input": ""}
    )
    problem = refusal_problem(exchange)
    if problem is not None or exchange.status != 400:
        raise CheckFailed(
            f"empty input must be refused with 400: {problem or f'status {exchange.status}'}",
            exchange,
        )
