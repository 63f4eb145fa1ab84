"""Request bodies for every endpoint the harness loads, sized by the run's flags.

One :class:`Outgoing` per request: the path under the base URL, the encoded body, its content
type, and the protocol its answer speaks (how the reader times it). Bodies follow the OpenAI API
reference for each endpoint: ``POST /v1/chat/completions``, ``POST /v1/responses`` (streamed;
``max_output_tokens`` has a minimum of 16), ``POST /v1/embeddings``, ``POST /v1/images/generations``,
``POST /v1/audio/speech``, ``POST /v1/audio/transcriptions`` (``multipart/form-data`` with a WAV
file), and the Realtime API's ``conversation.item.create`` + ``response.create`` client events.

Must not: perform I/O or import locust (the command line and the preflight build bodies too).
"""

from __future__ import annotations

import functools
import io
import json
import math
import random
import struct
import urllib.parse
import wave
from dataclasses import dataclass
from typing import Literal

__all__ = ["Outgoing", "Protocol", "Sizes", "build_request", "parse_image_size", "wav_bytes"]

Lengths = Literal["fixed", "realistic"]
# How an answer is read: an SSE chat stream, an SSE Responses stream, a whole body, a WebSocket.
Protocol = Literal["chat-sse", "responses-sse", "body", "realtime"]

_RESPONSES_MIN_OUTPUT = 16  # OpenAI API reference: max_output_tokens minimum
_SAMPLE_RATE = 16_000  # Hz, 16-bit mono PCM: what speech-to-text models take without resampling
_BOUNDARY = "parity-load-7d1f3c2b9e"
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
_IMAGE_SIZES = ("auto", "256x256", "512x512", "1024x1024", "1536x1024", "1024x1536")


@dataclass(frozen=True, slots=True)
class Sizes:
    """Payload sizes. ``prompt_tokens`` None: 24 words (fixed) or a median of 120 (realistic)."""

    max_tokens: int = 64
    prompt_tokens: int | None = None
    audio_seconds: float = 1.0
    image_size: str = "1024x1024"
    speech_chars: int = 200
    lengths: Lengths = "fixed"


@dataclass(frozen=True, slots=True)
class Outgoing:
    path: str
    body: bytes
    content_type: str
    protocol: Protocol
    # Realtime only: the second client event (``response.create``), sent after the first.
    follow_up: bytes = b""
    # A whole-body answer that must be JSON (speech answers audio bytes).
    json_answer: bool = True


def parse_image_size(text: str) -> str:
    """``1024x1024``-style sizes (or ``auto``); raises ValueError naming the valid forms."""
    value = text.strip().lower()
    if value == "auto":
        return value
    width, sep, height = value.partition("x")
    if not sep or not width.isdigit() or not height.isdigit() or int(width) * int(height) == 0:
        raise ValueError(
            f"malformed --image-size {text!r}: use WIDTHxHEIGHT, e.g. {', '.join(_IMAGE_SIZES)}"
        )
    return value


@functools.lru_cache(maxsize=8)
def wav_bytes(seconds: float) -> bytes:
    """A WAV file of ``seconds`` of a quiet 440 Hz tone (16 kHz, 16-bit mono)."""
    frames = max(1, round(seconds * _SAMPLE_RATE))
    tone = [round(2000 * math.sin(2 * math.pi * 440 * i / _SAMPLE_RATE)) for i in range(400)]
    samples = struct.pack(f"<{len(tone)}h", *tone) * (frames // len(tone) + 1)
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(_SAMPLE_RATE)
        wav.writeframes(samples[: frames * 2])
    return out.getvalue()


def _lognormal_int(rng: random.Random, median: float, sigma: float, low: int, high: int) -> int:
    return max(low, min(high, round(rng.lognormvariate(math.log(median), sigma))))


def _prompt(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(words))


def _json(body: object) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def _multipart(fields: dict[str, str], filename: str, data: bytes, media_type: str) -> bytes:
    parts = [
        f'--{_BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{_BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        f"Content-Type: {media_type}\r\n\r\n".encode()
        + data
        + b"\r\n"
    )
    return b"".join(parts) + f"--{_BOUNDARY}--\r\n".encode()


def build_request(kind: str, model: str, rng: random.Random, sizes: Sizes) -> Outgoing:
    """The request of one ``kind`` for ``model``: path (under the base URL), body, protocol."""
    if sizes.lengths == "realistic":
        # Log-normal lengths: chat prompts and outputs are right-skewed (ShareGPT-like shape).
        words = _lognormal_int(rng, sizes.prompt_tokens or 120, 0.8, 4, 2000)
        top = max(1, 4 * sizes.max_tokens)
        output = _lognormal_int(rng, max(1, sizes.max_tokens / 2), 0.6, 1, top)
    else:
        words, output = sizes.prompt_tokens or 24, sizes.max_tokens
    content = "application/json"
    if kind == "embeddings":
        return Outgoing(
            "/embeddings", _json({"model": model, "input": _prompt(rng, words)}), content, "body"
        )
    if kind == "images":
        body = {"model": model, "prompt": _prompt(rng, words), "n": 1, "size": sizes.image_size}
        return Outgoing("/images/generations", _json(body), content, "body")
    if kind == "speech":
        text = _prompt(rng, max(1, sizes.speech_chars // 7))[: sizes.speech_chars]
        body = {"model": model, "input": text, "voice": "alloy"}
        return Outgoing("/audio/speech", _json(body), content, "body", json_answer=False)
    if kind == "transcriptions":
        data = _multipart(
            {"model": model}, "audio.wav", wav_bytes(sizes.audio_seconds), "audio/wav"
        )
        return Outgoing(
            "/audio/transcriptions", data, f"multipart/form-data; boundary={_BOUNDARY}", "body"
        )
    if kind == "responses-stream":
        body = {
            "model": model,
            "input": _prompt(rng, words),
            "stream": True,
            "max_output_tokens": max(_RESPONSES_MIN_OUTPUT, output),
        }
        return Outgoing("/responses", _json(body), content, "responses-sse")
    if kind == "realtime":
        item = {
            "type": "conversation.item.create",
            "item": {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": _prompt(rng, words)}],
            },
        }
        create = {
            "type": "response.create",
            "response": {"output_modalities": ["text"], "max_output_tokens": output},
        }
        path = f"/realtime?model={urllib.parse.quote(model, safe='')}"
        return Outgoing(path, _json(item), content, "realtime", follow_up=_json(create))
    body_chat: dict[str, object] = {
        "model": model,
        "messages": [{"role": "user", "content": _prompt(rng, words)}],
        "max_tokens": output,
    }
    if kind == "chat-stream":
        body_chat["stream"] = True
        # Token truth from the server: usage arrives in a final chunk with choices: [].
        body_chat["stream_options"] = {"include_usage": True}
        return Outgoing("/chat/completions", _json(body_chat), content, "chat-sse")
    return Outgoing("/chat/completions", _json(body_chat), content, "body")
