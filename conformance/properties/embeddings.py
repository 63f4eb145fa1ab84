"""Embeddings properties (area ``properties``, level ``deep``): count and order, dimensions,
base64 against float, and the same input giving the same vector.

Vectors are compared by cosine similarity >= 0.999, not bit for bit: OpenAI's embeddings are
not bit-identical between calls (its embeddings FAQ notes small variations), and float
formatting round-trips through decimal text; any other vector is far below 0.999.

Must not: compare vectors of different models, or judge a model that refuses ``dimensions``
(only ``text-embedding-3`` and later accept it: a refusal is a warning).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hypothesis import strategies as st

from conformance.properties.answers import cosine, json_of, vector_of
from conformance.properties.harness import hold
from conformance.properties.strategies import embedding_texts
from conformance.registry import CheckFailed, check

if TYPE_CHECKING:
    from conformance.context import CheckContext
    from conformance.exchange import Exchange

__all__: list[str] = []

_PATH = "/embeddings"
_SAME = 0.999
_SOURCE = "OpenAI API reference, Embeddings: Create embeddings and The embedding object"


async def _embed(ctx: CheckContext, **body: Any) -> tuple[list[list[float]], Exchange]:
    exchange = await ctx.client.request(
        "POST", _PATH, json={"model": ctx.model("embedding"), **body}
    )
    answer = json_of(exchange, "embeddings")
    data = answer.get("data")
    if not isinstance(data, list):
        raise CheckFailed(f"data is {str(data)[:80]!r}, not a list", evidence=exchange)
    return [vector_of(item, exchange) for item in data], exchange


def _same(a: list[float], b: list[float], what: str, exchange: Exchange) -> None:
    if len(a) != len(b):
        raise CheckFailed(f"{what}: vectors of {len(a)} and {len(b)} numbers", evidence=exchange)
    similarity = cosine(a, b)
    if similarity < _SAME:
        raise CheckFailed(
            f"{what}: cosine similarity {similarity:.4f} < {_SAME}", evidence=exchange
        )


@check(
    "properties.embeddings.count_and_order",
    area="properties",
    level="deep",
    endpoint="POST /v1/embeddings",
    asserts="A list of inputs answers one embedding per input, index i for input i, and the "
    "vector at index i is the vector of input i alone.",
    source=f"{_SOURCE} (index: 'the index of the embedding in the list of embeddings')",
    capability="embedding",
)
async def check_count_and_order(ctx: CheckContext) -> None:
    async def prop(inputs: list[str]) -> None:
        exchange = await ctx.client.request(
            "POST", _PATH, json={"model": ctx.model("embedding"), "input": inputs}
        )
        answer = json_of(exchange, "embeddings")
        data = answer.get("data")
        if not isinstance(data, list) or len(data) != len(inputs):
            count = len(data) if isinstance(data, list) else data
            raise CheckFailed(f"{len(inputs)} inputs answered {count!r} embeddings", exchange)
        indices = [item.get("index") if isinstance(item, dict) else None for item in data]
        if indices != list(range(len(inputs))):
            raise CheckFailed(f"indices {indices}, expected 0..{len(inputs) - 1}", exchange)
        alone, single = await _embed(ctx, input=inputs[-1])
        _same(vector_of(data[-1], exchange), alone[0], f"input {len(inputs) - 1} vs alone", single)

    await hold(ctx, st.lists(embedding_texts(), min_size=2, max_size=4), prop)


@check(
    "properties.embeddings.dimensions",
    area="properties",
    level="deep",
    endpoint="POST /v1/embeddings",
    asserts="With dimensions set, every embedding has exactly that many numbers.",
    source=f"{_SOURCE} (dimensions: 'the number of dimensions the resulting output embeddings "
    "should have')",
    capability="embedding",
)
async def check_dimensions(ctx: CheckContext) -> None:
    async def prop(request: tuple[str, int]) -> None:
        text, dimensions = request
        vectors, exchange = await _embed(ctx, input=text, dimensions=dimensions)
        sizes = sorted({len(v) for v in vectors})
        if sizes != [dimensions]:
            raise CheckFailed(f"dimensions={dimensions} answered lengths {sizes}", exchange)

    await hold(ctx, st.tuples(embedding_texts(), st.integers(1, 256)), prop)


@check(
    "properties.embeddings.base64_matches_float",
    area="properties",
    level="deep",
    endpoint="POST /v1/embeddings",
    asserts="encoding_format base64 decodes (little-endian float32) to the float-format vector "
    "of the same input.",
    source=f"{_SOURCE} (encoding_format float or base64); openai-python decodes base64 with "
    "numpy.frombuffer(dtype='float32')",
    capability="embedding",
)
async def check_base64_matches_float(ctx: CheckContext) -> None:
    async def prop(text: str) -> None:
        floats, _ = await _embed(ctx, input=text, encoding_format="float")
        packed, exchange = await _embed(ctx, input=text, encoding_format="base64")
        _same(floats[0], packed[0], "base64 vs float", exchange)

    await hold(ctx, embedding_texts(), prop)


@check(
    "properties.embeddings.deterministic",
    area="properties",
    level="deep",
    endpoint="POST /v1/embeddings",
    asserts="The same input embedded twice gives the same vector (cosine >= 0.999).",
    source=f"{_SOURCE}; embeddings are a function of the input text (Embeddings guide)",
    capability="embedding",
)
async def check_deterministic(ctx: CheckContext) -> None:
    async def prop(text: str) -> None:
        first, _ = await _embed(ctx, input=text)
        second, exchange = await _embed(ctx, input=text)
        _same(first[0], second[0], "same input twice", exchange)

    await hold(ctx, embedding_texts(), prop)
