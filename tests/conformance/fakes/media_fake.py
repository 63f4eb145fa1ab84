"""Media endpoints of the breadth fake: images, speech, transcriptions, video jobs.

Written from OpenAI's API reference (ImagesResponse, CreateSpeechRequest formats,
CreateTranscriptionResponse* and subtitle formats, VideoResource). The bytes are built here by
hand (PNG with zlib, minimal mp3/Ogg Opus/ADTS/FLAC/WAV/PCM/MP4 headers), independently of
``conformance.media``, so the sniffers are checked against a second implementation.
"""

from __future__ import annotations

import base64
import functools
import struct
import time
import zlib
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from tests.conformance.fakes.breadth import (
    CATALOG,
    BreadthKnobs,
    base_headers,
    error,
    metering_headers,
    new_id,
    respond,
    serves,
)

__all__ = [
    "download_image",
    "images",
    "speech",
    "transcriptions",
    "video_content",
    "video_create",
    "video_retrieve",
]

_SIZES = ("1024x1024", "1536x1024", "1024x1536", "256x256", "512x512")
_TRANSCRIPT = "Parity test tone."


@functools.cache
def png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    row = b"\x00" + b"\xff\x20\x20" * width
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


async def images(knobs: BreadthKnobs, request: Request) -> Response:
    body = await request.json()
    if CATALOG.get(body.get("model"), ("",))[0] != "image":
        return error(
            knobs, request, 404, f"The model {body.get('model')!r} does not exist.", param="model"
        )
    if not body.get("prompt"):
        return error(knobs, request, 400, "prompt is required.", param="prompt")
    size = body.get("size", "1024x1024")
    if size not in _SIZES and not knobs.broken("size_accepted"):
        return error(knobs, request, 400, f"size must be one of {list(_SIZES)}.", param="size")
    if size not in _SIZES:
        size = "1024x1024"
    n = body.get("n", 1)
    if not isinstance(n, int) or not 1 <= n <= 4:
        return error(knobs, request, 400, "n must be 1..4.", param="n")
    if knobs.broken("n_ignored"):
        n = 1
    default = "url" if knobs.quirk("url_images") else "b64_json"
    fmt = body.get("response_format", default)
    if fmt not in ("url", "b64_json"):
        return error(
            knobs, request, 400, "response_format must be url or b64_json.", param="response_format"
        )
    if fmt == "url" and knobs.broken("url_refused"):
        return error(
            knobs, request, 400, "Images come back as b64_json only.", param="response_format"
        )
    width, height = (int(x) for x in size.split("x"))
    data: list[dict[str, Any]] = []
    for _ in range(n):
        if fmt == "url" and not knobs.broken("url_as_b64"):
            variant = request.path_params["variant"]
            url = f"{request.base_url}{variant}/files/{width}x{height}.png"
            data.append({"url": url, "revised_prompt": body["prompt"]})
        else:
            shown = (width // 2, height) if knobs.broken("image_wrong_size") else (width, height)
            data.append(
                {
                    "b64_json": base64.b64encode(png(*shown)).decode(),
                    "revised_prompt": body["prompt"],
                }
            )
    if knobs.broken("sdk_images") and "x-stainless-lang" in request.headers:
        data = []
    created = int(time.time() * 1000) if knobs.broken("image_created_ms") else int(time.time())
    return respond(
        knobs, request, {"created": created, "data": data}, headers=metering_headers(50, 0)
    )


async def download_image(knobs: BreadthKnobs, request: Request) -> Response:
    name = request.path_params["name"]
    width, height = (int(x) for x in name.removesuffix(".png").split("x"))
    return Response(png(width, height), headers=base_headers(knobs), media_type="image/png")


def _wav(samples: int = 2400, rate: int = 24000) -> bytes:
    pcm = b"\x00\x01" * samples
    fmt = struct.pack("<4sIHHIIHH", b"fmt ", 16, 1, 1, rate, rate * 2, 2, 16)
    return (
        b"RIFF"
        + struct.pack("<I", 4 + len(fmt) + 8 + len(pcm))
        + b"WAVE"
        + fmt
        + b"data"
        + struct.pack("<I", len(pcm))
        + pcm
    )


def _audio(fmt: str) -> bytes:
    if fmt == "mp3":
        return b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + b"\x00" * 413
    if fmt == "opus":
        head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, 312, 24000, 0, 0)
        page = (
            b"OggS\x00\x02"
            + b"\x00" * 8
            + b"\x01\x00\x00\x00"
            + b"\x00" * 8
            + b"\x01"
            + bytes([len(head)])
        )
        return page + head
    if fmt == "aac":
        return (b"\xff\xf1\x50\x80\x02\x1f\xfc" + b"\x00" * 10) * 3
    if fmt == "flac":
        return b"fLaC" + b"\x80\x00\x00\x22" + b"\x00" * 34
    if fmt == "wav":
        return _wav()
    return b"\x00\x01" * 2400  # pcm: raw 16-bit little-endian samples


