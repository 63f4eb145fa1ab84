"""A small, correct OpenAI-like server (models, chat, transcriptions), and the broken variants
that prove the fuzz layer fires.

The legal app validates every chat request against the spec's ``CreateChatCompletionRequest``
(400 with the OpenAI error object when it does not validate, 404 for an unknown model) and
answers with bodies and stream chunks shaped per OpenAI's API reference. Transcriptions read
their multipart fields as text, the way any form parser does (``temperature`` is a number when
its text is one), and validate that against ``CreateTranscriptionRequest``. Like many real
servers it serves the model list at ``GET /v1/models/`` too (no OpenAI route, so legal).
Each variant breaks exactly one thing:

- ``boundary_500``: 500 when ``stop`` holds 4 sequences, the documented maximum ("Up to 4
  sequences", API reference, Chat) -- an unusual but valid input;
- ``lax_ranges``: accepts out-of-range numbers (``temperature: 5``, ``n: 0``...);
- ``lax_patterns``: accepts names that break their ``pattern`` (a function named ``a b``);
- ``bad_seventh_chunk``: the 7th chunk of every stream says ``"object": "chat.completion"``;
- ``ghost_model``: ``GET /models`` lists a model first that ``GET /models/{model}`` cannot find.
"""

from __future__ import annotations

import json
from typing import Literal
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from conformance.schemas import schema_errors

Variant = Literal[
    "legal", "boundary_500", "lax_ranges", "lax_patterns", "bad_seventh_chunk", "ghost_model"
]

KEY = "sk-fuzz-test"
MODEL = "fake-chat"
TRANSCRIBER = "fake-whisper"
_CREATED = 1_700_000_000
_WORDS = ["Hello", " there", ",", " how", " can", " I", " help", " you", " today", "?"]
_RANGE_WORDS = ("maximum", "minimum")
_PATTERN_WORDS = ("does not match",)


def _error(status: int, message: str, kind: str, param: str | None = None) -> JSONResponse:
    body = {"error": {"message": message, "type": kind, "param": param, "code": None}}
    return JSONResponse(body, status_code=status)


def _url_errors(body: object) -> list[str]:
    """``image_url.url`` must be a URL (the spec says ``format: uri``; OpenAI refuses others)."""
    found: list[str] = []
    if isinstance(body, dict):
        for key, value in body.items():
            url = value.get("url") if key == "image_url" and isinstance(value, dict) else None
            if isinstance(url, str) and not urlsplit(url).scheme:
                found.append(f"image_url.url {url!r} is not a URL")
            found += _url_errors(value)
    elif isinstance(body, list):
        for item in body:
            found += _url_errors(item)
    return found


def _model() -> dict[str, object]:
    return {"id": MODEL, "object": "model", "created": _CREATED, "owned_by": "parity-tests"}


