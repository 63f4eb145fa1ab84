"""The pure fallback rules: which deployment next, which failures move on, what the client hears."""

from __future__ import annotations

import pytest

from reference_server.config import Deployment
from reference_server.gateway import fallback
from reference_server.gateway.circuit import CircuitBreakers
from reference_server.providers.base import ProviderError


def _deployment(name: str) -> Deployment:
    return Deployment(name, "p", "m", 1.0, 2.0)


@pytest.mark.parametrize(
    ("error", "moves_on"),
    [
        (ProviderError("connect", "reset"), True),
        (ProviderError("timeout", "slow", status=504), True),
        (ProviderError("protocol", "garbled"), True),
        (ProviderError("status", "down", status=500), True),
        (ProviderError("status", "busy", status=429), True),
        (ProviderError("status", "bad request", status=400), False),
        (ProviderError("status", "no such model", status=404), False),
    ],
    ids=["connect", "timeout", "protocol", "5xx", "429", "400", "404"],
)
def test_fallback_moves_on_for_upstream_trouble_not_for_the_requests_own_fault(
    error: ProviderError, moves_on: bool
) -> None:
    assert fallback.retryable(error) is moves_on


def test_fallback_candidates_ask_the_circuit_only_for_deployments_really_tried() -> None:
    breakers = CircuitBreakers(failure_threshold=1, cooldown_s=0.0)
    breakers.record_failure("a")  # open, cool-down over: half-open, one probe to give
    asked: list[str] = []

    def allow(name: str) -> bool:
        asked.append(name)
        return breakers.allow(name)

    offered = fallback.candidates([_deployment("a"), _deployment("b")], allow)
    assert next(offered).name == "a"  # the probe
    assert asked == ["a"]
    assert [d.name for d in offered] == ["b"]
    assert not breakers.allow("a")  # the probe is taken until it gives a verdict


def test_fallback_exhausted_with_every_circuit_open_is_503_with_retry_after() -> None:
    error = fallback.exhausted("alias", None, {"x-ratelimit-limit-requests": "5"}, cooldown_s=7.5)
    assert (error.status, error.code, error.type) == (503, "model_unavailable", "server_error")
    assert error.headers == {"x-ratelimit-limit-requests": "5", "retry-after": "7"}


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (ProviderError("status", "busy", status=429), 429, "rate_limit_exceeded"),
        (ProviderError("timeout", "slow", status=504), 504, "upstream_timeout"),
        (ProviderError("connect", "reset"), 502, "upstream_error"),
        (
            ProviderError("status", "bad", status=400, code="invalid_value", param="n"),
            400,
            "invalid_value",
        ),
    ],
    ids=["429", "timeout", "connect", "4xx-as-is"],
)
def test_fallback_exhausted_answers_the_last_failure(
    error: ProviderError, status: int, code: str
) -> None:
    answer = fallback.exhausted("alias", error, {}, cooldown_s=10)
    assert (answer.status, answer.code) == (status, code)
    if status == 429:
        assert answer.headers["retry-after"] == "1"  # an upstream 429 without one still gets it
    if status == 400:
        assert answer.param == "n"
