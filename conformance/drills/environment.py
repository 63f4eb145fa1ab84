"""What a running drill uses beyond the check context: the profile, the two upstreams' controls,
and helpers to send the drill's chat requests and read the truth ledgers.

The drill command sets the environment in a context variable before the run; the runner's tasks
inherit it. Drills run one at a time (they share the upstreams' fault plans).

Must not: judge (``verdicts.py``), or hold drill steps (the drill modules do).
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from conformance.context import CheckContext
from conformance.drills.profile import DrillProfile, Route
from conformance.drills.upstreams import UpstreamControl
from conformance.drills.verdicts import ClientStream, Served
from conformance.exchange import Exchange
from conformance.registry import CheckFailed, CheckSkipped
from conformance.streams import parse_chat_stream

__all__ = [
    "PROMPT",
    "DrillEnv",
    "Marks",
    "answer_text",
    "client_stream",
    "credits_in_usage",
    "current",
    "error_code",
    "header_credits",
    "is_error_object",
    "use",
]

PROMPT = "parity drill: describe a calm lake in one paragraph."

_CURRENT: contextvars.ContextVar[DrillEnv] = contextvars.ContextVar("parity_drill_env")


def use(env: DrillEnv) -> contextvars.Token[DrillEnv]:
    return _CURRENT.set(env)


def current() -> DrillEnv:
    try:
        return _CURRENT.get()
    except LookupError:
        raise CheckSkipped("drills run under `parity drill` (no drill environment)") from None


Marks = Mapping[str, int]


@dataclass(frozen=True, slots=True)
class DrillEnv:
    profile: DrillProfile
    upstreams: Mapping[str, UpstreamControl]  # by upstream name

    @property
    def primary(self) -> UpstreamControl:
        return self.upstreams[self.profile.primary.upstream]

    @property
    def fallback(self) -> UpstreamControl:
        return self.upstreams[self.profile.fallback.upstream]

    def route_of(self, upstream: str) -> Route:
        for route in (self.profile.primary, self.profile.fallback):
            if route.upstream == upstream:
                return route
        raise KeyError(f"upstream {upstream!r} is not in the profile's routes")

    async def reset(self) -> Marks:
        """Clear every fault plan and mark the ledgers: the start of a drill step."""
        marks: dict[str, int] = {}
        for name, control in self.upstreams.items():
            await control.clear()
            marks[name] = await control.mark()
        return marks

    async def warm(self, ctx: CheckContext, *, stream: bool = False) -> float:
        """Send healthy requests until the primary answers one (its breaker, if any, closed
        again after an earlier drill); returns that answer's duration."""
        circuit = self.profile.circuit
        deadline = time.monotonic() + (circuit.window_s * 1.5 if circuit else 5.0) + 1.0
        last: Exchange | None = None
        while True:
            marks = await self.reset()
            last, elapsed = await self.chat(ctx, stream=stream, timeout=30)
            mine = await self.primary.since(marks[self.primary.name])
            if last.status == 200 and any(s.completed for s in mine):
                return elapsed
            if time.monotonic() > deadline:
                raise CheckFailed(
                    f"healthy requests (no fault injected) were not answered by the primary "
                    f"upstream {self.primary.name!r} (last status {last.status!r}): the gateway "
                    "does not route this model to it first, as the profile says",
                    last,
                )
            await asyncio.sleep(0.1)

    async def served(self, marks: Marks) -> list[Served]:
        found: list[Served] = []
        for name, control in self.upstreams.items():
            found.extend(await control.since(marks.get(name, 0)))
        return sorted(found, key=lambda s: s.finished_at)

    async def chat(
        self,
        ctx: CheckContext,
        *,
        stream: bool = False,
        api_key: str | None = None,
        max_tokens: int | None = None,
        timeout: float | None = None,
    ) -> tuple[Exchange, float]:
        """One chat completion to the gateway; returns it and its wall-clock duration."""
        body: dict[str, Any] = {
            "model": self.profile.model,
            "messages": [{"role": "user", "content": PROMPT}],
        }
        if stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        if max_tokens is not None:
            body["max_tokens"] = max_tokens
        headers = {"authorization": f"Bearer {api_key}"} if api_key else None
        started = time.monotonic()
        exchange = await ctx.client.request(
            "POST", "/chat/completions", json=body, headers=headers, timeout=timeout
        )
        return exchange, time.monotonic() - started


def answer_text(exchange: Exchange) -> str | None:
    try:
        body = exchange.json()
        content = body["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    return content if isinstance(content, str) else None


def client_stream(exchange: Exchange) -> ClientStream:
    stream = parse_chat_stream(exchange)
    text = []
    for chunk in stream.chunks:
        for choice in chunk.choices:
            delta = choice.get("delta") or {}
            if choice.get("index", 0) == 0 and isinstance(delta.get("content"), str):
                text.append(delta["content"])
    return ClientStream(
        status=exchange.status,
        text="".join(text),
        done=stream.done_position is not None,
        errors=len(stream.errors),
        cut=exchange.error is not None,
        non_json=len(stream.non_json),
    )


def _decimal(value: object) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def header_credits(exchange: Exchange, header: str | None) -> Decimal | None:
    if header is None:
        return None
    return _decimal(exchange.headers.get(header))


def credits_in_usage(exchange: Exchange, field: str | None) -> Decimal | None:
    """The credits field of the stream's usage chunk (the last chunk carrying usage)."""
    if field is None:
        return None
    found: Decimal | None = None
    for chunk in parse_chat_stream(exchange).chunks:
        usage = chunk.body.get("usage")
        if isinstance(usage, dict) and field in usage:
            found = _decimal(usage[field])
    return found


def error_code(exchange: Exchange) -> str | None:
    try:
        error = exchange.json().get("error")
    except (ValueError, AttributeError):
        return None
    if not isinstance(error, dict):
        return None
    code = error.get("code") or error.get("type")
    return code if isinstance(code, str) else None


def is_error_object(exchange: Exchange) -> bool:
    try:
        error = json.loads(exchange.body).get("error")
    except (ValueError, AttributeError):
        return False
    return isinstance(error, dict) and isinstance(error.get("message"), str)