def build_app(variant: Variant = "legal") -> Starlette:
    def authorized(request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {KEY}"

    async def list_models(request: Request) -> Response:
        if not authorized(request):
            return _error(401, "Incorrect API key provided.", "invalid_request_error")
        ghost = [{**_model(), "id": "ghost-model"}] if variant == "ghost_model" else []
        return JSONResponse({"object": "list", "data": [*ghost, _model()]})

    async def retrieve_model(request: Request) -> Response:
        if not authorized(request):
            return _error(401, "Incorrect API key provided.", "invalid_request_error")
        if request.path_params["model"] == "":
            return await list_models(request)  # GET /v1/models/: the list, as many servers do
        if request.path_params["model"] != MODEL:
            return _error(404, "The model does not exist.", "invalid_request_error", "model")
        return JSONResponse(_model())

    async def chat(request: Request) -> Response:
        if not authorized(request):
            return _error(401, "Incorrect API key provided.", "invalid_request_error")
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media != "application/json":
            return _error(400, f"unsupported content type {media!r}", "invalid_request_error")
        try:
            body = json.loads(await request.body())
        except ValueError:
            return _error(400, "We could not parse the JSON body.", "invalid_request_error")
        errors = schema_errors("CreateChatCompletionRequest", body)
        errors += _url_errors(body)
        if variant == "lax_ranges":
            errors = [e for e in errors if not any(word in e for word in _RANGE_WORDS)]
        if variant == "lax_patterns":
            errors = [e for e in errors if not any(word in e for word in _PATTERN_WORDS)]
        if errors:
            return _error(400, errors[0], "invalid_request_error")
        if body["model"] != MODEL:
            return _error(404, "The model does not exist.", "invalid_request_error", "model")
        stop = body.get("stop")
        if variant == "boundary_500" and isinstance(stop, list) and len(stop) == 4:
            return _error(500, "The server had an error.", "server_error")
        # JSON Schema counts 1.0 as an integer: read numbers with int()
        limit = int(body.get("max_completion_tokens") or body.get("max_tokens") or 16)
        words = _WORDS[: max(1, min(limit, len(_WORDS)))]
        finish = "length" if limit < len(_WORDS) else "stop"
        n = int(body.get("n") or 1)
        usage = {
            "prompt_tokens": 5,
            "completion_tokens": len(words) * n,
            "total_tokens": 5 + len(words) * n,
        }
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            return StreamingResponse(
                _chunks(words, finish, n, usage if include_usage else None),
                media_type="text/event-stream",
            )
        choices = [
            {
                "index": index,
                "message": {"role": "assistant", "content": "".join(words), "refusal": None},
                "logprobs": None,
                "finish_reason": finish,
            }
            for index in range(n)
        ]
        return JSONResponse(
            {
                "id": "chatcmpl-fuzz",
                "object": "chat.completion",
                "created": _CREATED,
                "model": MODEL,
                "choices": choices,
                "usage": usage,
            }
        )

    async def _chunks(words: list[str], finish: str, n: int, usage: dict[str, int] | None):  # type: ignore[no-untyped-def]
        def chunk(choices: list[dict[str, object]], **extra: object) -> str:
            payload = {
                "id": "chatcmpl-fuzz",
                "object": "chat.completion.chunk",
                "created": _CREATED,
                "model": MODEL,
                "choices": choices,
                **extra,
            }
            return payload_line(payload)

        count = 0

        def payload_line(payload: dict[str, object]) -> str:
            nonlocal count
            count += 1
            if variant == "bad_seventh_chunk" and count == 7:
                payload = {**payload, "object": "chat.completion"}
            return f"data: {json.dumps(payload)}\n\n"

        tail = {"usage": None} if usage is not None else {}
        for index in range(n):
            delta = {"role": "assistant", "content": ""}
            yield chunk([{"index": index, "delta": delta, "finish_reason": None}], **tail)
            for word in words:
                yield chunk(
                    [{"index": index, "delta": {"content": word}, "finish_reason": None}], **tail
                )
            yield chunk([{"index": index, "delta": {}, "finish_reason": finish}], **tail)
        if usage is not None:
            yield chunk([], usage=usage)
        yield "data: [DONE]\n\n"

    async def transcribe(request: Request) -> Response:
        if not authorized(request):
            return _error(401, "Incorrect API key provided.", "invalid_request_error")
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media != "multipart/form-data":
            return _error(400, f"unsupported content type {media!r}", "invalid_request_error")
        try:
            form = await request.form()
        except (HTTPException, MultiPartException, ValueError) as exc:
            return _error(400, f"could not parse the form: {exc}", "invalid_request_error")
        fields, error = _read_form(form)
        if error is not None:
            return _error(400, error, "invalid_request_error")
        errors = schema_errors("CreateTranscriptionRequest", fields)
        if errors:
            return _error(400, errors[0], "invalid_request_error")
        if fields["model"] != TRANSCRIBER:
            return _error(404, "The model does not exist.", "invalid_request_error", "model")
        text = "Hello there."
        response_format = fields.get("response_format", "json")
        if response_format in ("text", "srt", "vtt"):
            return Response(text, media_type="text/plain")
        if response_format == "verbose_json":
            return JSONResponse({"language": "english", "duration": 0.5, "text": text})
        return JSONResponse({"text": text})

    return Starlette(
        routes=[
            Route("/v1/models", list_models),
            Route("/v1/models/{model:path}", retrieve_model),
            Route("/v1/chat/completions", chat, methods=["POST"]),
            Route("/v1/audio/transcriptions", transcribe, methods=["POST"]),
        ]
    )


def _read_form(form: FormData) -> tuple[dict[str, object], str | None]:
    """The form's fields as a server reads them: text, a number for ``temperature``, a list
    for the repeated ``timestamp_granularities`` (the SDK sends ``timestamp_granularities[]``)."""
    fields: dict[str, object] = {}
    for key in set(form.keys()):
        values = form.getlist(key)
        name = key.removesuffix("[]")
        if name == "file":
            if not isinstance(values[-1], UploadFile):
                return fields, "'file' must be a file upload, not a text field"
            fields["file"] = "<audio>"
        elif name == "timestamp_granularities":
            fields[name] = [str(v) for v in values]
        elif name == "temperature":
            try:
                fields[name] = float(str(values[-1]))
            except ValueError:
                return fields, f"Invalid type for 'temperature': {values[-1]!r} is not a number"
        else:
            fields[name] = str(values[-1])
    return fields, None
