"""Synthetic embeddings, images, speech, transcriptions and video jobs (bodies and bytes).

Shapes follow the official spec components ``CreateEmbeddingResponse``, ``ImagesResponse``,
``CreateTranscriptionResponseJson`` / ``...VerboseJson`` and ``VideoResource``.

- Embeddings: a unit vector (L2 norm 1) per input, seeded by (model, input): same input, same
  vector. ``dimensions`` shortens the native vector and renormalises it (as OpenAI's
  text-embedding-3 models do); base64 is little-endian float32.
- Images: real PNGs of the requested size; a ``url`` points at this server's
  ``/v1/images/files/{W}x{H}-{seed}.png``, regenerated on demand (any worker can serve it).
- Video jobs are stateless: the id encodes creation time, seconds and size, so any worker can
  answer retrieve and content (an MP4 container, see ``media.py``).

Must not: sleep or do I/O.
"""

from __future__ import annotations

import base64
import math
import random
import re
import struct
import time
from collections.abc import Mapping, Sequence
from typing import Any

from reference_server.providers.media import (
    AUDIO_SAMPLE_RATE,
    SPEECH_MEDIA_TYPES,
    audio_seconds,
    png_bytes,
    speech_bytes,
)
from reference_server.providers.text import seed_of, synthetic_tokens
from reference_server.tokens import count_tokens, split_tokens

__all__ = [
    "DEFAULT_DIMENSIONS",
    "NATIVE_DIMENSIONS",
    "VIDEO_SIZES",
    "decode_video_id",
    "embeddings_body",
    "image_size",
    "images_body",
    "speech_reply",
    "transcription_reply",
    "upload_seconds",
    "video_body",
    "video_id",
]

NATIVE_DIMENSIONS = {"text-embedding-3-large": 3072}
DEFAULT_DIMENSIONS = 1536


def _vector(model: str, item: object, dimensions: int | None) -> list[float]:
    native = NATIVE_DIMENSIONS.get(model, DEFAULT_DIMENSIONS)
    rng = random.Random(seed_of(model, item))
    gauss = rng.gauss
    values = [gauss(0.0, 1.0) for _ in range(dimensions or native)]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [v / norm for v in values]


