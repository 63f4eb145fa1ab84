"""Every failure leaves as OpenAI's error object with the right status and an x-request-id."""

from __future__ import annotations

import httpx
import openai
import pytest

from reference_server.app import create_app
from reference_server.config import settings_from_mapping
from tests.live import serve

AUTH = {"authorization": "Bearer sk-parity-demo"}
CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}


def _assert_error(
    response: httpx.Response, status: int, code: str | None = None, param: str | None = None
) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["x-request-id"].startswith("req_")
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert isinstance(error["message"], str)
    assert error["message"]
    assert "Traceback" not in response.text
    if code is not None:
        assert error["code"] == code
    if param is not None:
        assert error["param"] == param
    return error


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({**CHAT, "temperature": 2.5}, "temperature"),
        ({**CHAT, "temperature": "hot"}, "temperature"),
        ({**CHAT, "n": 0}, "n"),
        ({**CHAT, "top_logprobs": 21, "logprobs": True}, "top_logprobs"),
        ({**CHAT, "top_p": 1.1}, "top_p"),
        ({**CHAT, "max_tokens": 0}, "max_tokens"),
        ({**CHAT, "stop": ["a", "b", "c", "d", "e"]}, "stop"),
        ({**CHAT, "stream_options": {"include_usage": True}}, "stream_options"),
        ({**CHAT, "tool_choice": "required"}, "tool_choice"),
        ({"model": "gpt-4o"}, "messages"),
        ({"model": "gpt-4o", "messages": []}, "messages"),
        ({"model": "gpt-4o", "messages": "hi"}, "messages"),
        ({"model": "gpt-4o", "messages": [{"content": "x"}]}, "messages[0].role"),
        ({"model": "gpt-4o", "messages": [{"role": "wizard", "content": "x"}]}, "messages[0].role"),
        ({"model": 42, "messages": [{"role": "user", "content": "x"}]}, "model"),
        ({**CHAT, "response_format": {"type": "xml"}}, "type"),
        ({**CHAT, "reasoning_effort": "extreme"}, "reasoning_effort"),
    ],
    ids=[
        "temperature-high",
        "temperature-type",
        "n-zero",
        "top-logprobs",
        "top-p",
        "max-tokens-zero",
        "stop-too-many",
        "stream-options-without-stream",
        "tool-choice-without-tools",
        "messages-missing",
        "messages-empty",
        "messages-type",
        "role-missing",
        "role-unknown",
        "model-type",
        "response-format",
        "reasoning-effort",
    ],
)
def test_chat_invalid_input_is_400_naming_param(origin: str, body: dict, param: str) -> None:
    response = httpx.post(f"{origin}/v1/chat/completions", json=body, headers=AUTH)
    error = _assert_error(response, 400)
    assert error["type"] == "invalid_request_error"
    assert error["param"] is not None
    assert param in error["param"]


def test_malformed_json_is_400(origin: str) -> None:
    response = httpx.post(f"{origin}/v1/chat/completions", content=b'{"model": ', headers=AUTH)
    _assert_error(response, 400, "invalid_json")


def test_unknown_extra_params_are_tolerated(origin: str) -> None:
    response = httpx.post(
        f"{origin}/v1/chat/completions", json={**CHAT, "vendor_knob": {"x": 1}}, headers=AUTH
    )
    assert response.status_code == 200


def test_missing_key_is_401(origin: str) -> None:
    _assert_error(httpx.post(f"{origin}/v1/chat/completions", json=CHAT), 401)


def test_invalid_key_is_401_before_body_validation(origin: str) -> None:
    response = httpx.post(
        f"{origin}/v1/chat/completions", content=b"{", headers={"authorization": "Bearer sk-wrong"}
    )
    _assert_error(response, 401, "invalid_api_key")


