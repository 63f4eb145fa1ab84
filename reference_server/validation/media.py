"""Request rules for embeddings, images, speech, transcriptions and videos.

Each body first matches its request schema in ``spec/openai.yaml`` (``CreateEmbeddingRequest``,
``CreateImageRequest``, ``CreateSpeechRequest``, ``CreateTranscriptionRequest``,
``CreateVideoJsonBody``; ``schemas.conform``), then the hand-written rules add OpenAI's
wording and the documented constraints the schemas cannot express (``dimensions`` only on
text-embedding-3, dall-e-3 ``n`` = 1, the accepted audio containers).

Must not: do I/O, or touch the catalog.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reference_server.errors import invalid_request
from reference_server.providers.media import SPEECH_MEDIA_TYPES
from reference_server.providers.media_synthesis import (
    DEFAULT_DIMENSIONS,
    NATIVE_DIMENSIONS,
    VIDEO_SIZES,
)
from reference_server.validation.fields import choice, model_field, number, string, wrong_type
from reference_server.validation.schemas import conform

__all__ = [
    "validate_audio_file",
    "validate_embeddings",
    "validate_images",
    "validate_speech",
    "validate_transcription",
    "validate_videos",
]


def validate_embeddings(body: Mapping[str, Any]) -> None:
    conform(body, "CreateEmbeddingRequest")
    string(body, "model", required=True)
    raw = body.get("input")
    if raw is None:
        raise invalid_request(
            "Missing required parameter: 'input'.", "input", "missing_required_parameter"
        )
    if isinstance(raw, str):
        if not raw:
            raise invalid_request(
                "Invalid 'input': empty string. Expected a non-empty string.",
                "input",
                "empty_string",
            )
    elif isinstance(raw, list):
        if not raw:
            raise invalid_request(
                "Invalid 'input': empty array. Expected a non-empty array.", "input", "empty_array"
            )
        if len(raw) > 2048:
            raise invalid_request(
                f"Invalid 'input': {len(raw)} items; the maximum is 2048.",
                "input",
                "array_above_max_length",
            )
        ints = all(isinstance(x, int) and not isinstance(x, bool) for x in raw)
        strings = all(isinstance(x, str) and x for x in raw)
        arrays = all(
            isinstance(x, list)
            and x
            and all(isinstance(t, int) and not isinstance(t, bool) for t in x)
            for x in raw
        )
        if not (ints or strings or arrays):
            raise invalid_request(
                "Invalid 'input': expected a non-empty string, an array of non-empty strings, an array of "
                "token integers, or an array of token arrays.",
                "input",
                "invalid_type",
            )
    else:
        raise wrong_type("input", raw, "a string or an array")
    choice(body, "encoding_format", ("float", "base64"))
    number(body, "dimensions", 1, 2**31 - 1, integer=True)
    dimensions = body.get("dimensions")
    if dimensions is not None:
        model = str(body["model"])
        # "Only supported in text-embedding-3 and later models" (official CreateEmbeddingRequest),
        # and never more than the model's native size.
        native = NATIVE_DIMENSIONS.get(model, DEFAULT_DIMENSIONS)
        if not model.startswith("text-embedding-3") or dimensions > native:
            raise invalid_request(
                f"Invalid 'dimensions': {dimensions!r}; model {model!r} supports "
                + (
                    f"1 to {native}."
                    if model.startswith("text-embedding-3")
                    else "no 'dimensions'."
                ),
                "dimensions",
                "invalid_value",
            )
    string(body, "user")


_IMAGE_PROMPT_LIMITS = {"dall-e-2": 1000, "dall-e-3": 4000}


def validate_images(body: Mapping[str, Any]) -> None:
    conform(body, "CreateImageRequest")
    model_field(body)
    model = body.get("model") or "dall-e-2"
    # The official schema sets no minimum length: an empty prompt is accepted.
    string(
        body,
        "prompt",
        required=True,
        max_length=_IMAGE_PROMPT_LIMITS.get(model, 32000),
        allow_empty=True,
    )
    number(body, "n", 1, 1 if model == "dall-e-3" else 10, integer=True)
    string(body, "size")
    choice(body, "response_format", ("url", "b64_json"))
    choice(body, "quality", ("standard", "hd", "low", "medium", "high", "auto"))
    choice(body, "style", ("vivid", "natural"))
    choice(body, "background", ("transparent", "opaque", "auto"))
    value = body.get("output_format")
    if value is not None and value != "png":
        raise invalid_request(
            f"Invalid value for 'output_format': {value!r}. This server produces only 'png'.",
            "output_format",
            "unsupported_value",
        )
    string(body, "user")


_VOICES = (
    "alloy",
    "ash",
    "ballad",
    "coral",
    "echo",
    "fable",
    "onyx",
    "nova",
    "sage",
    "shimmer",
    "verse",
    "marin",
    "cedar",
)


def validate_speech(body: Mapping[str, Any]) -> None:
    conform(body, "CreateSpeechRequest")
    string(body, "model", required=True)
    string(body, "input", required=True, max_length=4096)
    voice = body.get("voice")
    if isinstance(voice, dict):
        if not isinstance(voice.get("id"), str):
            raise invalid_request(
                "Missing required parameter: 'voice.id'.", "voice.id", "missing_required_parameter"
            )
    else:
        string(body, "voice", required=True)
        choice(body, "voice", _VOICES)
    fmt = body.get("response_format")
    if isinstance(fmt, str) and fmt not in SPEECH_MEDIA_TYPES:
        official = ("mp3", "opus", "aac", "flac", "wav", "pcm")
        detail = "is not produced by this server" if fmt in official else "is not a speech format"
        raise invalid_request(
            f"Invalid value for 'response_format': {fmt!r} {detail}. Supported values are: "
            f"{', '.join(repr(f) for f in SPEECH_MEDIA_TYPES)}.",
            "response_format",
            "unsupported_value" if fmt in official else "invalid_value",
        )
    number(body, "speed", 0.25, 4.0)
    string(body, "instructions")


def validate_transcription(fields: Mapping[str, Any]) -> None:
    """``fields``: the form's text fields, ``file``: the upload's name (its bytes are checked by
    :func:`validate_audio_file`)."""
    conform(fields, "CreateTranscriptionRequest")
    string(fields, "model", required=True)
    choice(fields, "response_format", ("json", "text", "srt", "verbose_json", "vtt"))
    number(fields, "temperature", 0, 1)
    string(fields, "language")
    string(fields, "prompt")
    granularities = fields.get("timestamp_granularities") or []
    for value in granularities:
        if value not in ("word", "segment"):
            raise invalid_request(
                f"Invalid value for 'timestamp_granularities[]': {value!r}. Supported values are: 'word', 'segment'.",
                "timestamp_granularities",
                "invalid_value",
            )
    # OpenAI documents granularities as taking effect with verbose_json only; with other
    # formats they are ignored (the official schema does not forbid the combination).


# Leading bytes of the containers OpenAI's transcription endpoint accepts
# (flac, m4a, mp3, mp4, mpeg, mpga, oga, ogg, wav, webm).
_AUDIO_MAGIC = (b"RIFF", b"fLaC", b"OggS", b"ID3", b"\x1aE\xdf\xa3")
_FILE_FORMATS = "['flac', 'm4a', 'mp3', 'mp4', 'mpeg', 'mpga', 'oga', 'ogg', 'wav', 'webm']"


def validate_audio_file(content: bytes) -> None:
    """400 for an upload that is not an audio container (OpenAI: "Invalid file format")."""
    if not content:
        raise invalid_request(
            "Invalid 'file': the uploaded file is empty.", "file", "invalid_value"
        )
    mpeg_frame = len(content) > 1 and content[0] == 0xFF and content[1] & 0xE0 == 0xE0
    iso_media = content[4:8] == b"ftyp"
    if not (content.startswith(_AUDIO_MAGIC) or mpeg_frame or iso_media):
        raise invalid_request(
            f"Invalid file format. Supported formats: {_FILE_FORMATS} "
            f"(the upload starts with {content[:8]!r}).",
            "file",
            "invalid_value",
        )


def validate_videos(body: Mapping[str, Any]) -> None:
    conform(body, "CreateVideoJsonBody")
    model_field(body)
    string(body, "prompt", required=True)
    choice(body, "seconds", ("4", "8", "12"))
    choice(body, "size", VIDEO_SIZES)
