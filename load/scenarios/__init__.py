"""The catalogue of load scenarios: what each one sends, in what mix, and what it needs.

A :class:`Scenario` is data: a weighted mix of request kinds, a length profile, and whether it
needs the gateway's admin API (budget, rate-limit), a sweep, a baseline model (fallback) or a
direct URL (overhead). :class:`RequestPlan` picks the next request of a run;
:mod:`load.scenarios.payloads` builds its body. ``mixed`` is weighted over what the target's
catalog offers (:func:`mixed_weights`; the command reads the catalog and passes the mix).

Must not: perform I/O or import locust (the command line imports it to validate ``--scenario``).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from load.errors import ScenarioError
from load.scenarios.payloads import Outgoing, Sizes, build_request

__all__ = [
    "KINDS",
    "MIXED_WEIGHTS",
    "SCENARIOS",
    "RequestKind",
    "RequestPlan",
    "Scenario",
    "get_scenario",
    "mixed_weights",
]

RequestKind = Literal[
    "chat-stream",
    "chat",
    "embeddings",
    "responses-stream",
    "images",
    "speech",
    "transcriptions",
    "realtime",
]
KINDS: tuple[RequestKind, ...] = (
    "chat-stream",
    "chat",
    "embeddings",
    "responses-stream",
    "images",
    "speech",
    "transcriptions",
    "realtime",
)
# ``mixed``: the weight of each kind the catalog offers (renormalized over those offered). Text
# dominates real gateway traffic; media and realtime are a few percent each.
MIXED_WEIGHTS: dict[RequestKind, float] = {
    "chat-stream": 0.45,
    "chat": 0.15,
    "embeddings": 0.1,
    "responses-stream": 0.1,
    "images": 0.05,
    "speech": 0.05,
    "transcriptions": 0.05,
    "realtime": 0.05,
}
# Without a catalog, ``mixed`` keeps to what every OpenAI-compatible chat target serves.
_TEXT_ONLY: tuple[RequestKind, ...] = ("chat-stream", "chat", "embeddings")


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    description: str
    mix: tuple[tuple[RequestKind, float], ...]
    lengths: Literal["fixed", "realistic"] = "fixed"
    needs_admin: bool = False
    sweep: bool = False
    # The fallback scenario alternates the model under test with a healthy baseline model.
    baseline: bool = False
    # The overhead scenario sends each request through the gateway or straight to the upstream.
    overhead: bool = False


def _single(name: str, description: str, kind: RequestKind) -> Scenario:
    return Scenario(name, description, ((kind, 1.0),))


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        _single("chat-stream", "streamed chat completions (TTFT, ITL, TPOT)", "chat-stream"),
        _single("chat", "non-streamed chat completions", "chat"),
        _single("embeddings", "embeddings requests", "embeddings"),
        _single(
            "responses-stream",
            "streamed Responses (TTFT on the first response.output_text.delta, ITL between)",
            "responses-stream",
        ),
        _single("images", "image generations (--image-size)", "images"),
        _single("speech", "text to speech (--speech-chars of input)", "speech"),
        _single("transcriptions", "speech to text (--audio-seconds of WAV)", "transcriptions"),
        _single(
            "realtime",
            "Realtime WebSocket sessions: time to session.created, to the first text delta "
            "after response.create, deltas per second",
            "realtime",
        ),
        Scenario(
            "mixed",
            "every kind the target's catalog offers, text-weighted; log-normal lengths",
            tuple((k, MIXED_WEIGHTS[k]) for k in _TEXT_ONLY),
            lengths="realistic",
        ),
        Scenario(
            "sweep",
            "streamed chat at concurrency (or --rate) steps: the throughput/latency curve",
            (("chat-stream", 1),),
            sweep=True,
        ),
        Scenario(
            "budget",
            "keys with small budgets hammered concurrently: spend must never pass the budget",
            (("chat-stream", 1),),
            needs_admin=True,
        ),
        Scenario(
            "rate-limit",
            "a key with an RPM limit driven above it: accepted rate vs configured",
            (("chat", 1),),
            needs_admin=True,
        ),
        Scenario(
            "fallback",
            "a model whose primary deployment fails, beside a healthy baseline model",
            (("chat-stream", 1),),
            baseline=True,
        ),
        Scenario(
            "overhead",
            "the same streams through the gateway and straight to --direct-url, interleaved: "
            "the latency the gateway adds, beside the harness's own A/A floor",
            (("chat-stream", 1),),
            overhead=True,
        ),
    )
}


def get_scenario(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        raise ScenarioError(
            f"unknown scenario {name!r}; valid scenarios: {', '.join(SCENARIOS)}"
        ) from None


def mixed_weights(offered: Mapping[str, str] | None) -> tuple[tuple[RequestKind, float], ...]:
    """The ``mixed`` mix over the kinds ``offered`` (kind -> model); None: no catalog was read."""
    kinds = [k for k in KINDS if k in offered] if offered is not None else list(_TEXT_ONLY)
    total = sum(MIXED_WEIGHTS[k] for k in kinds)
    if not kinds or total <= 0:
        raise ScenarioError(
            "the mixed scenario found no endpoint to load in the target's catalog; "
            "pick a single-endpoint scenario with --scenario"
        )
    return tuple((k, round(MIXED_WEIGHTS[k] / total, 6)) for k in kinds)


@dataclass(frozen=True, slots=True)
class RequestPlan:
    """How to build requests for a run: the mix, the model of each kind, and payload sizes."""

    scenario: Scenario
    models: tuple[str, ...]
    sizes: Sizes
    # Model per request kind (embeddings, images, ...); chat kinds use ``models``.
    kind_models: Mapping[str, str] = field(default_factory=dict)
    baseline_model: str | None = None
    mix: tuple[tuple[RequestKind, float], ...] = ()

    def choose(
        self, rng: random.Random, *, model: str | None = None
    ) -> tuple[RequestKind, str, Outgoing]:
        """Pick the next request: ``(kind, model, outgoing)``; ``model`` overrides the plan's
        (the overhead scenario's upstream knows the model by another name)."""
        mix = self.mix or self.scenario.mix
        kinds = [k for k, _ in mix]
        kind = rng.choices(kinds, [w for _, w in mix])[0] if len(kinds) > 1 else kinds[0]
        model = model or self.kind_models.get(kind)
        if model is None:
            if self.scenario.baseline and self.baseline_model and rng.random() < 0.5:
                model = self.baseline_model
            else:
                model = self.models[0] if len(self.models) == 1 else rng.choice(self.models)
        return kind, model, build_request(kind, model, rng, self.sizes)
