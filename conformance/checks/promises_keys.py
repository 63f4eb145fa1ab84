"""Gateway promises judged with the keys a gateway's users hold: a spent budget, a rate limit, a
key without the consume scope.

The keys come by role from the run (``Target.roles``: ``--key ROLE=KEY``, or minted through the
profile's ``key_api`` with ``--admin-key``; ``conformance.keyring``); without one the check is
skipped saying which flag would judge it, and the run's notes repeat it. A profile's
``exhausted_key`` still stands for the ``spent`` role.

Sources: OpenAI's error codes guide (429 "You exceeded your current quota": code
``insufficient_quota``; 429 "Rate limit reached"; 403 for a key without permission), the rate
limits guide (``x-ratelimit-*`` headers; ``Retry-After`` on a 429, as the official SDK reads it
to wait), and the gateway profile (monday: "Budget and rate limits: set budgets on users and
agents", the ``ai:consume`` scope).

Must not: mint or revoke keys (the session does), or judge a promise the profile does not make.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from conformance.checks.verdicts import excerpt
from conformance.keyapi import Role
from conformance.media import wav_tone
from conformance.realtime import Step, Transcript, realtime_url, record_session
from conformance.registry import CheckFailed, CheckSkipped, check

if TYPE_CHECKING:
    from conformance.context import CheckContext
    from conformance.exchange import Exchange
    from conformance.vocabulary import Capability

__all__ = ["error_of", "role_key"]

_CHAT = "POST /chat/completions"
_SHORT = [{"role": "user", "content": "Say hi."}]
_QUOTA = "insufficient_quota"
_RATE_HEADERS = (
    "x-ratelimit-limit-requests",
    "x-ratelimit-remaining-requests",
    "x-ratelimit-reset-requests",
)
_DURATION = re.compile(r"^(\d+(\.\d+)?(ms|s|m|h))+$|^\d+(\.\d+)?$")


def role_key(ctx: CheckContext, role: Role) -> str:
    """The run's key for ``role``; skips, naming the flag that would give one, without it."""
    key = ctx.target.roles.keys.get(role)
    if key is None and role == "spent":
        key = ctx.target.profile.exhausted_key
    if not key:
        raise CheckSkipped(ctx.target.roles.why(role))
    return key


def error_of(exchange: Exchange) -> dict[str, Any] | None:
    """The OpenAI error object of a response (``{"error": {message, type, param, code}}``)."""
    try:
        body = exchange.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or not isinstance(error.get("message"), str):
        return None
    if not {"type", "param", "code"} <= set(error):
        return None
    return error


def _quota_problem(exchange: Exchange) -> str | None:
    if exchange.status != 429:
        return f"status {exchange.status}: {excerpt(exchange, 120)}"
    error = error_of(exchange)
    if error is None or _QUOTA not in (error.get("code"), error.get("type")):
        return f"429 without error code {_QUOTA}: {excerpt(exchange, 120)}"
    return None


# capability -> (endpoint, request for it): one minimal request per metered endpoint.
def _requests(ctx: CheckContext) -> list[tuple[Capability, str, dict[str, Any]]]:
    models = ctx.target.models
    wanted: list[tuple[Capability, str, dict[str, Any]]] = [
        ("chat", "/chat/completions", {"json": {"messages": _SHORT, "max_tokens": 8}}),
        ("responses", "/responses", {"json": {"input": "Say hi.", "max_output_tokens": 16}}),
        ("embedding", "/embeddings", {"json": {"input": "budget"}}),
        ("image", "/images/generations", {"json": {"prompt": "a dot", "n": 1}}),
        ("speech", "/audio/speech", {"json": {"input": "hi", "voice": "alloy"}}),
        (
            "transcription",
            "/audio/transcriptions",
            {"files": {"file": ("budget.wav", wav_tone(0.5), "audio/wav")}, "data": {}},
        ),
        ("video", "/videos", {"json": {"prompt": "a dot"}}),
    ]
    chosen = []
    for capability, path, template in wanted:
        model = models.get(capability)
        if not model:
            continue
        if "json" in template:
            request = {"json": {**template["json"], "model": model}}
        else:
            request = {**template, "data": {"model": model}}
        chosen.append((capability, path, request))
    return chosen


