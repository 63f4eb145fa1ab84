"""Checks for ``POST /audio/transcriptions``: every ``response_format``, timestamps, refusals.

Sources: OpenAI's API reference for transcriptions (``CreateTranscriptionRequest``,
``CreateTranscriptionResponseJson``, ``CreateTranscriptionResponseVerboseJson``,
``TranscriptionSegment``, ``TranscriptionWord``); OpenAI answers ``text``, ``srt`` and ``vtt``
as ``text/plain`` (the spec omits it: openai/openai-openapi#361); the official SDK encodes
array fields with brackets (``timestamp_granularities[]=word``). Subtitle syntax: SubRip
(``HH:MM:SS,mmm --> HH:MM:SS,mmm``) and W3C WebVTT (``WEBVTT`` header, ``.mmm`` cue times).

The upload is a real one-second WAV tone made here; a correct model may transcribe it as
nothing, so no check expects words in the text.

Every ``response_format`` is documented, so refusing one fails, except where the spec itself
documents the model as not offering it (``gpt-4o-transcribe`` and ``gpt-4o-mini-transcribe``
answer only ``json``) or the profile declares it unsupported: then the check is skipped.

Must not: expect particular text.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from conformance.checks.verdicts import (
    excerpt,
    ok_json,
    refusal_problem,
    refused_documented,
    require_ok,
    require_refusal,
)
from conformance.media import wav_tone
from conformance.registry import CheckFailed, CheckSkipped, check

if TYPE_CHECKING:
    from conformance.context import CheckContext
    from conformance.exchange import Exchange

__all__: list[str] = []

_ENDPOINT = "POST /audio/transcriptions"
_SRT_TIME = re.compile(r"^(\d{2,}):(\d{2}):(\d{2}),(\d{3}) --> (\d{2,}):(\d{2}):(\d{2}),(\d{3})$")
_VTT_STAMP = r"(?:(\d{2,}):)?(\d{2}):(\d{2})\.(\d{3})"
_VTT_TIME = re.compile(rf"^{_VTT_STAMP} --> {_VTT_STAMP}(?:[ \t].*)?$")
_SEGMENT_FIELDS = ("id", "seek", "start", "end", "text", "tokens", "temperature")
# CreateTranscriptionRequest.response_format: "For gpt-4o-transcribe and gpt-4o-mini-transcribe,
# the only supported format is json. For gpt-4o-transcribe-diarize, the supported formats are
# json, text, and diarized_json." Longest prefix first (dated snapshots share the prefix).
_MODEL_FORMATS: tuple[tuple[str, frozenset[str]], ...] = (
    ("gpt-4o-transcribe-diarize", frozenset({"json", "text", "diarized_json"})),
    ("gpt-4o-mini-transcribe", frozenset({"json"})),
    ("gpt-4o-transcribe", frozenset({"json"})),
)


async def _transcribe(ctx: CheckContext, key: str, **fields: Any) -> Exchange:
    data: dict[str, Any] = {"model": ctx.model("transcription"), **fields}
    files = {"file": ("parity.wav", wav_tone(1.0), "audio/wav")}

    async def make() -> Exchange:
        return await ctx.client.request("POST", "/audio/transcriptions", data=data, files=files)

    return await ctx.shared(key, make)


def _documented_formats(model: str) -> frozenset[str] | None:
    """The formats the spec documents for ``model`` (None: every format)."""
    name = model.rsplit("/", 1)[-1]
    for prefix, formats in _MODEL_FORMATS:
        if name.startswith(prefix):
            return formats
    return None


def _offered(ctx: CheckContext, exchange: Exchange, fmt: str) -> None:
    """A clean 4xx refusal of ``fmt``: skipped where the spec documents the model without it,
    else the verdict on a refused documented format; any other non-200 is the caller's."""
    if refusal_problem(exchange) is not None:  # not a 4xx with an error object
        return
    model = ctx.model("transcription")
    formats = _documented_formats(model)
    if formats is not None and fmt not in formats:
        raise CheckSkipped(
            f"response_format {fmt} was refused and the spec documents {model!r} with "
            f"{sorted(formats)} only (CreateTranscriptionRequest.response_format)"
        )
    refused_documented(ctx, f"transcriptions.format.{fmt}", exchange, f"response_format {fmt}")


def _plain(ctx: CheckContext, exchange: Exchange, fmt: str) -> str:
    _offered(ctx, exchange, fmt)
    require_ok(exchange, f"response_format {fmt}")
    if exchange.content_type in ("application/json", "text/event-stream"):
        raise CheckFailed(
            f"response_format {fmt} must be answered as text/plain, got "
            f"{exchange.content_type!r}: {excerpt(exchange)}",
            exchange,
        )
    return exchange.text.replace("\r\n", "\n").replace("\r", "\n")


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _seconds(groups: tuple[str | None, ...]) -> float:
    hours, minutes, secs, millis = (int(g or 0) for g in groups)
    return hours * 3600 + minutes * 60 + secs + millis / 1000


