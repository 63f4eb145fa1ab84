"""Embeddings, images, audio (speech, transcriptions) and video job endpoints.

Each endpoint reads its request into a :class:`~reference_server.gateway.flow.Job` (JSON body or
multipart form, validated, its input measured for admission), hands it to ``Gateway.serve``
and renders the settled :class:`~reference_server.gateway.flow.Answer`: JSON, or bytes of its
media type. Generated images and videos are read back by ``GET`` without the flow (their
names are their capabilities).

Must not: hold routing or billing rules (``gateway/``).
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response

from reference_server.controls.base import EndpointName
from reference_server.endpoints.http import gateway_of, json_response, read_json, request_id
from reference_server.errors import GatewayError, invalid_request
from reference_server.gateway.aliases import ABSENT
from reference_server.gateway.flow import Answer, Job
from reference_server.providers.base import Upload
from reference_server.providers.media import mp4_bytes
from reference_server.providers.media_synthesis import (
    decode_video_id,
    image_file,
    upload_seconds,
    video_body,
)
from reference_server.tokens import count_tokens, embedding_tokens
from reference_server.validation.media import (
    validate_audio_file,
    validate_embeddings,
    validate_images,
    validate_speech,
    validate_transcription,
    validate_videos,
)

__all__ = [
    "embeddings",
    "image_file_get",
    "images_generations",
    "speech",
    "transcriptions",
    "video_content",
    "video_retrieve",
    "videos_create",
]


async def _serve(request: Request, read: Callable[[Request], Awaitable[Job]]) -> Answer:
    served = await gateway_of(request).serve(
        request.headers.get("authorization"), lambda: read(request)
    )
    assert isinstance(served, Answer)  # media jobs never stream
    return served


def _job(
    request: Request,
    endpoint: EndpointName,
    body: dict[str, Any],
    *,
    input_tokens: int,
    max_output_tokens: int | None = None,
    upload: Upload | None = None,
    units: float = 0.0,
    variant: str = "",
) -> Job:
    return Job(
        endpoint,
        request_id(request),
        body.get("model", ABSENT),
        body,
        input_tokens,
        max_output_tokens,
        upload=upload,
        units=units,
        variant=variant,
    )


def _renamed(answer: Answer, request: Request) -> dict[str, Any]:
    """The JSON answer, reporting the model asked for (``server.response_model: asked``)."""
    payload = dict(answer.reply.body or {})
    if "model" in payload and gateway_of(request).settings.server.response_model == "asked":
        payload["model"] = answer.model
    return payload


def _bytes(answer: Answer) -> Response:
    reply = answer.reply
    return Response(reply.content or b"", media_type=reply.media_type, headers=dict(answer.headers))


async def _embeddings_job(request: Request) -> Job:
    body = await read_json(request)
    validate_embeddings(body)
    return _job(request, "embeddings", body, input_tokens=embedding_tokens(body["input"]))


async def embeddings(request: Request) -> Response:
    answer = await _serve(request, _embeddings_job)
    return json_response(_renamed(answer, request), headers=answer.headers)


async def _images_job(request: Request) -> Job:
    body = await read_json(request)
    if "model" not in body and gateway_of(request).settings.model("dall-e-2") is not None:
        body["model"] = "dall-e-2"  # OpenAI's default image model
    validate_images(body)
    origin = f"{request.url.scheme}://{request.url.netloc}"
    n = int(body.get("n") or 1)
    return _job(
        request,
        "images",
        {**body, "_origin": origin},
        input_tokens=count_tokens(body["prompt"]),
        max_output_tokens=n * 408,
        units=float(n),  # billed per image, by size (OpenAI's image pricing)
        variant=str(body.get("size") or "auto"),
    )


async def images_generations(request: Request) -> Response:
    answer = await _serve(request, _images_job)
    return json_response(dict(answer.reply.body or {}), headers=answer.headers)


async def image_file_get(request: Request) -> Response:
    # Public like a signed URL: the name is the capability (OpenAI image URLs need no key).
    content = image_file(request.path_params["name"])
    if content is None:
        raise GatewayError(404, f"No image file {request.path_params['name']!r}.", code="not_found")
    return Response(
        content, media_type="image/png", headers={"cache-control": "public, max-age=3600"}
    )


async def _speech_job(request: Request) -> Job:
    body = await read_json(request)
    validate_speech(body)
    # Billed per character of input (OpenAI's TTS pricing).
    characters = len(body["input"])
    return _job(request, "speech", body, input_tokens=characters, units=float(characters))


async def speech(request: Request) -> Response:
    return _bytes(await _serve(request, _speech_job))


def _form_fields(form: FormData, *, skip: tuple[str, ...]) -> dict[str, Any]:
    """A multipart form's text fields; 400 for one sent twice or sent as a file (a scalar
    field of the request schema is one string, and only the ``skip`` fields may differ)."""
    fields: dict[str, Any] = {}
    for name in dict.fromkeys(form.keys()):
        if name in skip:
            continue
        values = form.getlist(name)
        if len(values) > 1:
            raise invalid_request(
                f"Invalid type for '{name}': expected one value, but the form sends it "
                f"{len(values)} times.",
                name,
                "invalid_type",
            )
        if not isinstance(values[0], str):
            raise invalid_request(
                f"Invalid type for '{name}': expected a string, but got a file "
                f"({values[0].filename!r:.60}).",
                name,
                "invalid_type",
            )
        fields[name] = values[0]
    return fields


async def _transcription_job(request: Request) -> Job:
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise invalid_request(
            f"Expected a multipart/form-data body, got Content-Type {content_type!r}.",
            "file",
            "invalid_content_type",
        )
    try:
        form = await request.form(max_files=1, max_fields=64)
    except (ValueError, KeyError, AssertionError) as exc:
        raise invalid_request(
            f"Malformed multipart body: {exc}", "file", "invalid_multipart"
        ) from None
    file = form.get("file")
    if not isinstance(file, UploadFile):
        raise invalid_request(
            "Missing required parameter: 'file'.", "file", "missing_required_parameter"
        )
    # The SDK sends array fields in bracket form: timestamp_granularities[]=word (one per value).
    arrays = ("timestamp_granularities[]", "timestamp_granularities")
    fields: dict[str, Any] = _form_fields(form, skip=("file", *arrays))
    granularities = [*form.getlist(arrays[0]), *form.getlist(arrays[1])]
    if any(not isinstance(g, str) for g in granularities):
        raise invalid_request(
            "Invalid type for 'timestamp_granularities': expected strings, but got a file.",
            "timestamp_granularities",
            "invalid_type",
        )
    if granularities:
        fields["timestamp_granularities"] = granularities
    if "temperature" in fields:
        try:
            fields["temperature"] = float(fields["temperature"])
        except ValueError:
            raise invalid_request(
                f"Invalid type for 'temperature': expected a number, got {fields['temperature']!r}.",
                "temperature",
                "invalid_type",
            ) from None
    # The upload stands for the binary `file` of CreateTranscriptionRequest (its name: the
    # bytes themselves are judged by validate_audio_file).
    validate_transcription({**fields, "file": file.filename or "audio"})
    data = await file.read()
    validate_audio_file(data)
    upload = Upload(file.filename or "audio", data, file.content_type or "application/octet-stream")
    # Billed per second of audio (OpenAI prices Whisper per minute): the upload's length.
    seconds = upload_seconds(data)
    return _job(
        request,
        "transcriptions",
        fields,
        input_tokens=max(1, math.ceil(seconds)),
        upload=upload,
        units=seconds,
    )


async def transcriptions(request: Request) -> Response:
    answer = await _serve(request, _transcription_job)
    if answer.reply.body is not None:
        return json_response(dict(answer.reply.body), headers=answer.headers)
    return _bytes(answer)


async def _video_job(request: Request) -> Job:
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        try:
            form = await request.form(max_files=2, max_fields=32)
        except (ValueError, KeyError, AssertionError) as exc:
            raise invalid_request(
                f"Malformed multipart body: {exc}", None, "invalid_multipart"
            ) from None
        # `input_reference` (an image) is its one file field (official CreateVideoMultipartBody).
        body: dict[str, Any] = _form_fields(form, skip=("input_reference",))
    else:
        body = await read_json(request)
    body.setdefault("model", "sora-2")
    validate_videos(body)
    # Billed per second of video (OpenAI's Sora pricing); `seconds` defaults to 4.
    seconds = float(body.get("seconds") or 4)
    return _job(request, "videos", body, input_tokens=count_tokens(body["prompt"]), units=seconds)


async def videos_create(request: Request) -> Response:
    answer = await _serve(request, _video_job)
    return json_response(_renamed(answer, request), headers=answer.headers)


def _video(request: Request) -> dict[str, Any]:
    ident = request.path_params["video_id"]
    body = video_body(ident, "sora-2", None)
    if body is None:
        raise GatewayError(
            404, f"No video found with id {ident!r}.", param="video_id", code="not_found"
        )
    return body


async def video_retrieve(request: Request) -> Response:
    await gateway_of(request).authenticate(request.headers.get("authorization"))
    return json_response(_video(request))


async def video_content(request: Request) -> Response:
    await gateway_of(request).authenticate(request.headers.get("authorization"))
    body = _video(request)
    variant = request.query_params.get("variant", "video")
    if variant != "video":
        raise invalid_request(
            f"Invalid value for 'variant': {variant!r}. This server serves only 'video' "
            "(thumbnail and spritesheet previews are not produced).",
            "variant",
            "unsupported_value",
        )
    decoded = decode_video_id(body["id"])
    assert decoded is not None
    return Response(mp4_bytes(decoded[1]), media_type="video/mp4")