async def _realtime_refused(ctx: CheckContext, key: str) -> tuple[str | None, Exchange]:
    """Why a Realtime session with the spent key was not refused, or None (refused at the
    handshake with 429, by an ``error`` event at its start, or at its first response)."""
    url = realtime_url(ctx.target.base_url, ctx.model("realtime"))
    ctx.spend(1)
    step = Step({"type": "response.create"}, until=("response.done",))
    exchange = await record_session(
        url, headers={"Authorization": f"Bearer {key}"}, steps=(step,), first_timeout=5.0
    )
    if exchange.status == 429:
        return None, exchange
    if exchange.status != 101:
        return f"handshake status {exchange.status} ({exchange.error})", exchange
    events = [e for e in Transcript.of(exchange).received() if isinstance(e, dict)]
    for event in events:
        if event.get("type") == "error":
            error = event.get("error")
            error = error if isinstance(error, dict) else {}
            if _QUOTA in (error.get("code"), error.get("type")):
                return None, exchange
            return f"an error event that is not {_QUOTA}: {error!r:.120}", exchange
        if event.get("type") in ("response.output_text.delta", "response.done"):
            return "the session served a response", exchange
    return "no refusal within the session's first response", exchange


@check(
    "profile.budget.exhausted",
    area="profile",
    level="standard",
    endpoint="POST /* (every metered endpoint offered)",
    asserts="a key whose budget is spent is answered 429 with code insufficient_quota on every "
    "metered endpoint the target offers (chat, responses, embeddings, images, speech, "
    "transcriptions, videos), and refused by a Realtime session",
    source="OpenAI error codes guide: 429 'You exceeded your current quota' (insufficient_quota); "
    "gateway profile (monday: budgets on users and agents)",
    capability="chat",
)
async def check_profile_budget_exhausted(ctx: CheckContext) -> None:
    key = role_key(ctx, "spent")
    headers = {"Authorization": f"Bearer {key}"}
    problems: list[str] = []
    evidence: Exchange | None = None
    for capability, path, request in _requests(ctx):
        exchange = await ctx.client.request("POST", path, headers=headers, **request)
        if path == "/videos" and exchange.status == 404:  # a gateway's alias of the video path
            exchange = await ctx.client.request(
                "POST", "/videos/generations", headers=headers, **request
            )
        problem = _quota_problem(exchange)
        if problem is not None:
            problems.append(f"{capability} (POST {path}): {problem}")
            evidence = evidence or exchange
    if ctx.target.models.get("realtime"):
        problem, exchange = await _realtime_refused(ctx, key)
        if problem is not None:
            problems.append(f"realtime: {problem}")
            evidence = evidence or exchange
    if problems:
        raise CheckFailed(
            f"the spent key was not refused with 429 {_QUOTA} on {len(problems)} endpoint(s): "
            + "; ".join(problems),
            evidence,
        )


def _retry_after_problem(value: str | None) -> str | None:
    if value is None:
        return "no Retry-After header"
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        # RFC 9110 section 10.2.3: delay-seconds or an HTTP-date.
        return None if email.utils.parsedate_tz(text) else f"Retry-After {value!r} is no delay"
    return None if seconds >= 0 else f"Retry-After {value!r} is negative"


def _limited_chat(ctx: CheckContext, key: str, first: bool) -> Awaitable[Exchange]:
    """A one-token chat request with the limited key; the first one is shared (the headers
    check and the refusal check both start from it)."""
    body = {"model": ctx.model("chat"), "messages": _SHORT, "max_tokens": 1}

    def send() -> Awaitable[Exchange]:
        return ctx.client.request(
            "POST", "/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}
        )

    return ctx.shared("profile.limited.first", send) if first else send()


