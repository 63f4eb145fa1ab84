"""The catalogue of load scenarios: what each one sends, in what mix, and what it needs.

A :class:`Scenario` is data: a weighted mix of request kinds, a length profile, and whether it
needs the gateway's admin API (budget, rate-limit) or a sweep. :func:`build_request` turns a kind
into the JSON body of an OpenAI request (chat completions, embeddings; OpenAI API reference,
``POST /v1/chat/completions`` and ``POST /v1/embeddings``).

Must not: perform I/O or import locust (the command line imports it to validate ``--scenario``).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any, Literal

from load.errors import ScenarioError

__all__ = [
    "SCENARIOS",
    "RequestKind",
    "RequestPlan",
    "Scenario",
    "build_request",
    "get_scenario",
]

RequestKind = Literal["chat-stream", "chat", "embeddings"]
Lengths = Literal["fixed", "realistic"]


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    description: str
    mix: tuple[tuple[RequestKind, float], ...]
    lengths: Lengths = "fixed"
    needs_admin: bool = False
    sweep: bool = False
    # The fallback scenario alternates the model under test with a healthy baseline model.
    baseline: bool = False


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "chat-stream", "streamed chat completions (TTFT, ITL, TPOT)", (("chat-stream", 1),)
        ),
        Scenario("chat", "non-streamed chat completions", (("chat", 1),)),
        Scenario("embeddings", "embeddings requests", (("embeddings", 1),)),
        Scenario(
            "mixed",
            "60% streamed chat, 25% chat, 15% embeddings; log-normal prompt and output lengths",
            (("chat-stream", 0.6), ("chat", 0.25), ("embeddings", 0.15)),
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
    )
}


def get_scenario(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        raise ScenarioError(
            f"unknown scenario {name!r}; valid scenarios: {', '.join(SCENARIOS)}"
        ) from None


@dataclass(frozen=True, slots=True)
class RequestPlan:
    """How to build requests for a run: models and the output-length target."""

    scenario: Scenario
    models: tuple[str, ...]
    embedding_model: str
    max_tokens: int
    baseline_model: str | None = None

    def choose(self, rng: random.Random) -> tuple[RequestKind, str, str, dict[str, Any]]:
        """Pick the next request: ``(kind, model, path, body)``."""
        kinds = [k for k, _ in self.scenario.mix]
        weights = [w for _, w in self.scenario.mix]
        kind = rng.choices(kinds, weights)[0] if len(kinds) > 1 else kinds[0]
        if kind == "embeddings":
            model = self.embedding_model
        elif self.scenario.baseline and self.baseline_model and rng.random() < 0.5:
            model = self.baseline_model
        else:
            model = self.models[0] if len(self.models) == 1 else rng.choice(self.models)
        path, body = build_request(kind, model, rng, self.max_tokens, self.scenario.lengths)
        return kind, model, path, body


_WORDS = [
    "gateway",
    "latency",
    "budget",
    "token",
    "stream",
    "model",
    "request",
    "response",
    "deploy",
    "region",
    "cache",
    "quota",
    "metric",
    "window",
    "replica",
    "shard",
    "vector",
    "prompt",
    "answer",
    "system",
    "user",
    "tool",
    "schema",
    "json",
    "event",
]


def _lognormal_int(rng: random.Random, median: float, sigma: float, low: int, high: int) -> int:
    return max(low, min(high, round(rng.lognormvariate(math.log(median), sigma))))


def _prompt(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(words))


def build_request(
    kind: RequestKind, model: str, rng: random.Random, max_tokens: int, lengths: Lengths
) -> tuple[str, dict[str, Any]]:
    """The path (relative to the base URL) and JSON body for one request."""
    if lengths == "realistic":
        # Log-normal lengths: chat prompts and outputs are right-skewed (ShareGPT-like shape).
        prompt_words = _lognormal_int(rng, 120, 0.8, 4, 2000)
        output = _lognormal_int(rng, max(1, max_tokens / 2), 0.6, 1, max(1, 4 * max_tokens))
    else:
        prompt_words, output = 24, max_tokens
    if kind == "embeddings":
        return "/embeddings", {"model": model, "input": _prompt(rng, prompt_words)}
    body: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "user", "content": _prompt(rng, prompt_words)}],
        "max_tokens": output,
    }
    if kind == "chat-stream":
        body["stream"] = True
        # Token truth from the server: usage arrives in a final chunk with choices: [].
        body["stream_options"] = {"include_usage": True}
    return "/chat/completions", body
