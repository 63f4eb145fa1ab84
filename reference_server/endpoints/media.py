"""Embeddings, images, audio (speech, transcriptions) and video job endpoints.

Must not: hold routing or billing rules (``gateway/``).
"""

from __future__ import annotations

import math
from typing import Any

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response

from reference_server.endpoints.http import gateway_of, json_response, read_json, request_id
from reference_server.errors import GatewayError, invalid_request
from reference_server.gateway.aliases import resolve
from reference_server.providers.base import Call, Endpoint, Upload
from reference_server.providers.media import mp4_bytes
from reference_server.providers.media_synthesis import decode_video_id, image_file, video_body
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


async def _serve(
    request: Request,
    endpoint: Endpoint,
    body: dict[str, Any],
    *,
    input_tokens: int,
    max_output_tokens: int | None = None,
    upload: Upload | None = None,
    principal: Any,
) -> Any:
    gateway = gateway_of(request)
    entry = resolve(gateway.settings, body.get("model"), endpoint)
    rid = request_id(request)
    ticket = await gateway.admit(
        principal,
        request_id=rid,
        endpoint=endpoint,
        asked=entry.name,
        entry=entry,
        input_tokens=input_tokens,
        max_output_tokens=max_output_tokens,
        streaming=False,
    )
    return await gateway.complete(ticket, entry, Call(endpoint, entry.name, body, upload, rid))


def _rename(payload: dict[str, Any], asked: str, request: Request) -> dict[str, Any]:
    if "model" in payload and gateway_of(request).settings.server.response_model == "asked":
        payload["model"] = asked
    return payload


async def embeddings(request: Request) -> Response:
    principal = await gateway_of(request).authenticate(request.headers.get("authorization"))
    body = await read_json(request)
    validate_embeddings(body)
    tokens = embedding_tokens(body["input"])
    answer = await _serve(request, "embeddings", body, input_tokens=tokens, principal=principal)
    return json_response(
        _rename(dict(answer.reply.body), body["model"], request), headers=answer.headers
    )


async def images_generations(request: Request) -> Response:
    principal = await gateway_of(request).authenticate(request.headers.get("authorization"))
    body = await read_json(request)
    if "model" not in body and gateway_of(request).settings.model("dall-e-2") is not None:
        body["model"] = "dall-e-2"  # OpenAI's default image model
    validate_images(body)
    origin = f"{request.url.scheme}://{request.url.netloc}"
    forwarded = {**body, "_origin": origin}
    n = int(body.get("n") or 1)
    answer = await _serve(
        request,
        "images",
        forwarded,
        input_tokens=count_tokens(body["prompt"]),
        max_output_tokens=n * 408,
        principal=principal,
    )
    return json_response(dict(answer.reply.body), headers=answer.headers)


async def image_file_get(request: Request) -> Response:
    # Public like a signed URL: the name is the capability (OpenAI image URLs need no key).
    content = image_file(request.path_params["name"])
    if content is None:
        raise GatewayError(404, f"No image file {request.path_params['name']!r}.", code="not_found")
    return Response(
        content, media_type="image/png", headers={"cache-control": "public, max-age=3600"}
    )


async def speech(request: Request) -> Response:
    principal = await gateway_of(request).authenticate(request.headers.get("authorization"))
    body = await read_json(request)
    validate_speech(body)
    answer = await _serve(
        request, "speech", body, input_tokens=len(body["input"]), principal=principal
    )
    reply = answer.reply
    return Response(reply.content or b"", media_type=reply.media_type, headers=dict(answer.headers))


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


async def transcriptions(request: Request) -> Response:
    principal = await gateway_of(request).authenticate(request.headers.get("authorization"))
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
    seconds_estimate = max(1, math.ceil(len(data) / 16_000))
    answer = await _serve(
        request,
        "transcriptions",
        fields,
        input_tokens=seconds_estimate,
        upload=upload,
        principal=principal,
    )
    reply = answer.reply
    if reply.body is not None:
        return json_response(dict(reply.body), headers=answer.headers)
    return Response(reply.content or b"", media_type=reply.media_type, headers=dict(answer.headers))


async def videos_create(request: Request) -> Response:
    principal = await gateway_of(request).authenticate(request.headers.get("authorization"))
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
    answer = await _serve(
        request, "videos", body, input_tokens=count_tokens(body["prompt"]), principal=principal
    )
    return json_response(
        _rename(dict(answer.reply.body), body["model"], request), headers=answer.headers
    )


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