def test_key_without_scope_is_403() -> None:
    settings = settings_from_mapping(
        {"keys": [{"id": "ro", "secret": "sk-read-only-key", "scopes": ["catalog:read"]}]}
    )
    with serve(create_app(settings)) as origin:
        response = httpx.post(
            f"{origin}/v1/chat/completions",
            json=CHAT,
            headers={"authorization": "Bearer sk-read-only-key"},
        )
        _assert_error(response, 403)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/chat/completions", {**CHAT, "model": "no-such-model"}),
        ("/v1/chat/completions", {**CHAT, "model": "no-such-model", "stream": True}),
        ("/v1/embeddings", {"model": "no-such-model", "input": "x"}),
        ("/v1/images/generations", {"model": "no-such-model", "prompt": "x"}),
        ("/v1/audio/speech", {"model": "no-such-model", "input": "x", "voice": "alloy"}),
        ("/v1/responses", {"model": "no-such-model", "input": "x"}),
    ],
    ids=["chat", "chat-stream", "embeddings", "images", "speech", "responses"],
)
def test_unknown_model_is_404_model_not_found(origin: str, path: str, body: dict) -> None:
    _assert_error(
        httpx.post(f"{origin}{path}", json=body, headers=AUTH), 404, "model_not_found", "model"
    )


def test_wrong_category_model_is_400(origin: str) -> None:
    response = httpx.post(
        f"{origin}/v1/chat/completions",
        json={**CHAT, "model": "text-embedding-3-small"},
        headers=AUTH,
    )
    _assert_error(response, 400, "model_not_supported", "model")


def test_unknown_path_is_404_and_wrong_method_405(origin: str) -> None:
    _assert_error(httpx.get(f"{origin}/v1/nope", headers=AUTH), 404)
    _assert_error(httpx.get(f"{origin}/v1/chat/completions", headers=AUTH), 405)


def test_oversized_body_is_413_by_length_and_by_stream() -> None:
    settings = settings_from_mapping({"server": {"max_body_bytes": 2048}})
    with serve(create_app(settings)) as origin:
        big = {**CHAT, "messages": [{"role": "user", "content": "x" * 4000}]}
        _assert_error(
            httpx.post(f"{origin}/v1/chat/completions", json=big, headers=AUTH),
            413,
            "request_too_large",
        )

        def chunks():  # no Content-Length: chunked transfer
            for _ in range(8):
                yield b" " * 1024

        response = httpx.post(f"{origin}/v1/chat/completions", content=chunks(), headers=AUTH)
        _assert_error(response, 413, "request_too_large")


def test_upstream_429_is_429_with_retry_after() -> None:
    settings = settings_from_mapping(
        {
            "providers": {"flaky": {"type": "synthetic", "faults": {"rate_limit_rate": 1.0}}},
            "models": [
                {
                    "name": "m",
                    "category": "text",
                    "input_per_mtok": 1,
                    "output_per_mtok": 2,
                    "deployments": [{"provider": "flaky", "model": "m"}],
                }
            ],
            "default_model": "m",
        }
    )
    with serve(create_app(settings)) as origin:
        response = httpx.post(
            f"{origin}/v1/chat/completions", json={**CHAT, "model": "m"}, headers=AUTH
        )
        _assert_error(response, 429, "rate_limit_exceeded")
        assert int(response.headers["retry-after"]) >= 1
        client = openai.OpenAI(base_url=f"{origin}/v1", api_key="sk-parity-demo", max_retries=0)
        with pytest.raises(openai.RateLimitError):
            client.chat.completions.create(model="m", messages=CHAT["messages"])  # type: ignore[arg-type]


def test_upstream_failure_is_502_and_never_a_traceback() -> None:
    settings = settings_from_mapping(
        {
            "providers": {"broken": {"type": "synthetic", "faults": {"error_rate": 1.0}}},
            "models": [
                {
                    "name": "m",
                    "category": "text",
                    "input_per_mtok": 1,
                    "output_per_mtok": 2,
                    "deployments": [{"provider": "broken", "model": "m"}],
                }
            ],
            "default_model": "m",
        }
    )
    with serve(create_app(settings)) as origin:
        _assert_error(
            httpx.post(f"{origin}/v1/chat/completions", json={**CHAT, "model": "m"}, headers=AUTH),
            502,
        )


