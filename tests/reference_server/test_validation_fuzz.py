"""Regression tests for the request-validation deviations the fuzz area found.

Each finding gets a test that the server refuses the bad request with OpenAI's error object
(400 ``invalid_request_error`` naming the ``param``), and a legal-but-unusual neighbour the
server must keep accepting. Findings: (1) speech ``response_format`` of the wrong type was a
500; (2) a chat ``tool_choice`` of the wrong shape was a 500; (3) ``null`` was accepted in
fields the spec does not make nullable; (4) enums and ``maxLength`` went unchecked (images,
Responses input item ``type``, speech ``instructions``, video ``prompt``); (5) malformed chat
content parts were accepted; (6) Responses echoed ``parallel_tool_calls: null``.
"""

from __future__ import annotations

import builtins
from typing import Any

import httpx
import pytest

from reference_server.errors import GatewayError
from reference_server.validation import schemas as request_schemas

AUTH = {"authorization": "Bearer sk-parity-demo"}
USER = [{"role": "user", "content": "hi"}]
CHAT = {"model": "gpt-4o-mini", "messages": USER, "max_completion_tokens": 8}
RESPONSES = {"model": "gpt-4o-mini", "input": "hi", "max_output_tokens": 16}
SPEECH = {"model": "tts-1", "input": "hi", "voice": "alloy"}
IMAGES = {"model": "gpt-image-1", "prompt": "a cat", "size": "1024x1024"}
VIDEOS = {"model": "sora-2", "prompt": "a cat"}
EMBEDDINGS = {"model": "text-embedding-3-small", "input": "hi"}
WEATHER = {
    "type": "function",
    "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {}}},
}
WAV = b"RIFF0000WAVE" + b"\x00" * 100


def _post(origin: str, path: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{origin}/v1{path}", json=body, headers=AUTH, timeout=20)


def _refused(response: httpx.Response, param: str, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    error: dict[str, Any] = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param, error
    if code is not None:
        assert error["code"] == code, error
    assert param in error["message"]
    return error


# (1) speech response_format of the wrong type --------------------------------------------


@pytest.mark.parametrize(
    "value", [{}, ["mp3"], 3, None], ids=["object", "array", "integer", "null"]
)
def test_speech_response_format_wrong_type_is_400(origin: str, value: Any) -> None:
    response = _post(origin, "/audio/speech", {**SPEECH, "response_format": value})
    _refused(response, "response_format", "invalid_type")


def test_speech_response_format_string_still_served(origin: str) -> None:
    response = _post(origin, "/audio/speech", {**SPEECH, "response_format": "wav"})
    assert response.status_code == 200, response.text
    assert response.content.startswith(b"RIFF")


# (2) chat tool_choice of the wrong shape -------------------------------------------------


@pytest.mark.parametrize(
    ("choice", "param"),
    [
        ([{"type": "function", "function": {"name": "get_weather"}}], "tool_choice"),
        ({"type": "function", "function": ["get_weather"]}, "tool_choice.function"),
        ({"type": "function", "function": "get_weather"}, "tool_choice.function"),
        ({"type": "function"}, "tool_choice.function"),
        ({"type": "function", "function": {"name": 7}}, "tool_choice.function.name"),
        ({"type": "telepathy"}, "tool_choice.type"),
    ],
    ids=["list", "function-list", "function-string", "function-missing", "name-int", "type"],
)
def test_chat_tool_choice_wrong_shape_is_400(origin: str, choice: Any, param: str) -> None:
    body = {**CHAT, "tools": [WEATHER], "tool_choice": choice}
    _refused(_post(origin, "/chat/completions", body), param)


@pytest.mark.parametrize(
    "choice",
    [
        {"type": "function", "function": {"name": "get_weather"}},
        # Official members parity's spec omits (ChatCompletionAllowedToolsChoice): passed on.
        {"type": "allowed_tools", "allowed_tools": {"mode": "auto", "tools": [WEATHER]}},
    ],
    ids=["named", "allowed-tools"],
)
def test_chat_tool_choice_legal_shapes_served(origin: str, choice: Any) -> None:
    body = {**CHAT, "tools": [WEATHER], "tool_choice": choice}
    response = _post(origin, "/chat/completions", body)
    assert response.status_code == 200, response.text


# (3) null where the spec does not allow it -------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "param"),
    [
        ("/chat/completions", {**CHAT, "user": None}, "user"),
        ("/chat/completions", {**CHAT, "tools": None}, "tools"),
        ("/chat/completions", {**CHAT, "parallel_tool_calls": None}, "parallel_tool_calls"),
        (
            "/chat/completions",
            {**CHAT, "messages": [{"role": "user", "content": "hi", "name": None}]},
            "messages[0].name",
        ),
        ("/responses", {**RESPONSES, "tools": None}, "tools"),
        ("/responses", {**RESPONSES, "tool_choice": None}, "tool_choice"),
        ("/embeddings", {**EMBEDDINGS, "encoding_format": None}, "encoding_format"),
        ("/embeddings", {**EMBEDDINGS, "dimensions": None}, "dimensions"),
        ("/audio/speech", {**SPEECH, "speed": None}, "speed"),
        ("/audio/speech", {**SPEECH, "instructions": None}, "instructions"),
        ("/images/generations", {**IMAGES, "user": None}, "user"),
        ("/videos", {**VIDEOS, "size": None}, "size"),
        ("/videos", {**VIDEOS, "seconds": None}, "seconds"),
    ],
    ids=[
        "chat-user",
        "chat-tools",
        "chat-parallel-tool-calls",
        "chat-message-name",
        "responses-tools",
        "responses-tool-choice",
        "embeddings-encoding-format",
        "embeddings-dimensions",
        "speech-speed",
        "speech-instructions",
        "images-user",
        "videos-size",
        "videos-seconds",
    ],
)
def test_null_in_non_nullable_field_is_400(
    origin: str, path: str, body: dict[str, Any], param: str
) -> None:
    error = _refused(_post(origin, path, body), param, "invalid_type")
    assert "null" in error["message"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (
            "/chat/completions",
            {**CHAT, "temperature": None, "stop": None, "metadata": None, "service_tier": None},
        ),
        ("/responses", {**RESPONSES, "instructions": None, "parallel_tool_calls": None}),
        ("/images/generations", {**IMAGES, "quality": None, "n": None, "style": None}),
    ],
    ids=["chat", "responses", "images"],
)
def test_null_in_nullable_field_is_served(origin: str, path: str, body: dict[str, Any]) -> None:
    response = _post(origin, path, body)
    assert response.status_code == 200, response.text


