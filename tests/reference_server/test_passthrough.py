"""The ``openai`` passthrough provider: a reference server fronting other reference servers."""

from __future__ import annotations

import io
import itertools
import json
import time
import wave
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from reference_server.app import create_app
from reference_server.config import settings_from_mapping
from tests.live import free_port, serve

AUTH = {"authorization": "Bearer sk-parity-demo"}
MESSAGES = [{"role": "user", "content": "hello"}]


def _upstream(provider: dict[str, Any] | None = None) -> Any:
    raw: dict[str, Any] = {}
    if provider is not None:
        raw = {
            "providers": {
                "synthetic": {"type": "synthetic", **provider},
                "synthetic-fallback": {"type": "synthetic"},
            }
        }
    return create_app(settings_from_mapping(raw))


def _gateway(*bases: str) -> Any:
    providers = {
        f"up{i}": {
            "type": "openai",
            "base_url": f"{b}/v1",
            "api_key": "sk-parity-demo",
            "timeout_s": 5,
        }
        for i, b in enumerate(bases)
    }
    deployments = [
        {"name": f"up{i}", "provider": f"up{i}", "model": "gpt-4o"} for i in range(len(bases))
    ]
    return create_app(
        settings_from_mapping(
            {
                "providers": providers,
                "models": [
                    {
                        "name": "smart",
                        "category": "text",
                        "input_per_mtok": 2.5,
                        "output_per_mtok": 10,
                        "deployments": deployments,
                    },
                    {
                        "name": "text-embedding-3-small",
                        "category": "embedding",
                        "input_per_mtok": 0.02,
                        "deployments": [{"provider": "up0", "model": "text-embedding-3-small"}],
                    },
                    {
                        "name": "tts-1",
                        "category": "audio",
                        "per_character": 0.000015,
                        "deployments": [{"provider": "up0", "model": "tts-1"}],
                    },
                    {
                        # Speech the upstream refuses: gpt-4o does not serve that endpoint.
                        "name": "tts-misrouted",
                        "category": "audio",
                        "supports": ["speech"],
                        "per_character": 0.000015,
                        "deployments": [{"provider": "up0", "model": "gpt-4o"}],
                    },
                    {
                        "name": "whisper-1",
                        "category": "audio",
                        "supports": ["audio_transcription"],
                        "per_second": 0.0001,
                        "deployments": [{"provider": "up0", "model": "whisper-1"}],
                    },
                ],
                "default_model": "smart",
            }
        )
    )


@pytest.fixture(scope="module")
def chain() -> Iterator[tuple[str, openai.OpenAI]]:
    with serve(_upstream()) as upstream, serve(_gateway(upstream)) as gateway:
        yield (
            upstream,
            openai.OpenAI(base_url=f"{gateway}/v1", api_key="sk-parity-demo", max_retries=0),
        )


def test_passthrough_chat_matches_upstream(chain: tuple[str, openai.OpenAI]) -> None:
    upstream, client = chain
    direct = openai.OpenAI(base_url=f"{upstream}/v1", api_key="sk-parity-demo", max_retries=0)
    via = client.chat.completions.create(model="smart", messages=MESSAGES)  # type: ignore[arg-type]
    same = direct.chat.completions.create(model="gpt-4o", messages=MESSAGES)  # type: ignore[arg-type]
    assert via.model == "smart"
    assert via.choices[0].message.content == same.choices[0].message.content
    assert via.usage == same.usage


def test_passthrough_stream_with_and_without_usage(chain: tuple[str, openai.OpenAI]) -> None:
    _, client = chain
    chunks = list(client.chat.completions.create(model="smart", messages=MESSAGES, stream=True))  # type: ignore[arg-type]
    assert all(c.choices for c in chunks)  # the usage chunk the gateway asked for is not passed on
    with_usage = list(
        client.chat.completions.create(
            model="smart",
            messages=MESSAGES,
            stream=True,
            stream_options={"include_usage": True},  # type: ignore[arg-type]
        )
    )
    assert with_usage[-1].usage is not None
    assert with_usage[-1].choices == []
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "".join(
        c.choices[0].delta.content or "" for c in with_usage if c.choices
    )


def test_passthrough_embeddings_speech_and_transcription(chain: tuple[str, openai.OpenAI]) -> None:
    _, client = chain
    assert (
        len(client.embeddings.create(model="text-embedding-3-small", input="x").data[0].embedding)
        == 1536
    )
    audio = client.audio.speech.create(
        model="tts-1", voice="alloy", input="Hello there.", response_format="wav"
    )
    with wave.open(io.BytesIO(audio.content)) as reader:
        assert reader.getframerate() == 24000
    result = client.audio.transcriptions.create(
        model="whisper-1",
        file=("a.wav", audio.content),
        response_format="verbose_json",
        timestamp_granularities=["word"],
    )
    assert result.words


def test_passthrough_upstream_400_keeps_its_error(chain: tuple[str, openai.OpenAI]) -> None:
    _, client = chain
    with pytest.raises(openai.BadRequestError) as caught:
        client.audio.speech.create(model="tts-misrouted", voice="alloy", input="x")
    assert caught.value.code == "model_not_supported"
    assert "'gpt-4o'" in caught.value.message


def test_passthrough_falls_back_from_a_dead_or_limited_upstream() -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    with (
        serve(_upstream({"faults": {"rate_limit_rate": 1.0}})) as limited,
        serve(_upstream()) as healthy,
    ):
        with serve(_gateway(dead, limited, healthy)) as gateway:
            response = httpx.post(
                f"{gateway}/v1/chat/completions", json={"messages": MESSAGES}, headers=AUTH
            )
            assert response.status_code == 200
            assert response.headers["x-parity-deployment"] == "up2"
        with serve(_gateway(dead)) as gateway:
            response = httpx.post(
                f"{gateway}/v1/chat/completions", json={"messages": MESSAGES}, headers=AUTH
            )
            assert response.status_code == 502
            assert response.json()["error"]["code"] == "upstream_error"
        with serve(_gateway(limited)) as gateway:
            response = httpx.post(
                f"{gateway}/v1/chat/completions", json={"messages": MESSAGES}, headers=AUTH
            )
            assert response.status_code == 429
            assert response.headers["retry-after"] == "1"


def test_passthrough_relays_stream_events_as_they_arrive() -> None:
    with (
        serve(_upstream({"itl_ms": 150, "output_tokens": 4})) as upstream,
        serve(_gateway(upstream)) as gateway,
    ):
        arrivals: list[float] = []
        body = {"messages": MESSAGES, "stream": True}
        with httpx.stream(
            "POST", f"{gateway}/v1/chat/completions", json=body, headers=AUTH
        ) as response:
            started = time.monotonic()
            for line in response.iter_lines():
                if (
                    line.startswith("data: {")
                    and '"content":"' in line
                    and '"content":""' not in line
                ):
                    arrivals.append(time.monotonic() - started)
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert len(arrivals) == 4
    assert all(gap > 0.1 for gap in gaps), gaps  # not buffered: each token ~150 ms after the last


def test_passthrough_upstream_failing_mid_stream_ends_with_error_event() -> None:
    with (
        serve(_upstream({"faults": {"midstream_disconnect_rate": 1.0}})) as upstream,
        serve(_gateway(upstream)) as gateway,
    ):
        body = {"messages": MESSAGES, "stream": True}
        text = httpx.post(f"{gateway}/v1/chat/completions", json=body, headers=AUTH).text
    payloads = [line[6:] for line in text.split("\n") if line.startswith("data: ")]
    assert "[DONE]" not in payloads
    assert "error" in json.loads(payloads[-1])