def _judge_cues(times: list[tuple[float, float]], fmt: str, exchange: Exchange) -> None:
    previous = 0.0
    for number, (start, end) in enumerate(times, 1):
        if start > end:
            raise CheckFailed(
                f"{fmt} cue {number} ends ({end}s) before it starts ({start}s)", exchange
            )
        if start < previous:
            raise CheckFailed(
                f"{fmt} cue {number} starts at {start}s, before cue {number - 1} ({previous}s)",
                exchange,
            )
        previous = start
    if not times:
        # A correct model may hear nothing in the tone: no cue to judge.
        raise CheckSkipped(f"the {fmt} answer holds no cues (silent audio?): nothing to judge")


@check(
    "transcriptions.json.shape",
    area="transcriptions",
    level="smoke",
    endpoint=_ENDPOINT,
    asserts="a multipart upload with the default response_format answers JSON with a `text` string",
    source="OpenAI API reference: CreateTranscriptionResponseJson",
    capability="transcription",
)
async def check_transcriptions_json_shape(ctx: CheckContext) -> None:
    exchange = await _transcribe(ctx, "transcriptions.json")
    body = ok_json(exchange, "transcription")
    if not isinstance(body.get("text"), str):
        raise CheckFailed(f"`text` must be a string, got {body.get('text')!r:.80}", exchange)


@check(
    "transcriptions.text.plain",
    area="transcriptions",
    level="standard",
    endpoint=_ENDPOINT,
    asserts="response_format text answers plain text (text/plain), not a JSON object",
    source="OpenAI API reference: CreateTranscriptionRequest.response_format; OpenAI answers "
    "text/plain (openai/openai-openapi#361)",
    capability="transcription",
)
async def check_transcriptions_text_plain(ctx: CheckContext) -> None:
    exchange = await _transcribe(ctx, "transcriptions.text", response_format="text")
    text = _plain(ctx, exchange, "text")
    if text.lstrip().startswith("{") and '"text"' in text:
        raise CheckFailed(
            f"response_format text answered a JSON object: {excerpt(exchange)}", exchange
        )
    if exchange.content_type != "text/plain":
        raise CheckFailed(
            f"response_format text must be text/plain, got {exchange.content_type!r}", exchange
        )


@check(
    "transcriptions.srt.cues",
    area="transcriptions",
    level="standard",
    endpoint=_ENDPOINT,
    asserts="response_format srt answers SubRip cues (number, 'HH:MM:SS,mmm --> HH:MM:SS,mmm', "
    "text) with start <= end and non-decreasing starts",
    source="OpenAI API reference: CreateTranscriptionRequest.response_format (srt); SubRip format",
    capability="transcription",
)
async def check_transcriptions_srt_cues(ctx: CheckContext) -> None:
    exchange = await _transcribe(ctx, "transcriptions.srt", response_format="srt")
    text = _plain(ctx, exchange, "srt").strip()
    times: list[tuple[float, float]] = []
    for number, block in enumerate(filter(None, re.split(r"\n\s*\n", text)), 1):
        lines = block.strip().split("\n")
        if len(lines) < 2 or not lines[0].strip().isdigit():
            raise CheckFailed(
                f"srt block {number} does not start with a cue number: {block!r:.80}", exchange
            )
        match = _SRT_TIME.match(lines[1].strip())
        if match is None:
            raise CheckFailed(
                f"srt block {number} timing line {lines[1]!r:.80} is not "
                "'HH:MM:SS,mmm --> HH:MM:SS,mmm'",
                exchange,
            )
        times.append((_seconds(match.groups()[:4]), _seconds(match.groups()[4:])))
    _judge_cues(times, "srt", exchange)


@check(
    "transcriptions.vtt.cues",
    area="transcriptions",
    level="standard",
    endpoint=_ENDPOINT,
    asserts="response_format vtt answers WebVTT: a 'WEBVTT' header, cues timed "
    "'MM:SS.mmm --> MM:SS.mmm' with start <= end and non-decreasing starts",
    source="OpenAI API reference: CreateTranscriptionRequest.response_format (vtt); W3C WebVTT",
    capability="transcription",
)
async def check_transcriptions_vtt_cues(ctx: CheckContext) -> None:
    exchange = await _transcribe(ctx, "transcriptions.vtt", response_format="vtt")
    text = _plain(ctx, exchange, "vtt").lstrip("\ufeff")
    blocks = [b for b in re.split(r"\n\s*\n", text.strip()) if b.strip()]
    if not blocks or not re.match(r"^WEBVTT(?:[ \t].*)?$", blocks[0].split("\n")[0]):
        raise CheckFailed(f"a WebVTT file must start with 'WEBVTT': {excerpt(exchange)}", exchange)
    times: list[tuple[float, float]] = []
    for number, block in enumerate(blocks[1:], 1):
        lines = block.strip().split("\n")
        if lines[0].startswith(("NOTE", "STYLE", "REGION")):
            continue
        timing = lines[0] if "-->" in lines[0] else (lines[1] if len(lines) > 1 else "")
        match = _VTT_TIME.match(timing.strip())
        if match is None:
            raise CheckFailed(
                f"vtt block {number} has no timing line 'MM:SS.mmm --> MM:SS.mmm': {block!r:.80}",
                exchange,
            )
        times.append((_seconds(match.groups()[:4]), _seconds(match.groups()[4:])))
    _judge_cues(times, "vtt", exchange)