# (4) enums and maxLength -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "param", "code"),
    [
        ("/images/generations", {**IMAGES, "moderation": "strict"}, "moderation", "invalid_value"),
        (
            "/responses",
            {**RESPONSES, "input": [{"type": "memo", "role": "user", "content": "hi"}]},
            "input[0].type",
            "invalid_value",
        ),
        (
            "/audio/speech",
            {**SPEECH, "instructions": "x" * 4097},
            "instructions",
            "string_above_max_length",
        ),
        ("/videos", {**VIDEOS, "prompt": "x" * 32001}, "prompt", "string_above_max_length"),
        ("/videos", {**VIDEOS, "prompt": ""}, "prompt", "string_below_min_length"),
    ],
    ids=[
        "images-moderation",
        "responses-item-type",
        "speech-instructions",
        "video-prompt-long",
        "video-prompt-empty",
    ],
)
def test_enum_and_length_limits_are_400(
    origin: str, path: str, body: dict[str, Any], param: str, code: str
) -> None:
    _refused(_post(origin, path, body), param, code)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/images/generations", {**IMAGES, "moderation": "low"}),
        ("/audio/speech", {**SPEECH, "instructions": "x" * 4096}),
        # An input item type parity's spec omits (FunctionCallOutputItemParam): passed on.
        (
            "/responses",
            {
                **RESPONSES,
                "input": [
                    {"role": "user", "content": [{"type": "input_text", "text": "hi"}]},
                    {"type": "function_call_output", "call_id": "call_1", "output": "{}"},
                ],
            },
        ),
    ],
    ids=["images-moderation", "speech-instructions-at-limit", "responses-official-item"],
)
def test_values_within_limits_are_served(origin: str, path: str, body: dict[str, Any]) -> None:
    response = _post(origin, path, body)
    assert response.status_code == 200, response.text