_TYPES = {
    "mp3": "audio/mpeg",
    "opus": "audio/ogg",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}


async def speech(knobs: BreadthKnobs, request: Request) -> Response:
    body = await request.json()
    if CATALOG.get(body.get("model"), ("",))[0] != "audio":
        return error(
            knobs, request, 404, f"The model {body.get('model')!r} does not exist.", param="model"
        )
    if not serves(body.get("model"), "speech"):
        return error(
            knobs, request, 400, f"{body.get('model')!r} is speech-to-text.", param="model"
        )
    text = body.get("input")
    if not isinstance(text, str) or (not text and not knobs.broken("speech_empty_accepted")):
        return error(knobs, request, 400, "input is required.", param="input")
    if len(text) > 4096 and not knobs.broken("speech_oversized_accepted"):
        return error(knobs, request, 400, "input is at most 4096 characters.", param="input")
    if "response_format" not in body and knobs.broken("sdk_speech"):
        return error(knobs, request, 500, "no default format", type_="server_error")
    fmt = body.get("response_format", "mp3")
    if knobs.broken("opus_refused") and fmt == "opus":
        return error(knobs, request, 400, "opus is not offered here.", param="response_format")
    if fmt not in _TYPES:
        if not knobs.broken("speech_unknown_accepted"):
            return error(
                knobs,
                request,
                400,
                f"response_format must be one of {list(_TYPES)}.",
                param="response_format",
            )
        fmt = "mp3"
    audio, media_type = _audio(fmt), _TYPES[fmt]
    if knobs.broken("opus_is_wav") and fmt == "opus":
        audio = _wav()
    if knobs.broken("flac_as_mpeg") and fmt == "flac":
        media_type = "audio/mpeg"
    if knobs.broken("pcm_is_wav") and fmt == "pcm":
        audio = _wav()
    if knobs.broken("mp3_json") and fmt == "mp3" and "x-stainless-lang" not in request.headers:
        audio, media_type = b'{"audio": "..."}', "application/json"
    if knobs.broken("aac_is_mp3") and fmt == "aac":
        audio = _audio("mp3")
    if knobs.broken("wav_headerless") and fmt == "wav":
        audio = _audio("pcm")
    if knobs.quirk("octet_stream"):
        media_type = "application/octet-stream"
    headers = base_headers(knobs) | metering_headers(len(text), 0)
    return Response(audio, headers=headers, media_type=media_type)


def _stamp(seconds: float, sep: str, hours: bool = True) -> str:
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    head = f"{int(h):02d}:" if hours else ""
    return f"{head}{int(m):02d}:{int(s):02d}{sep}{round((s % 1) * 1000):03d}"


async def transcriptions(knobs: BreadthKnobs, request: Request) -> Response:
    form = await request.form()
    if knobs.broken("sdk_transcriptions") and "x-stainless-lang" in request.headers:
        return error(knobs, request, 500, "the SDK is not welcome", type_="server_error")
    upload = form.get("file")
    if not isinstance(upload, UploadFile) and not knobs.broken("file_optional"):
        return error(knobs, request, 400, "file is required.", param="file")
    if CATALOG.get(str(form.get("model")), ("",))[0] != "audio":
        return error(
            knobs, request, 404, f"The model {form.get('model')!r} does not exist.", param="model"
        )
    if not serves(form.get("model"), "transcriptions"):
        return error(
            knobs, request, 400, f"{form.get('model')!r} is text-to-speech.", param="model"
        )
    audio = await upload.read() if isinstance(upload, UploadFile) else b""
    duration = max(len(audio) - 44, 0) / 32000 or 1.0
    fmt = str(form.get("response_format", "json"))
    granularities = form.getlist("timestamp_granularities[]")
    words = _TRANSCRIPT.split()
    step = duration / len(words)
    end = "\r\n" if knobs.quirk("cr_vtt_hours") else "\n"
    if knobs.broken("json_only") and fmt != "json":
        return error(knobs, request, 400, "This model supports json only.", param="response_format")
    if fmt == "json":
        key = "transcript" if knobs.broken("json_text_key") else "text"
        return respond(
            knobs, request, {key: _TRANSCRIPT, "usage": {"type": "duration", "seconds": 1}}
        )
    if fmt == "text":
        if knobs.broken("text_as_json"):
            return respond(knobs, request, {"text": _TRANSCRIPT})
        return PlainTextResponse(_TRANSCRIPT + "\n", headers=base_headers(knobs))
    if fmt == "srt":
        sep = "." if knobs.broken("srt_dot_times") else ","
        cues = [f"1{end}{_stamp(0, sep)} --> {_stamp(duration, sep)}{end}{_TRANSCRIPT}{end}"]
        return PlainTextResponse(end.join(cues) + end, headers=base_headers(knobs))
    if fmt == "vtt":
        hours = knobs.quirk("cr_vtt_hours")
        header = "" if knobs.broken("vtt_no_header") else f"WEBVTT{end}{end}"
        half = duration / 2
        cues = [
            f"{_stamp(0, '.', hours)} --> {_stamp(half, '.', hours)}{end}Parity test{end}",
            f"{_stamp(half, '.', hours)} --> {_stamp(duration, '.', hours)}{end}tone.{end}",
        ]
        return PlainTextResponse(header + end.join(cues), headers=base_headers(knobs))
    if fmt != "verbose_json":
        return error(
            knobs, request, 400, f"unknown response_format {fmt!r}.", param="response_format"
        )
    segment = {
        "id": 0,
        "seek": 0,
        "start": 0.0,
        "end": duration,
        "text": _TRANSCRIPT,
        "tokens": [1, 2, 3],
        "temperature": 0.0,
        "avg_logprob": -0.2,
        "compression_ratio": 1.1,
        "no_speech_prob": 0.01,
    }
    payload: dict[str, Any] = {
        "task": "transcribe",
        "language": "english",
        "duration": str(duration) if knobs.broken("duration_string") else duration,
        "text": _TRANSCRIPT,
        "segments": [segment],
    }
    if "word" in granularities and not knobs.broken("words_ignored"):
        payload["words"] = [
            {"word": w, "start": i * step, "end": (i + 1) * step} for i, w in enumerate(words)
        ]
    return respond(knobs, request, payload)