def embeddings_body(body: Mapping[str, Any], model: str) -> tuple[dict[str, Any], int]:
    raw = body["input"]
    items: Sequence[object]
    if isinstance(raw, str):
        items = [raw]
    elif raw and all(isinstance(x, int) for x in raw):
        items = [tuple(raw)]
    else:
        items = [x if isinstance(x, str) else tuple(x) for x in raw]
    dimensions = body.get("dimensions")
    base64_format = body.get("encoding_format") == "base64"
    data = []
    tokens = 0
    for index, item in enumerate(items):
        tokens += count_tokens(item) if isinstance(item, str) else len(item)  # type: ignore[arg-type]
        vector = _vector(model, item, dimensions)
        embedding: list[float] | str
        if base64_format:
            embedding = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
        else:
            embedding = vector
        data.append({"object": "embedding", "index": index, "embedding": embedding})
    out = {
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
    return out, tokens


_IMAGE_SIZES = {
    "dall-e-2": ("256x256", "512x512", "1024x1024"),
    "dall-e-3": ("1024x1024", "1792x1024", "1024x1792"),
}
_GPT_IMAGE_SIZES = ("auto", "1024x1024", "1536x1024", "1024x1536")


def image_size(model: str, size: str | None) -> tuple[int, int] | str:
    """(width, height), or an error message naming the sizes this model accepts."""
    valid = _IMAGE_SIZES.get(model, _GPT_IMAGE_SIZES)
    chosen = size or ("auto" if "auto" in valid else "1024x1024")
    if chosen not in valid:
        return f"Invalid size {chosen!r} for model {model!r}; supported sizes: {list(valid)}"
    if chosen == "auto":
        chosen = "1024x1024"
    width, height = chosen.split("x")
    return int(width), int(height)


def images_body(
    body: Mapping[str, Any], model: str, origin: str, size: tuple[int, int]
) -> tuple[dict[str, Any], int]:
    prompt = str(body["prompt"])
    n = int(body.get("n") or 1)
    gpt_image = model not in _IMAGE_SIZES
    # gpt-image models always return b64_json; dall-e models default to url (OpenAI reference).
    fmt = "b64_json" if gpt_image else (body.get("response_format") or "url")
    width, height = size
    data = []
    for index in range(n):
        seed = seed_of(model, prompt, index) & 0xFFFFFF
        item: dict[str, Any]
        if fmt == "url":
            item = {"url": f"{origin}/v1/images/files/{width}x{height}-{seed}.png"}
        else:
            item = {"b64_json": base64.b64encode(png_bytes(width, height, seed)).decode("ascii")}
        if model == "dall-e-3":
            item["revised_prompt"] = prompt
        data.append(item)
    prompt_tokens = count_tokens(prompt)
    out: dict[str, Any] = {"created": int(time.time()), "data": data}
    image_tokens = 0
    if gpt_image:
        image_tokens = n * (272 if width * height <= 1024 * 1024 else 408)
        out.update(
            {
                "background": "opaque",
                "output_format": "png",
                "quality": body.get("quality") or "medium",
                "size": f"{width}x{height}",
                "usage": {
                    "input_tokens": prompt_tokens,
                    "output_tokens": image_tokens,
                    "total_tokens": prompt_tokens + image_tokens,
                    "input_tokens_details": {"text_tokens": prompt_tokens, "image_tokens": 0},
                },
            }
        )
    return out, image_tokens


_IMAGE_FILE = re.compile(r"^(\d{1,4})x(\d{1,4})-(\d{1,8})\.png$")


def image_file(name: str) -> bytes | None:
    """The PNG behind a ``url`` this server handed out, or None for a name it never made."""
    match = _IMAGE_FILE.match(name)
    if not match:
        return None
    width, height, seed = (int(g) for g in match.groups())
    if not (1 <= width <= 1792 and 1 <= height <= 1792) or seed > 0xFFFFFF:
        return None
    return png_bytes(width, height, seed)


def speech_reply(body: Mapping[str, Any]) -> tuple[bytes, str, float]:
    """(audio bytes, media type, seconds) for a validated speech request."""
    fmt = str(body.get("response_format") or "mp3")
    text = str(body["input"])
    seconds = audio_seconds(text, float(body.get("speed") or 1.0))
    seed = seed_of(text, body.get("voice"))
    return speech_bytes(fmt, seconds, seed), SPEECH_MEDIA_TYPES[fmt], seconds


def upload_seconds(content: bytes) -> float:
    """Seconds of audio in an upload: exact for WAV, at ~128 kbit/s for other containers."""
    if content[:4] == b"RIFF" and content[8:12] == b"WAVE":
        rate = struct.unpack_from("<I", content, 24)[0] if len(content) >= 28 else AUDIO_SAMPLE_RATE
        block = struct.unpack_from("<H", content, 32)[0] if len(content) >= 34 else 2
        if rate and block:
            return max((len(content) - 44) / (rate * block), 0.1)
    # Other containers: assume ~128 kbit/s.
    return max(len(content) / 16_000, 0.1)


def _stamp(seconds: float) -> tuple[int, int, int, int]:
    millis = round(seconds * 1000)
    return millis // 3_600_000, millis // 60_000 % 60, millis // 1000 % 60, millis % 1000


def transcription_reply(
    fields: Mapping[str, Any], content: bytes
) -> tuple[dict[str, Any] | str, float, int]:
    """(JSON body or text, audio seconds, output tokens) for a transcription request."""
    seconds = round(upload_seconds(content), 3)
    fmt = str(fields.get("response_format") or "json")
    seed = seed_of(content[:4096], len(content))
    words_count = max(3, int(seconds * 2.5))
    text = "".join(synthetic_tokens(seed, words_count))
    tokens = split_tokens(text)
    sentences: list[list[str]] = [[]]
    for token in tokens:
        sentences[-1].append(token)
        if token == ".":
            sentences.append([])
    sentences = [s for s in sentences if s]
    per_token = seconds / max(len(tokens), 1)
    segments: list[dict[str, Any]] = []
    words: list[dict[str, Any]] = []
    position = 0
    for number, sentence in enumerate(sentences):
        start = position * per_token
        for token in sentence:
            if token.strip() and token != ".":
                words.append(
                    {
                        "word": token.strip(),
                        "start": round(position * per_token, 3),
                        "end": round((position + 1) * per_token, 3),
                    }
                )
            position += 1
        segment_text = "".join(sentence)
        segments.append(
            {
                "id": number,
                "seek": 0,
                "start": round(start, 3),
                "end": round(position * per_token, 3),
                "text": segment_text,
                "tokens": [50364 + i for i in range(len(sentence))],
                "temperature": 0.0,
                "avg_logprob": -0.2,
                "compression_ratio": 1.2,
                "no_speech_prob": 0.01,
            }
        )
    usage = {"type": "duration", "seconds": max(1, math.ceil(seconds))}
    if fmt == "text":
        return text + "\n", seconds, len(tokens)
    if fmt in ("srt", "vtt"):
        lines = [] if fmt == "srt" else ["WEBVTT", ""]
        sep = "," if fmt == "srt" else "."
        for segment in segments:
            a, b = _stamp(segment["start"]), _stamp(segment["end"])
            if fmt == "srt":
                lines.append(str(segment["id"] + 1))
            lines.append(
                f"{a[0]:02d}:{a[1]:02d}:{a[2]:02d}{sep}{a[3]:03d} --> "
                f"{b[0]:02d}:{b[1]:02d}:{b[2]:02d}{sep}{b[3]:03d}"
            )
            lines.append(str(segment["text"]).strip())
            lines.append("")
        return "\n".join(lines), seconds, len(tokens)
    if fmt == "verbose_json":
        granularities = fields.get("timestamp_granularities") or ["segment"]
        out: dict[str, Any] = {
            "task": "transcribe",
            "language": str(fields.get("language") or "english"),
            "duration": seconds,
            "text": text,
            "usage": usage,
        }
        if "segment" in granularities:
            out["segments"] = segments
        if "word" in granularities:
            out["words"] = words
        return out, seconds, len(tokens)
    return {"text": text, "usage": usage}, seconds, len(tokens)


VIDEO_SIZES = ("720x1280", "1280x720", "1024x1792", "1792x1024")
_VIDEO_ID = re.compile(r"^video_([0-9a-f]{8})([0-9a-f]{2})([0-3])([0-9a-f]{8})$")


def video_id(created: int, seconds: int, size: str, prompt: str) -> str:
    return f"video_{created:08x}{seconds:02x}{VIDEO_SIZES.index(size)}{seed_of(prompt):08x}"


def decode_video_id(value: str) -> tuple[int, int, str] | None:
    """(created_at, seconds, size) of an id this server issued; None otherwise."""
    match = _VIDEO_ID.match(value)
    if not match:
        return None
    return int(match.group(1), 16), int(match.group(2), 16), VIDEO_SIZES[int(match.group(3))]


def video_body(
    identifier: str, model: str, prompt: str | None, *, status: str = "completed"
) -> dict[str, Any] | None:
    decoded = decode_video_id(identifier)
    if decoded is None:
        return None
    created, seconds, size = decoded
    done = status == "completed"
    return {
        "id": identifier,
        "object": "video",
        "model": model,
        "status": status,
        "progress": 100 if done else 0,
        "created_at": created,
        "completed_at": created if done else None,
        "expires_at": created + 86_400 if done else None,
        "prompt": prompt,
        "size": size,
        "seconds": str(seconds),
        "remixed_from_video_id": None,
        "error": None,
    }
