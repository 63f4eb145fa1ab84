"""Error answers: statuses for bad keys and bad requests, the error object, ``x-request-id``.

Each probe is one shared request; the status checks here judge only the status, and
``errors_envelope.py`` judges the bodies of all probes this level made, so one broken envelope
is reported once, with every offending probe named.

Must not: judge successful answers (other areas do), or expect a status OpenAI does not
document for the case.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from conformance.checks.bounds import OutOfRange, out_of_range_values
from conformance.checks.chat import CHAT, basic_body, basic_completion, usage_stream
from conformance.registry import CheckFailed, CheckSkipped, CheckWarning, check

if TYPE_CHECKING:
    from conformance.context import CheckContext
    from conformance.exchange import Exchange

__all__ = [
    "AUTH_PROBES",
    "ERROR_SOURCE",
    "PROBES",
    "SMOKE_PROBES",
    "UNKNOWN_MODEL",
    "envelope_problems",
    "send_past_probe",
    "send_probe",
]

UNKNOWN_MODEL = "parity-no-such-model-7f3a"
_CODES = "OpenAI API reference, Error codes"
ERROR_SOURCE = "OpenAI OpenAPI spec: ErrorResponse / Error (required code, message, param, type)"
# OpenAI's images and vision guide documents "up to 50 MB total payload size per request";
# a body above 50 MiB is past any limit OpenAI documents for a JSON request.
OVERSIZED_BYTES = 54_000_000


@dataclass(frozen=True, slots=True)
class _Probe:
    key: str
    auth: bool
    make: Callable[[str], dict[str, Any]] | None  # None: the raw malformed body
    headers: dict[str, str] | None = None


def _past(probe: OutOfRange) -> Callable[[str], dict[str, Any]]:
    return lambda m: basic_body(m, **{"max_completion_tokens": 1, **probe.fields()})


_MALFORMED = b'{"model": "x", "messages": [{"role": "user", "content": "hi"'
PROBES: dict[str, _Probe] = {
    "missing_key": _Probe("errors.missing_key", False, basic_body),
    "invalid_key": _Probe(
        "errors.invalid_key",
        False,
        basic_body,
        {"authorization": "Bearer sk-parity-invalid-0000000000000000"},
    ),
    "malformed_json": _Probe("errors.malformed_json", True, None),
    "missing_required": _Probe("errors.missing_required", True, lambda m: {"model": m}),
    "wrong_type": _Probe(
        "errors.wrong_type",
        True,
        lambda m: {"model": m, "messages": "hello", "max_completion_tokens": 8},
    ),
    "missing_model": _Probe(
        "errors.missing_model",
        True,
        lambda m: {k: v for k, v in basic_body(m).items() if k != "model"},
    ),
    "unknown_model": _Probe("errors.unknown_model", True, lambda _m: basic_body(UNKNOWN_MODEL)),
    "stream_unknown_model": _Probe(
        "errors.stream_unknown_model",
        True,
        lambda _m: basic_body(UNKNOWN_MODEL, stream=True),
    ),
}
SMOKE_PROBES = ("missing_key", "missing_required")
AUTH_PROBES = ("missing_key", "invalid_key")


async def send_probe(ctx: CheckContext, name: str) -> Exchange:
    probe = PROBES[name]
    model = ctx.model("chat")

    async def send() -> Exchange:
        if probe.make is None:
            return await ctx.client.request(
                "POST", CHAT, content=_MALFORMED, headers={"content-type": "application/json"}
            )
        return await ctx.client.request(
            "POST", CHAT, json=probe.make(model), headers=probe.headers, auth=probe.auth
        )

    return await ctx.shared(probe.key, send)


def _require_key(ctx: CheckContext) -> None:
    if not ctx.target.api_key:
        raise CheckSkipped(
            "the run has no API key (--api-key, PARITY_API_KEY or OPENAI_API_KEY), so the "
            "target is being tested as one that needs none"
        )


def _status_verdict(exchange: Exchange, expected: int, what: str) -> None:
    status = exchange.status
    if status == expected:
        return
    if status is None:
        raise CheckFailed(f"{what}: no answer ({exchange.error})", exchange)
    hint = ""
    if status == 400 and expected == 404:
        hint = " (openai-python raises BadRequestError, not the NotFoundError clients catch)"
    elif status == 422:
        hint = " (422 is a framework default; OpenAI answers 400 invalid_request_error)"
    elif status >= 500:
        hint = " (a server error for a client mistake: SDKs retry it pointlessly)"
    elif status < 300:
        hint = " (an error accepted as success)"
    raise CheckFailed(f"{what}: expected {expected}, got {status}{hint}", exchange)


def envelope_problems(exchange: Exchange) -> list[str]:
    """The OpenAI error object: JSON ``{"error": {message, type, param, code}}``."""
    problems: list[str] = []
    if exchange.content_type != "application/json":
        problems.append(f"content-type is {exchange.headers.get('content-type')!r}")
    try:
        body = exchange.json()
    except ValueError:
        return [*problems, f"body is not JSON: {exchange.text[:120]!r}"]
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return [*problems, f"body has no error object: {exchange.text[:160]!r}"]
    if not isinstance(error.get("message"), str) or not error["message"]:
        problems.append(f"error.message is {error.get('message')!r}")
    if not isinstance(error.get("type"), str) or not error["type"]:
        problems.append(f"error.type is {error.get('type')!r}")
    for name in ("param", "code"):
        if name not in error:
            problems.append(f"error.{name} is absent (the spec requires it, null allowed)")
        elif not isinstance(error[name], str | None):
            problems.append(f"error.{name} is {error[name]!r}, not a string or null")
    return problems


@check(
    "errors.auth.missing_key",
    area="errors",
    level="smoke",
    endpoint=CHAT,
    asserts="A request without an Authorization header is refused with 401.",
    source=f"{_CODES}: 401 'Invalid Authentication'; openai-python maps 401 to AuthenticationError",
    capability="chat",
)
async def check_missing_key(ctx: CheckContext) -> None:
    _require_key(ctx)
    _status_verdict(await send_probe(ctx, "missing_key"), 401, "no API key")


@check(
    "errors.auth.invalid_key",
    area="errors",
    level="standard",
    endpoint=CHAT,
    asserts="A request with an unknown bearer key is refused with 401.",
    source=f"{_CODES}: 401 'Incorrect API key provided'",
    capability="chat",
)
async def check_invalid_key(ctx: CheckContext) -> None:
    _require_key(ctx)
    _status_verdict(await send_probe(ctx, "invalid_key"), 401, "an invalid API key")


@check(
    "errors.request.malformed_json",
    area="errors",
    level="standard",
    endpoint=CHAT,
    asserts="A body that is not valid JSON is refused with 400 (not 422, not 5xx).",
    source=f"{_CODES}: 400 invalid_request_error; openai-python maps 400 to BadRequestError",
    capability="chat",
)
async def check_malformed_json(ctx: CheckContext) -> None:
    _status_verdict(await send_probe(ctx, "malformed_json"), 400, "truncated JSON")


@check(
    "errors.request.missing_required",
    area="errors",
    level="smoke",
    endpoint=CHAT,
    asserts="A request without the required `messages` is refused with 400 (not 422).",
    source="OpenAI OpenAPI spec: CreateChatCompletionRequest required [model, messages]; "
    f"{_CODES}: 400 invalid_request_error",
    capability="chat",
)
async def check_missing_required(ctx: CheckContext) -> None:
    _status_verdict(await send_probe(ctx, "missing_required"), 400, "no messages")


@check(
    "errors.request.wrong_type",
    area="errors",
    level="standard",
    endpoint=CHAT,
    asserts="`messages` given as a string instead of an array is refused with 400.",
    source="OpenAI OpenAPI spec: CreateChatCompletionRequest.messages (type array); "
    f"{_CODES}: 400 invalid_request_error",
    capability="chat",
)
async def check_wrong_type(ctx: CheckContext) -> None:
    _status_verdict(await send_probe(ctx, "wrong_type"), 400, "messages as a string")


async def send_past_probe(ctx: CheckContext, probe: OutOfRange) -> Exchange:
    body = _past(probe)(ctx.model("chat"))
    return await ctx.shared(
        f"errors.out_of_range.{probe.key}",
        lambda: ctx.client.request("POST", CHAT, json=body),
    )


@check(
    "errors.request.out_of_range",
    area="errors",
    level="standard",
    endpoint=CHAT,
    asserts="A value just past each documented bound of every numeric chat parameter "
    "(temperature 0..2, top_p 0..1, presence/frequency_penalty -2..2, n 1..128, top_logprobs "
    "0..20, max_completion_tokens >= 1, logit_bias values -100..100) is refused with 400.",
    source="OpenAI OpenAPI spec: CreateChatCompletionRequest (minimum/maximum of each "
    "parameter; logit_bias 'from -100 to 100'); OpenAI answers integer_below_min_value "
    f"('Expected a value >= 1') for a zero token cap; {_CODES}: 400 invalid_request_error",
    capability="chat",
)
async def check_out_of_range(ctx: CheckContext) -> None:
    wrong: list[tuple[str, Exchange]] = []
    for probe in out_of_range_values():
        exchange = await send_past_probe(ctx, probe)
        if exchange.status != 400:
            what = f"no answer ({exchange.error})" if exchange.status is None else exchange.status
            wrong.append((f"{probe.parameter}={probe.value!r} ({probe.bound}): {what}", exchange))
    if wrong:
        accepted = sum(1 for _, e in wrong if e.status is not None and e.status < 300)
        raise CheckFailed(
            f"{len(wrong)} of {len(out_of_range_values())} out-of-range values were not "
            f"refused with 400 ({accepted} accepted): " + "; ".join(w for w, _ in wrong),
            wrong[0][1],
        )


@check(
    "errors.request.missing_model",
    area="errors",
    level="standard",
    endpoint=CHAT,
    asserts="A request without `model` is refused with 400, unless the profile promises a "
    "default model (profile.default_model.served judges that one).",
    source="OpenAI OpenAPI spec: CreateChatCompletionRequest required [model, messages]; "
    f"{_CODES}: 400 invalid_request_error (missing_required_parameter)",
    capability="chat",
)
async def check_missing_model(ctx: CheckContext) -> None:
    profile = ctx.target.profile
    if profile.default_model is not None:
        raise CheckSkipped(
            f"profile {profile.name!r} promises the default model {profile.default_model!r}; "
            "see profile.default_model.served"
        )
    exchange = await send_probe(ctx, "missing_model")
    if exchange.status == 200:
        raise CheckFailed(
            f"a request without `model` was served, although profile {profile.name!r} "
            "promises no default model",
            exchange,
        )
    _status_verdict(exchange, 400, "no model")


@check(
    "errors.model.unknown",
    area="errors",
    level="standard",
    endpoint=CHAT,
    asserts="A chat request for a model that does not exist is refused with 404.",
    source=f"{_CODES}: 404 'The model does not exist or you do not have access to it' "
    "(code model_not_found); openai-python maps 404 to NotFoundError",
    capability="chat",
)
async def check_unknown_model(ctx: CheckContext) -> None:
    _status_verdict(await send_probe(ctx, "unknown_model"), 404, f"model {UNKNOWN_MODEL!r}")


@check(
    "errors.stream.status_before_stream",
    area="errors",
    level="standard",
    endpoint=CHAT,
    asserts="An error known before streaming starts (an unknown model with `stream: true`) is "
    "an HTTP error status with a JSON body, not a 200 event stream.",
    source="openai-python: a non-2xx status raises APIStatusError before any event is read; "
    "OpenAI API reference, Error codes",
    capability="chat",
)
async def check_status_before_stream(ctx: CheckContext) -> None:
    exchange = await send_probe(ctx, "stream_unknown_model")
    if exchange.status is not None and 400 <= exchange.status < 500:
        return
    raise CheckFailed(
        f"a streamed request for an unknown model got {exchange.status} "
        f"{exchange.headers.get('content-type')!r}: {exchange.text[:160]!r}",
        exchange,
    )


@check(
    "errors.request.oversized",
    area="errors",
    level="deep",
    endpoint=CHAT,
    asserts="A 54 MB JSON body (above OpenAI's documented 50 MB request payload) is refused "
    "with 413 and a JSON error object; a 400 error object or acceptance is a warning; a "
    "5xx, an HTML page or a dropped connection fails.",
    source="OpenAI images and vision guide, input requirements ('up to 50 MB total payload "
    "size per request'); RFC 9110 15.5.14 413 Content Too Large; RFC 9112 9.6 (tear-down)",
    capability="chat",
)
async def check_oversized(ctx: CheckContext) -> None:
    # The padding sits in an unknown field, so a target that accepts the body spends nothing.
    body = basic_body(ctx.model("chat"), max_completion_tokens=1)
    raw = json.dumps(body).encode()
    padding = b"a" * (OVERSIZED_BYTES - len(raw))
    content = raw[:-1] + b', "x_parity_padding": "' + padding + b'"}'
    exchange = await ctx.shared(
        "errors.oversized",
        lambda: ctx.client.request(
            "POST", CHAT, content=content, headers={"content-type": "application/json"}
        ),
    )
    status = exchange.status
    problems = envelope_problems(exchange) if status is not None and status >= 400 else []
    if status == 413 and not problems:
        return
    if status is not None and 200 <= status < 300:
        raise CheckWarning(f"a {len(content)}-byte body was accepted ({status})", exchange)
    if status == 400 and not problems:
        raise CheckWarning("an oversized body is refused with 400, not 413", exchange)
    what = f"status {status}" if status is not None else f"no answer ({exchange.error})"
    if status is None:
        # Answering before the body is read and then closing resets the connection while the
        # client is still sending; clients that send the whole body first (httpx, hence
        # openai-python) never see the 413 and report a connection error, which the SDK
        # retries. RFC 9112 9.6: close in stages ("lingering close") or read the body first.
        what += (
            ": the connection was dropped, so clients that finish sending before reading "
            "never see a 413 (answer after reading/discarding the body, or close lingeringly)"
        )
    detail = f": {'; '.join(problems)}" if problems else ""
    raise CheckFailed(f"a {len(content)}-byte body got {what}{detail}", exchange)


@check(
    "errors.headers.request_id",
    area="errors",
    level="smoke",
    endpoint=CHAT,
    asserts="Every answer carries a non-empty `x-request-id` header: a completion, a stream "
    "and an error.",
    source="OpenAI API reference, Debugging requests ('x-request-id: A unique identifier for "
    "this API request'); openai-python exposes it as _request_id",
    capability="chat",
)
async def check_request_id(ctx: CheckContext) -> None:
    exchanges = {
        "completion": await basic_completion(ctx),
        "stream": await usage_stream(ctx),
        "error": await send_probe(ctx, "missing_required"),
    }
    seen = 0
    for what, exchange in exchanges.items():
        if exchange.status is None:
            continue
        seen += 1
        if not exchange.headers.get("x-request-id", "").strip():
            raise CheckFailed(
                f"the {what} answer ({exchange.status}) has no x-request-id", exchange
            )
    if not seen:
        raise CheckSkipped("no answer arrived to judge")