_JOBS: dict[str, dict[str, Any]] = {}
_MP4 = (
    struct.pack(">I", 24)
    + b"ftypisom"
    + b"\x00\x00\x02\x00"
    + b"isommp41"
    + struct.pack(">I", 8)
    + b"free"
)


def _job_view(job: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in job.items() if not k.startswith("_")}


async def video_create(knobs: BreadthKnobs, request: Request) -> Response:
    # Jobs at OpenAI's POST /videos and the catalog page's POST /videos/generations;
    # `generations_only`: only at the latter (the SDK's POST /videos is not found).
    if knobs.broken("generations_only") and not request.url.path.endswith("/generations"):
        return error(knobs, request, 404, "Not found.", code="not_found")
    body = await request.json()
    if CATALOG.get(body.get("model"), ("",))[0] != "video":
        return error(
            knobs, request, 404, f"The model {body.get('model')!r} does not exist.", param="model"
        )
    job: dict[str, Any] = {
        "id": new_id(knobs, "video"),
        "object": "video",
        "model": body["model"],
        "status": "queued",
        "progress": 0,
        "created_at": int(time.time()),
        "completed_at": None,
        "expires_at": None,
        "prompt": body.get("prompt"),
        "size": "720x1280",
        "seconds": str(body.get("seconds", "4")),
        "remixed_from_video_id": None,
        "error": None,
        "_polls": 0,
        "_knobs": knobs,
    }
    _JOBS[job["id"]] = job
    view = _job_view(job)
    if knobs.broken("video_object"):
        view["object"] = "video.job"
    return respond(knobs, request, view)


_STEPS = (("in_progress", 40), ("in_progress", 80), ("completed", 100))
_BACKWARDS = (("in_progress", 40), ("queued", 0), ("completed", 100))


async def video_retrieve(knobs: BreadthKnobs, request: Request) -> Response:
    job = _JOBS.get(request.path_params["video_id"])
    if job is None:
        if knobs.broken("video_unknown_200"):
            return respond(
                knobs, request, {"id": request.path_params["video_id"], "object": "video"}
            )
        return error(knobs, request, 404, "No video found with that id.", param="video_id")
    steps = _BACKWARDS if knobs.broken("video_backwards") else _STEPS
    status, progress = steps[min(job["_polls"], len(steps) - 1)]
    job["_polls"] += 1
    job.update(status=status, progress=progress)
    if status == "completed":
        job["completed_at"] = int(time.time())
    return respond(knobs, request, _job_view(job))


async def video_content(knobs: BreadthKnobs, request: Request) -> Response:
    job = _JOBS.get(request.path_params["video_id"])
    if job is None or job["status"] != "completed":
        return error(knobs, request, 404, "No content for that video.", param="video_id")
    if knobs.broken("content_refused"):
        return error(knobs, request, 400, "Downloads are not offered.", param="video_id")
    body = b"GIF89a" + b"\x00" * 20 if knobs.broken("video_not_mp4") else _MP4
    media_type = "application/octet-stream" if knobs.quirk("octet_stream") else "video/mp4"
    return Response(body, headers=base_headers(knobs), media_type=media_type)
