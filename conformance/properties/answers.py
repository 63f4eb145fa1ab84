"""Reading a target's answer inside a property: the JSON of a 200, or the outcome to raise.

A property judges what a correct target does with a valid request; when the target refuses
the request instead, the property cannot be judged and says so as a warning (the request
shape is legal per OpenAI's API reference, but a model may not support every parameter;
the parameter checks judge refusals).

Must not: send requests.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from conformance.registry import CheckFailed, CheckWarning

if TYPE_CHECKING:
    from conformance.exchange import Exchange

__all__ = ["cosine", "json_of", "vector_of"]


def json_of(exchange: Exchange, what: str) -> dict[str, Any]:
    """The JSON object of a 200 answer; a warning for a 4xx, a failure for anything else."""
    excerpt = exchange.body[:200].decode("utf-8", errors="replace")
    if exchange.status is None:
        raise CheckFailed(f"{what}: no answer ({exchange.error})", evidence=exchange)
    if 400 <= exchange.status < 500:
        raise CheckWarning(
            f"{what}: the target refused a valid request with {exchange.status}: {excerpt!r}",
            evidence=exchange,
        )
    if exchange.status != 200:
        raise CheckFailed(f"{what}: status {exchange.status}: {excerpt!r}", evidence=exchange)
    try:
        body = exchange.json()
    except ValueError as exc:
        raise CheckFailed(f"{what}: {exc}", evidence=exchange) from None
    if not isinstance(body, dict):
        raise CheckFailed(f"{what}: the body is not a JSON object: {excerpt!r}", evidence=exchange)
    return body


def vector_of(item: Any, exchange: Exchange) -> list[float]:
    """``Embedding.embedding`` as floats: a float array, or base64 of little-endian float32
    (openai-python decodes ``encoding_format="base64"`` with ``np.frombuffer(..., "float32")``).
    """
    import base64
    import struct

    value = item.get("embedding") if isinstance(item, dict) else None
    if isinstance(value, list) and all(
        isinstance(x, int | float) and not isinstance(x, bool) for x in value
    ):
        return [float(x) for x in value]
    if isinstance(value, str):
        try:
            raw = base64.b64decode(value, validate=True)
        except ValueError:
            raise CheckFailed(
                f"embedding is not base64: {value[:60]!r}", evidence=exchange
            ) from None
        if len(raw) % 4:
            raise CheckFailed(
                f"base64 embedding of {len(raw)} bytes is not a float32 array", evidence=exchange
            )
        return list(struct.unpack(f"<{len(raw) // 4}f", raw))
    raise CheckFailed(f"embedding is {str(value)[:80]!r}, not numbers or base64", evidence=exchange)


def cosine(a: list[float], b: list[float]) -> float:
    """Cosine similarity (1.0 for the same direction); 0.0 when either vector is zero."""
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0