# (5) malformed chat content parts ----------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "param", "code"),
    [
        ({"role": "user", "content": [{"text": "hi"}]}, "type", "missing_required_parameter"),
        ({"role": "user", "content": [{"type": "hologram"}]}, "type", "invalid_value"),
        ({"role": "user", "content": [{"type": "text"}]}, "text", "missing_required_parameter"),
        ({"role": "user", "content": [{"type": "text", "text": 5}]}, "text", "invalid_type"),
        ({"role": "user", "content": [{"type": "text", "text": None}]}, "text", "invalid_type"),
        (
            {"role": "system", "content": [{"type": "image_url", "image_url": {"url": "x"}}]},
            "type",
            "invalid_value",
        ),
        ({"role": "user", "content": []}, None, "empty_array"),
    ],
    ids=[
        "no-type",
        "unknown-type",
        "text-missing",
        "text-int",
        "text-null",
        "image-in-system",
        "empty-parts",
    ],
)
def test_malformed_content_part_is_400(
    origin: str, message: dict[str, Any], param: str | None, code: str
) -> None:
    expected = "messages[0].content" + (f"[0].{param}" if param else "")
    body = {**CHAT, "messages": [message]}
    _refused(_post(origin, "/chat/completions", body), expected, code)


@pytest.mark.parametrize(
    "message",
    [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "what is this?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0K"}},
            ],
        },
        # ChatCompletionRequestMessageContentPartAudio: official, omitted by parity's spec.
        {"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": "UklG"}}]},
        {"role": "assistant", "content": [{"type": "refusal", "refusal": "no"}]},
    ],
    ids=["text-and-image", "official-audio-part", "assistant-refusal"],
)
def test_legal_content_parts_are_served(origin: str, message: dict[str, Any]) -> None:
    messages = [message] if message["role"] == "user" else [*USER, message, *USER]
    response = _post(origin, "/chat/completions", {**CHAT, "messages": messages})
    assert response.status_code == 200, response.text


# (6) Responses parallel_tool_calls is a boolean in the Response object -----------------


@pytest.mark.parametrize(
    ("sent", "echoed"), [(None, True), (False, False), (True, True)], ids=["null", "false", "true"]
)
def test_responses_parallel_tool_calls_echoed_as_boolean(
    origin: str, sent: bool | None, echoed: bool
) -> None:
    response = _post(origin, "/responses", {**RESPONSES, "parallel_tool_calls": sent})
    assert response.status_code == 200, response.text
    assert response.json()["parallel_tool_calls"] is echoed


# multipart forms: a scalar field sent twice ----------------------------------------------


def test_transcription_field_sent_twice_is_400(origin: str) -> None:
    response = httpx.post(
        f"{origin}/v1/audio/transcriptions",
        files=[
            ("file", ("a.wav", WAV, "audio/wav")),
            ("model", (None, "whisper-1")),
            ("language", (None, "en")),
            ("language", (None, "fr")),
        ],
        headers=AUTH,
        timeout=20,
    )
    _refused(response, "language", "invalid_type")


def test_transcription_granularities_repeat_is_served(origin: str) -> None:
    response = httpx.post(
        f"{origin}/v1/audio/transcriptions",
        files=[
            ("file", ("a.wav", WAV, "audio/wav")),
            ("model", (None, "whisper-1")),
            ("response_format", (None, "verbose_json")),
            ("timestamp_granularities[]", (None, "word")),
            ("timestamp_granularities[]", (None, "segment")),
        ],
        headers=AUTH,
        timeout=20,
    )
    assert response.status_code == 200, response.text


# the schema layer itself -----------------------------------------------------------------


def test_request_schemas_compile_every_component_once() -> None:
    first = request_schemas.load_request_schemas()
    assert set(first) == set(request_schemas.REQUEST_COMPONENTS)
    assert request_schemas.load_request_schemas() is first


def test_conform_refuses_without_the_compiled_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    # Without jsonschema_rs the pure-Python validator gives the verdict: same refusals.
    real_import = builtins.__import__

    def no_rust(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "jsonschema_rs":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_rust)
    request_schemas.load_request_schemas.cache_clear()
    try:
        request_schemas.conform(dict(CHAT), "CreateChatCompletionRequest")
        with pytest.raises(GatewayError) as caught:
            request_schemas.conform({**CHAT, "user": None}, "CreateChatCompletionRequest")
        assert caught.value.param == "user"
    finally:
        monkeypatch.undo()
        request_schemas.load_request_schemas.cache_clear()