def test_request_ids_are_unique(origin: str) -> None:
    ids = {httpx.get(f"{origin}/api/models").headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5


@pytest.mark.parametrize(
    ("path", "body", "param"),
    [
        ("/v1/embeddings", {"model": "text-embedding-3-small", "input": ""}, "input"),
        ("/v1/embeddings", {"model": "text-embedding-3-small", "input": [1, "a"]}, "input"),
        (
            "/v1/embeddings",
            {"model": "text-embedding-3-small", "input": "x", "encoding_format": "int8"},
            "encoding_format",
        ),
        ("/v1/images/generations", {"model": "gpt-image-1", "prompt": "x", "n": 11}, "n"),
        ("/v1/images/generations", {"model": "gpt-image-1", "prompt": "x", "size": "7x7"}, "size"),
        (
            "/v1/audio/speech",
            {"model": "tts-1", "input": "x", "voice": "alloy", "speed": 9},
            "speed",
        ),
        ("/v1/audio/speech", {"model": "tts-1", "input": "x"}, "voice"),
        (
            "/v1/responses",
            {"model": "gpt-4o", "input": "x", "previous_response_id": "resp_1"},
            "previous_response_id",
        ),
        (
            "/v1/responses",
            {"model": "gpt-4o", "input": "x", "max_output_tokens": 3},
            "max_output_tokens",
        ),
    ],
    ids=[
        "emb-empty",
        "emb-mixed",
        "emb-format",
        "img-n",
        "img-size",
        "speech-speed",
        "speech-voice",
        "resp-previous",
        "resp-max",
    ],
)
def test_other_endpoints_invalid_input_is_400(
    origin: str, path: str, body: dict, param: str
) -> None:
    _assert_error(httpx.post(f"{origin}{path}", json=body, headers=AUTH), 400, param=param)


def test_transcription_granularities_without_verbose_json_are_ignored(origin: str) -> None:
    files = {"file": ("a.wav", b"RIFF0000WAVE" + b"\x00" * 100, "audio/wav")}
    data = {"model": "whisper-1", "timestamp_granularities[]": "word"}
    response = httpx.post(f"{origin}/v1/audio/transcriptions", files=files, data=data, headers=AUTH)
    assert response.status_code == 200
    assert set(response.json()) == {"text", "usage"}


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "text-embedding-3-small", "input": "x", "dimensions": 1537}, "dimensions"),
        ({"model": "text-embedding-3-large", "input": "x", "dimensions": 2**31 - 1}, "dimensions"),
    ],
    ids=["small-over-native", "huge"],
)
def test_embeddings_dimensions_above_native_are_400_fast(
    origin: str, body: dict, param: str
) -> None:
    _assert_error(
        httpx.post(f"{origin}/v1/embeddings", json=body, headers=AUTH, timeout=5), 400, param=param
    )


def test_explicit_null_model_is_400_but_absent_uses_default(origin: str) -> None:
    response = httpx.post(
        f"{origin}/v1/responses", json={"model": None, "input": "x"}, headers=AUTH
    )
    _assert_error(response, 400, param="model")
    assert (
        httpx.post(f"{origin}/v1/responses", json={"input": "x"}, headers=AUTH).status_code == 200
    )


def test_transcription_of_a_non_audio_file_is_400(origin: str) -> None:
    files = {"file": ("a.wav", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "audio/wav")}
    response = httpx.post(
        f"{origin}/v1/audio/transcriptions", files=files, data={"model": "whisper-1"}, headers=AUTH
    )
    error = _assert_error(response, 400, param="file")
    assert "Invalid file format" in error["message"]