def _judge_spans(items: Any, name: str, fields: tuple[str, ...], exchange: Exchange) -> int:
    if not isinstance(items, list):
        raise CheckFailed(f"`{name}` must be a list, got {items!r:.80}", exchange)
    previous = 0.0
    for position, item in enumerate(items):
        missing = [f for f in fields if not isinstance(item, dict) or f not in item]
        if missing:
            raise CheckFailed(f"{name}[{position}] lacks {missing}", exchange)
        start, end = item["start"], item["end"]
        if not (_number(start) and _number(end)) or start > end:
            raise CheckFailed(
                f"{name}[{position}] needs numbers start <= end, got {start!r}, {end!r}", exchange
            )
        if start < previous:
            raise CheckFailed(
                f"{name}[{position}] starts at {start}, before the previous one ({previous})",
                exchange,
            )
        previous = start
    return len(items)


@check(
    "transcriptions.verbose_json.shape",
    area="transcriptions",
    level="standard",
    endpoint=_ENDPOINT,
    asserts="verbose_json answers language (string), duration (a number, not a string), text, "
    "and segments with the spec's fields, start <= end, in time order",
    source="OpenAI API reference: CreateTranscriptionResponseVerboseJson, TranscriptionSegment",
    capability="transcription",
)
async def check_transcriptions_verbose_json_shape(ctx: CheckContext) -> None:
    exchange = await _transcribe(ctx, "transcriptions.verbose", response_format="verbose_json")
    _offered(ctx, exchange, "verbose_json")
    body = ok_json(exchange, "verbose_json transcription")
    if body.get("task", "transcribe") != "transcribe":
        raise CheckFailed(f"`task` must be 'transcribe', got {body.get('task')!r}", exchange)
    if not isinstance(body.get("language"), str):
        raise CheckFailed(f"`language` must be a string, got {body.get('language')!r}", exchange)
    duration = body.get("duration")
    if not isinstance(duration, (int, float)) or isinstance(duration, bool) or duration < 0:
        raise CheckFailed(f"`duration` must be a number of seconds, got {duration!r}", exchange)
    if not isinstance(body.get("text"), str):
        raise CheckFailed(f"`text` must be a string, got {body.get('text')!r:.80}", exchange)
    _judge_spans(body.get("segments"), "segments", _SEGMENT_FIELDS, exchange)


@check(
    "transcriptions.verbose_json.words",
    area="transcriptions",
    level="standard",
    endpoint=_ENDPOINT,
    asserts="timestamp_granularities[]=word (bracket-encoded, as the official SDK sends it) "
    "gives `words` with word, start <= end, in time order",
    source="OpenAI API reference: CreateTranscriptionRequest.timestamp_granularities, "
    "TranscriptionWord; official SDK multipart array encoding",
    capability="transcription",
)
async def check_transcriptions_verbose_json_words(ctx: CheckContext) -> None:
    exchange = await _transcribe(
        ctx,
        "transcriptions.words",
        response_format="verbose_json",
        **{"timestamp_granularities[]": ["word", "segment"]},
    )
    _offered(ctx, exchange, "verbose_json")
    body = ok_json(exchange, "verbose_json with word timestamps")
    if "words" not in body:
        raise CheckFailed(
            "timestamp_granularities[]=word was asked but `words` is absent", exchange
        )
    count = _judge_spans(body["words"], "words", ("word", "start", "end"), exchange)
    if count == 0 and isinstance(body.get("text"), str) and body["text"].strip():
        raise CheckFailed(f"`words` is empty although the text is {body['text']!r:.60}", exchange)


@check(
    "transcriptions.file.missing_refused",
    area="transcriptions",
    level="standard",
    endpoint=_ENDPOINT,
    asserts="a multipart request without `file` is refused with a 400 error object",
    source="OpenAI API reference: CreateTranscriptionRequest (file is required)",
    capability="transcription",
)
async def check_transcriptions_file_missing_refused(ctx: CheckContext) -> None:
    # A placeholder part keeps the body multipart while leaving `file` out.
    exchange = await ctx.client.request(
        "POST",
        "/audio/transcriptions",
        data={"model": ctx.model("transcription")},
        files={"attachment": ("note.txt", b"no audio here", "text/plain")},
    )
    require_refusal(exchange, "transcription without a file")
