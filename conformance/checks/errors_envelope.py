"""The OpenAI error object: every error answer's body, on chat and every other endpoint.

``errors.envelope.shape`` judges the bodies of all the probes ``errors.py`` sent at this level
(chat, and above smoke one bad request to every other endpoint the target offers), so one
broken envelope is reported once, with every offending probe named.

Must not: judge statuses (``errors.py``) or successful answers (other areas).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from conformance.checks.bounds import out_of_range_values
from conformance.checks.chat import CHAT
from conformance.checks.errors import (
    AUTH_PROBES,
    ERROR_SOURCE,
    PROBES,
    SMOKE_PROBES,
    envelope_problems,
    send_past_probe,
    send_probe,
)
from conformance.registry import CheckFailed, CheckSkipped, check

if TYPE_CHECKING:
    from conformance.context import CheckContext
    from conformance.exchange import Exchange
    from conformance.registry import Capability

__all__: list[str] = []

# One bad request per other endpoint, each missing a required field (OpenAI API reference:
# CreateEmbeddingRequest.input, CreateImageRequest.prompt, CreateSpeechRequest.input,
# CreateTranscriptionRequest.file): capability -> (name, path, JSON fields beyond `model`).
_ENDPOINTPROBES: dict[Capability, tuple[str, str, dict[str, Any]]] = {
    "embedding": ("embeddings_no_input", "/embeddings", {}),
    "image": ("images_no_prompt", "/images/generations", {}),
    "speech": ("speech_no_input", "/audio/speech", {"voice": "alloy"}),
    "transcription": ("transcriptions_no_file", "/audio/transcriptions", {}),
}


async def _endpoint_probe(ctx: CheckContext, capability: Capability) -> tuple[str, Exchange]:
    name, path, fields = _ENDPOINTPROBES[capability]
    data = {"model": ctx.model(capability), **fields}

    async def send() -> Exchange:
        if capability == "transcription":
            # multipart, as the endpoint takes it, with a placeholder part instead of `file`
            note = {"attachment": ("note.txt", b"no audio here", "text/plain")}
            return await ctx.client.request("POST", path, data=data, files=note)
        return await ctx.client.request("POST", path, json=data)

    return name, await ctx.shared(f"errors.{name}", send)


def _envelope_problem(ctx: CheckContext, name: str, exchange: Exchange) -> str | None:
    profile_shape = ctx.target.profile.auth_error_shape
    if name in AUTH_PROBES and profile_shape is not None:
        try:
            exchange.json()
        except ValueError:
            return f"probe {name}: the {profile_shape} auth error is not JSON"
        return None
    problems = envelope_problems(exchange)
    return f"probe {name} ({exchange.status}): {'; '.join(problems)}" if problems else None


@check(
    "errors.envelope.shape",
    area="errors",
    level="smoke",
    endpoint=CHAT,
    asserts="Error answers are `application/json` OpenAI error objects: `error.message` and "
    "`error.type` strings, `error.param` and `error.code` present as strings or null; judged "
    "on every error probe (above smoke also embeddings, images, speech, transcriptions), "
    "naming each bad one.",
    source=f"{ERROR_SOURCE}; openai-python reads error.message/type/param/code from the body",
    capability="chat",
)
async def check_envelope_shape(ctx: CheckContext) -> None:
    smoke = ctx.target.level == "smoke"
    names = [n for n in (SMOKE_PROBES if smoke else PROBES) if n != "missing_model"]
    if not smoke and ctx.target.profile.default_model is None:
        names.append("missing_model")
    answers = [(name, await send_probe(ctx, name)) for name in names]
    if not smoke:
        answers.append(("out_of_range", await send_past_probe(ctx, out_of_range_values()[0])))
        for capability in _ENDPOINTPROBES:
            if ctx.target.models.get(capability):
                answers.append(await _endpoint_probe(ctx, capability))
    judged = [(n, e) for n, e in answers if e.status is not None and e.status >= 400]
    if not judged:
        raise CheckSkipped("no probe produced an error answer; see the errors.* status checks")
    bad = [(p, e) for n, e in judged if (p := _envelope_problem(ctx, n, e)) is not None]
    if bad:
        raise CheckFailed(
            f"{len(bad)} of {len(judged)} error answers are not OpenAI error objects: "
            + " | ".join(p for p, _ in bad),
            bad[0][1],
        )
