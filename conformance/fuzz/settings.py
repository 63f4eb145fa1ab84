"""How far a fuzz run may go: request, time and example budgets, and which phases run.

A real gateway bills every generated case, so every bound here is explicit and small by
default: a request budget enforced before each call, a wall-clock budget, a per-operation
example cap (smaller still for costly operations), and a token cap forced into every generated
chat request, so a fuzz run against a paid target costs a bounded, small amount.

Must not: touch the network or the environment (the command line reads options and builds a
:class:`FuzzSettings`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, get_args

__all__ = [
    "BUILTIN_CHECKS",
    "PHASES",
    "FuzzSettings",
    "Phase",
    "schemathesis_config",
]

Phase = Literal["examples", "coverage", "fuzzing", "stateful"]
PHASES: tuple[Phase, ...] = get_args(Phase)

# The schemathesis built-in checks this layer runs (schemathesis docs, "Checks reference").
# Every other built-in check is switched off: `unsupported_method`, `ignored_auth` and the
# like judge REST conventions OpenAI's API does not promise.
BUILTIN_CHECKS: tuple[str, ...] = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "positive_data_acceptance",
)

# Operations that cost far more than a chat call with a few tokens get a handful of examples.
_COSTLY: Mapping[str, int] = MappingProxyType(
    {
        "createImage": 2,
        "createImageEdit": 2,
        "createImageVariation": 2,
        "createSpeech": 3,
        "createTranscription": 3,
        "createTranslation": 3,
        "createVideo": 1,
    }
)


@dataclass(frozen=True, slots=True)
class FuzzSettings:
    """Bounds of one fuzz run.

    ``max_requests`` caps the requests schemathesis sends (the run stops before the next one);
    ``max_time`` caps the run in seconds; ``max_examples`` is schemathesis' per-operation,
    per-phase example count, and ``per_operation`` lowers it for named operation ids.
    ``max_tokens`` is forced into every generated chat request (and caps ``n`` choices at
    ``max_choices``) so a generated case never asks a paid model for a long answer.
    ``operations`` limits the run to those operation ids (empty: every operation the target
    offers a model for).
    """

    max_requests: int = 400
    max_time: int = 45
    max_examples: int = 20
    per_operation: Mapping[str, int] = field(default_factory=lambda: dict(_COSTLY))
    max_tokens: int = 16
    max_choices: int = 2
    phases: tuple[Phase, ...] = PHASES
    operations: tuple[str, ...] = ()
    request_timeout: float = 30.0
    max_stream_events: int = 512
    catalog: bool = True

    def __post_init__(self) -> None:
        for name in ("max_requests", "max_time", "max_examples", "max_tokens", "max_choices"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"FuzzSettings.{name} must be an integer >= 1, got {value!r}")
        for phase in self.phases:
            if phase not in PHASES:
                raise ValueError(f"unknown fuzz phase {phase!r}; valid phases: {PHASES}")
        for operation, cap in self.per_operation.items():
            if isinstance(cap, bool) or not isinstance(cap, int) or cap < 1:
                raise ValueError(f"per-operation cap for {operation!r} must be >= 1, got {cap!r}")
        if self.request_timeout <= 0:
            raise ValueError(f"request_timeout must be > 0 seconds, got {self.request_timeout!r}")


def schemathesis_config(
    settings: FuzzSettings,
    *,
    base_url: str,
    seed: int,
    headers: Mapping[str, str],
    custom_checks: tuple[str, ...],
    fuzz_examples: int = 0,
) -> dict[str, Any]:
    """The schemathesis configuration (its ``schemathesis.toml`` shape) for one run.

    No ``max-time``: schemathesis would slice it per operation and let the target's speed
    decide how many cases run; the run's clock is kept by :mod:`conformance.fuzz.run`.
    """
    checks: dict[str, Any] = {"enabled": False}
    for name in (*BUILTIN_CHECKS, *custom_checks):
        checks[name] = {"enabled": True}
    # OpenAI answers invalid input with 400 (and 404 for an unknown model or path, 413 for an
    # oversized body); 422 is tolerated here (errors area judges it). Never 2xx or 5xx.
    checks["negative_data_rejection"] = {
        "enabled": True,
        "expected-statuses": ["400", "401", "403", "404", "409", "413", "415", "422"],
    }
    phases: dict[str, Any] = {name: {"enabled": name in settings.phases} for name in PHASES}
    # No probes with methods the spec does not declare (TRACE /chat/completions...): no OpenAI
    # client sends them and OpenAI documents no answer for them.
    phases["coverage"]["unexpected-methods"] = []
    # The fuzzing phase's share of the budget, per operation: the example count, not the
    # clock, ends it. A per-operation cap below still wins for costly operations (operation
    # settings outrank phase settings).
    phases["fuzzing"]["generation"] = {"max-examples": max(settings.max_examples, fuzz_examples)}
    operations = [
        {"include-operation-id": operation_id, "generation": {"max-examples": cap}}
        for operation_id, cap in sorted(settings.per_operation.items())
        if cap < settings.max_examples
    ]
    config: dict[str, Any] = {
        "seed": seed,
        "base-url": base_url,
        "headers": dict(headers),
        "workers": 1,
        "request-timeout": settings.request_timeout,
        "max-stream-events": settings.max_stream_events,
        "continue-on-failure": True,
        "generation": {"max-examples": settings.max_examples, "database": "none"},
        "checks": checks,
        "phases": phases,
        "cache": {"enabled": False},
    }
    if operations:
        config["operations"] = operations
    return config
