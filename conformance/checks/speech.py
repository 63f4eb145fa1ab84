"""Checks for ``POST /audio/speech``: real audio in every ``response_format``, clean refusals.

Sources: OpenAI's API reference for speech (``CreateSpeechRequest``: formats mp3, opus, aac,
flac, wav, pcm; ``input`` at most 4096 characters) and the text-to-speech guide (opus in Ogg,
aac in ADTS, pcm as raw 24 kHz 16-bit little-endian samples). The spec declares the body as
``application/octet-stream``; OpenAI itself sends the format's own media type. Either is
accepted; a media type naming another format is not.

Every format is documented, so refusing one breaks OpenAI's clients: failed, unless the run's
profile declares it unsupported (``unsupported: [speech.format.opus]``), then skipped. Never a
200 with other bytes.

Must not: judge what the audio says.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from conformance.checks.verdicts import (
    excerpt,
    refusal_problem,
    refused_documented,
    require_refusal,
)
from conformance.media import AUDIO_FORMATS, AUDIO_MEDIA_TYPES, AudioFormat, audio_problem
from conformance.registry import CheckFailed, check

if TYPE_CHECKING:
    from conformance.context import CheckContext
    from conformance.exchange import Exchange
    from conformance.registry import CheckFunc

__all__: list[str] = []

_ENDPOINT = "POST /audio/speech"
_INPUT = "Hello from parity."
_MAX_INPUT = 4096  # CreateSpeechRequest.input maxLength


async def _speak(ctx: CheckContext, **fields: Any) -> Exchange:
    body = {"model": ctx.model("speech"), "input": _INPUT, "voice": "alloy", **fields}
    return await ctx.client.request("POST", "/audio/speech", json=body)


def _judge_format(ctx: CheckContext, fmt: AudioFormat, exchange: Exchange) -> None:
    if exchange.status is not None and 400 <= exchange.status < 500:
        problem = refusal_problem(exchange)
        if problem is not None:
            raise CheckFailed(
                f"response_format {fmt} refused, but not cleanly: {problem}", exchange
            )
        refused_documented(ctx, f"speech.format.{fmt}", exchange, f"response_format {fmt}")
    if exchange.status != 200:
        raise CheckFailed(
            f"response_format {fmt}: expected 200, got {exchange.status}: {excerpt(exchange)}",
            exchange,
        )
    media_type = exchange.content_type
    if media_type not in AUDIO_MEDIA_TYPES[fmt] | {"application/octet-stream"}:
        allowed = [*sorted(AUDIO_MEDIA_TYPES[fmt]), "application/octet-stream"]
        raise CheckFailed(
            f"response_format {fmt} answered Content-Type {media_type!r}; expected one of "
            f"{allowed}",
            exchange,
        )
    problem = audio_problem(fmt, exchange.body)
    if problem is not None:
        raise CheckFailed(problem, exchange)


def _format_check(fmt: AudioFormat) -> CheckFunc:
    async def check_speech_format(ctx: CheckContext) -> None:
        _judge_format(ctx, fmt, await _speak(ctx, response_format=fmt))

    check_speech_format.__name__ = f"check_speech_format_{fmt}"
    return check_speech_format


_MAGIC = {
    "mp3": "an ID3 tag or an MPEG layer III frame sync",
    "opus": "an Ogg page holding OpusHead",
    "aac": "an ADTS frame sync",
    "flac": "'fLaC'",
    "wav": "'RIFF....WAVE'",
    "pcm": "no container header and an even byte count (raw 16-bit samples)",
}

for _fmt in AUDIO_FORMATS:
    check(
        f"speech.format.{_fmt}",
        area="speech",
        level="smoke" if _fmt == "mp3" else "standard",
        endpoint=_ENDPOINT,
        asserts=f"response_format {_fmt} answers {_MAGIC[_fmt]} with a matching media type "
        "(or application/octet-stream); refusing the documented format fails (skipped if the "
        "profile declares it unsupported)",
        source="OpenAI API reference: CreateSpeechRequest.response_format; text-to-speech guide",
        capability="speech",
    )(_format_check(_fmt))


@check(
    "speech.format.unknown_refused",
    area="speech",
    level="standard",
    endpoint=_ENDPOINT,
    asserts="an unknown response_format is refused with a 400 error object, not answered with "
    "some other audio",
    source="OpenAI API reference: CreateSpeechRequest.response_format (closed enum)",
    capability="speech",
)
async def check_speech_format_unknown_refused(ctx: CheckContext) -> None:
    require_refusal(await _speak(ctx, response_format="midi"), "response_format midi")


@check(
    "speech.input.empty_refused",
    area="speech",
    level="standard",
    endpoint=_ENDPOINT,
    asserts="an empty input is refused with a 400 error object",
    source="OpenAI API reference: CreateSpeechRequest.input (required text to speak)",
    capability="speech",
)
async def check_speech_input_empty_refused(ctx: CheckContext) -> None:
    require_refusal(await _speak(ctx, input=""), "empty input")


@check(
    "speech.input.oversized_refused",
    area="speech",
    level="deep",
    endpoint=_ENDPOINT,
    asserts=f"an input over {_MAX_INPUT} characters is refused with a 400 error object",
    source="OpenAI API reference: CreateSpeechRequest.input (maxLength 4096)",
    capability="speech",
)
async def check_speech_input_oversized_refused(ctx: CheckContext) -> None:
    require_refusal(await _speak(ctx, input="a" * (_MAX_INPUT + 1)), "input of 4097 characters")