@check(
    "profile.rate_limit.headers",
    area="profile",
    level="standard",
    endpoint=_CHAT,
    asserts="answers to a rate-limited key (the run's key without one) carry "
    "x-ratelimit-limit-requests, -remaining-requests (integers) and -reset-requests (a duration "
    "such as 1s or 6m0s)",
    source="OpenAI rate limits guide: rate limits in headers",
    capability="chat",
)
async def check_profile_rate_limit_headers(ctx: CheckContext) -> None:
    if not ctx.target.profile.rate_limit_headers:
        raise CheckSkipped(f"profile {ctx.target.profile.name!r} promises no rate-limit headers")
    limited = ctx.target.roles.keys.get("limited")
    if limited:
        exchange = await _limited_chat(ctx, limited, first=True)
    else:  # the run's own key (as profile.credits.header's request: shared)
        body = {"model": ctx.model("chat"), "messages": _SHORT, "max_tokens": 8}
        exchange = await ctx.shared(
            "profile.chat.short",
            lambda: ctx.client.request("POST", "/chat/completions", json=body),
        )
    if exchange.status not in (200, 429):
        raise CheckFailed(f"expected an answer (200) or a 429, got {exchange.status}", exchange)
    missing = [h for h in _RATE_HEADERS if h not in exchange.headers]
    if not limited and len(missing) == len(_RATE_HEADERS):
        # A key without a rate limit has none to report: judged with one that has.
        raise CheckSkipped(
            "the run's key got no x-ratelimit-* headers (it may have no rate limit); "
            + ctx.target.roles.why("limited")
        )
    if missing:
        raise CheckFailed(f"rate-limit headers missing: {missing}", exchange)
    for name in _RATE_HEADERS[:2]:
        if not exchange.headers[name].strip().isdigit():
            raise CheckFailed(f"{name}: {exchange.headers[name]!r} is not an integer", exchange)
    reset = exchange.headers[_RATE_HEADERS[2]].strip()
    if not _DURATION.match(reset):
        raise CheckFailed(f"{_RATE_HEADERS[2]}: {reset!r} is not a duration", exchange)


@check(
    "profile.rate_limit.refusal",
    area="profile",
    level="standard",
    endpoint=_CHAT,
    asserts="requests with a rate-limited key are refused 429 within the profile's probe, with "
    "Retry-After, OpenAI's error object (not insufficient_quota) and, when the profile promises "
    "them, the x-ratelimit-* headers",
    source="OpenAI rate limits guide (429, x-ratelimit-* headers); OpenAI error codes guide: "
    "429 'Rate limit reached for requests'; RFC 9110 section 10.2.3 (Retry-After)",
    capability="chat",
)
async def check_profile_rate_limit_refusal(ctx: CheckContext) -> None:
    key = role_key(ctx, "limited")
    probe = ctx.target.profile.rate_limit_probe
    for sent in range(1, probe + 1):
        exchange = await _limited_chat(ctx, key, first=sent == 1)
        if exchange.status == 200:
            continue
        if exchange.status != 429:
            raise CheckFailed(
                f"request {sent} with the limited key: expected 200 or a 429, got "
                f"{exchange.status}: {excerpt(exchange)}",
                exchange,
            )
        error = error_of(exchange)
        if error is None:
            raise CheckFailed(f"the 429 has no OpenAI error object: {excerpt(exchange)}", exchange)
        if _QUOTA in (error.get("code"), error.get("type")):
            raise CheckFailed(
                f"a rate limit answered as {_QUOTA}: clients read that as a spent budget",
                exchange,
            )
        problem = _retry_after_problem(exchange.headers.get("retry-after"))
        if problem is not None:
            raise CheckFailed(f"the 429 (request {sent}) has {problem}", exchange)
        if ctx.target.profile.rate_limit_headers:
            missing = [h for h in _RATE_HEADERS if h not in exchange.headers]
            if missing:
                raise CheckFailed(f"the 429 lacks the promised headers {missing}", exchange)
        return
    raise CheckFailed(
        f"{probe} requests with the limited key were all answered 200: no rate limit refused "
        "them (rate_limit_probe in the profile sets how many parity may send)",
        exchange,
    )


@check(
    "profile.scope.consume",
    area="profile",
    level="standard",
    endpoint=_CHAT,
    asserts="a key without the consume scope is answered 403 with OpenAI's error object",
    source="OpenAI error codes guide (403: the key lacks permission); gateway profile (monday: "
    "the app token must include the ai:consume scope)",
    capability="chat",
)
async def check_profile_scope_consume(ctx: CheckContext) -> None:
    key = role_key(ctx, "unscoped")
    body = {"model": ctx.model("chat"), "messages": _SHORT, "max_tokens": 8}
    exchange = await ctx.client.request(
        "POST", "/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}
    )
    if exchange.status != 403:
        raise CheckFailed(
            f"a key without the consume scope must get 403, got {exchange.status}: "
            f"{excerpt(exchange)}",
            exchange,
        )
    if error_of(exchange) is None:
        raise CheckFailed(
            "the 403 is not OpenAI's error object {error: {message, type, param, code}}: "
            f"{excerpt(exchange)}",
            exchange,
        )
