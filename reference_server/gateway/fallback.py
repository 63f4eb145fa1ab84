"""Fallback rules: which deployment to try next, which failures move on, what the client hears.

An alias lists its deployments in fallback order. A call goes to the first whose circuit lets
it through (:func:`candidates`); a connect error, a timeout, a broken protocol, a 5xx or an
upstream 429 moves on to the next one (:func:`retryable`), always *before the first byte
reaches the client*, never after (no splicing of two upstreams into one answer). An upstream
4xx other than 429 is the request's own fault: it is answered as is (:func:`upstream_failure`).
When every deployment failed the client gets the last failure, 429 with ``Retry-After``, 504
for a timeout, 503 with ``Retry-After`` for an overloaded upstream (a 503, or Anthropic's 529 as
the ``anthropic`` provider reports it), 502 otherwise; 503 ``model_unavailable`` when every circuit was open
(:func:`exhausted`). The one loop that applies these rules is ``flow.Gateway``'s, for whole
answers and streams alike.

Must not: do I/O, call providers, or touch the controls.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping

from reference_server.config import Deployment
from reference_server.errors import GatewayError
from reference_server.providers.base import ProviderError

__all__ = ["candidates", "exhausted", "retryable", "upstream_failure"]


def candidates(
    deployments: Iterable[Deployment], allow: Callable[[str], bool]
) -> Iterator[Deployment]:
    """The deployments in fallback order whose circuit lets a call through now.

    ``allow`` (``CircuitBreakers.allow``) is asked lazily, one deployment at a time: a half-open
    circuit hands its one probe only to a deployment that is really called.
    """
    for deployment in deployments:
        if allow(deployment.name):
            yield deployment


def retryable(error: ProviderError) -> bool:
    """Worth trying the next deployment: connect errors, timeouts, a broken protocol, 5xx and
    upstream 429 (another deployment may have capacity); other 4xx would fail there too."""
    if error.kind in ("connect", "timeout", "protocol"):
        return True
    return error.status == 429 or error.status >= 500


def upstream_failure(error: ProviderError, headers: Mapping[str, str]) -> GatewayError:
    """What the client hears for ``error`` (with the admission's ``headers``)."""
    merged = dict(headers)
    if error.kind == "status" and error.status == 429:
        # OpenAI's 429s carry Retry-After; an upstream that sent none still gets one.
        merged["retry-after"] = error.retry_after or "1"
        return GatewayError(
            429,
            error.message,
            type=error.error_type or "requests",
            code=error.code or "rate_limit_exceeded",
            headers=merged,
        )
    if error.kind == "status" and 400 <= error.status < 500:
        return GatewayError(
            error.status,
            error.message,
            type=error.error_type,
            code=error.code,
            param=error.param,
            headers=merged,
        )
    if error.kind == "status" and error.status == 503:
        # OpenAI's own overload answer ("Error codes": 503, "The engine is currently
        # overloaded, please try again later"): the client's SDK retries it after a while.
        merged["retry-after"] = error.retry_after or "1"
        return GatewayError(
            503,
            f"The upstream is overloaded: {error.message}",
            type="server_error",
            code="upstream_overloaded",
            headers=merged,
        )
    if error.kind == "timeout":
        return GatewayError(
            504,
            f"The upstream timed out: {error.message}",
            type="server_error",
            code="upstream_timeout",
            headers=merged,
        )
    return GatewayError(
        502,
        f"The upstream failed: {error.message}",
        type="server_error",
        code="upstream_error",
        headers=merged,
    )


def exhausted(
    model: str, last: ProviderError | None, headers: Mapping[str, str], cooldown_s: float
) -> GatewayError:
    """Every deployment of ``model`` was tried (``last`` failed) or had its circuit open."""
    if last is not None:
        return upstream_failure(last, headers)
    return GatewayError(
        503,
        f"No deployment of {model!r} is available right now (circuits open); retry later.",
        type="server_error",
        code="model_unavailable",
        headers={**headers, "retry-after": str(max(1, int(cooldown_s)))},
    )
