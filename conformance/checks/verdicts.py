"""Shared judgements for the checks: a successful JSON answer, a clean refusal, and the
verdict on a refused documented feature.

OpenAI answers a request it cannot serve with a 4xx status and the error object
``{"error": {"message": ..., "type": ..., "param": ..., "code": ...}}`` (the spec's
``ErrorResponse``). The field-by-field rules of that object belong to the ``errors`` area;
here a refusal only has to be a 4xx JSON body with an ``error`` mapping carrying a message,
which is what the official SDK needs to raise a readable ``APIStatusError``.

Refusing a feature OpenAI documents (a speech format, ``n``, a video's content) breaks the
clients of OpenAI's API, so it is ``failed``; a profile that declares the feature unsupported
(``Profile.unsupported``) turns it into ``skipped``, citing that declaration.

Must not: send requests (checks do), or register checks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

from conformance.registry import CheckFailed, CheckSkipped

if TYPE_CHECKING:
    from conformance.context import CheckContext
    from conformance.exchange import Exchange

__all__ = [
    "excerpt",
    "ok_json",
    "refusal_problem",
    "refused_documented",
    "require_ok",
    "require_refusal",
]


def excerpt(exchange: Exchange, limit: int = 200) -> str:
    """The start of the body, for messages (``repr`` so control bytes stay visible)."""
    return repr(exchange.body[:limit].decode("utf-8", errors="replace"))


def require_ok(exchange: Exchange, what: str) -> None:
    """Fail unless the exchange got a 200 answer."""
    if exchange.status is None:
        raise CheckFailed(f"{what}: no response ({exchange.error})", evidence=exchange)
    if exchange.status != 200:
        raise CheckFailed(
            f"{what}: expected status 200, got {exchange.status}: {excerpt(exchange)}",
            evidence=exchange,
        )


def ok_json(exchange: Exchange, what: str) -> dict[str, Any]:
    """The JSON object of a 200 answer; fails on any other status or a non-object body."""
    require_ok(exchange, what)
    try:
        body = exchange.json()
    except ValueError as exc:
        raise CheckFailed(f"{what}: {exc}", evidence=exchange) from None
    if not isinstance(body, dict):
        raise CheckFailed(
            f"{what}: expected a JSON object, got {type(body).__name__}", evidence=exchange
        )
    return body


def refusal_problem(exchange: Exchange) -> str | None:
    """Why the exchange is not a clean refusal (4xx plus an error object), or None."""
    if exchange.status is None:
        return f"no response ({exchange.error})"
    if not 400 <= exchange.status < 500:
        return f"expected a 4xx refusal, got status {exchange.status}: {excerpt(exchange)}"
    try:
        body = exchange.json()
    except ValueError:
        return f"status {exchange.status} without a JSON error object: {excerpt(exchange)}"
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or not isinstance(error.get("message"), str):
        return (
            f"status {exchange.status} but the body is not an error object "
            f"{{'error': {{'message': ...}}}}: {excerpt(exchange)}"
        )
    return None


def require_refusal(
    exchange: Exchange, what: str, *, statuses: tuple[int, ...] = (400,)
) -> dict[str, Any]:
    """Fail unless the exchange is a refusal with one of ``statuses``; returns ``error``."""
    problem = refusal_problem(exchange)
    if problem is not None:
        raise CheckFailed(f"{what}: {problem}", evidence=exchange)
    if exchange.status not in statuses:
        raise CheckFailed(
            f"{what}: expected status {' or '.join(map(str, statuses))}, got {exchange.status}",
            evidence=exchange,
        )
    error: dict[str, Any] = exchange.json()["error"]
    return error


def refused_documented(ctx: CheckContext, feature: str, exchange: Exchange, what: str) -> NoReturn:
    """``what`` (a documented feature named ``feature`` in ``Profile.unsupported``'s vocabulary)
    was refused: skipped if the run's profile declares it unsupported, failed otherwise."""
    profile = ctx.target.profile
    if feature in profile.unsupported:
        raise CheckSkipped(
            f"{what} was refused ({exchange.status}) and profile {profile.name!r} declares it "
            f"unsupported (unsupported: [{feature}])"
        )
    raise CheckFailed(
        f"{what} was refused ({exchange.status}: {excerpt(exchange, 120)}); OpenAI documents "
        f"it, so its clients break (a profile may declare {feature!r} unsupported)",
        exchange,
    )
