"""What a target offers, read from its catalog; what ``mixed`` weighs from it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from load.catalog import offered_kinds, select_models
from load.errors import ScenarioError
from load.scenarios import get_scenario, mixed_weights
from tests.live import serve

CATALOG = [
    {"model_name": "fast", "category": "text", "supports": ["chat"], "health_status": "healthy"},
    {
        "model_name": "main",
        "category": "text",
        "supports": ["chat", "streaming", "responses"],
        "health_status": "healthy",
        "default": True,
    },
    {"model_name": "voice", "category": "audio", "supports": [], "health_status": "healthy"},
    {
        "model_name": "ears",
        "category": "audio",
        "supports": ["audio_transcription"],
        "health_status": "healthy",
    },
    {
        "model_name": "down-img",
        "category": "image",
        "supports": ["images"],
        "health_status": "down",
    },
]


def _app(with_catalog: bool, *, wrapped: bool = False) -> Starlette:
    async def catalog(request: Request) -> JSONResponse:
        # The catalog page documents a bare array; some gateways wrap it as an OpenAI list.
        return JSONResponse({"object": "list", "data": CATALOG} if wrapped else CATALOG)

    async def models(request: Request) -> JSONResponse:
        ids = ["gpt-4o-mini", "text-embedding-3-small", "whisper-1", "gpt-realtime", "custom"]
        return JSONResponse({"object": "list", "data": [{"id": i, "object": "model"} for i in ids]})

    routes = [Route("/v1/models", models)]
    if with_catalog:
        routes.append(Route("/api/models", catalog))
    return Starlette(routes=routes)


@pytest.fixture(scope="module")
def catalog_target() -> Iterator[str]:
    with serve(_app(True)) as origin:
        yield f"{origin}/v1"


@pytest.fixture(scope="module")
def models_target() -> Iterator[str]:
    with serve(_app(False)) as origin:
        yield f"{origin}/v1"


def test_catalog_kinds_from_categories_and_supports(catalog_target: str) -> None:
    offered = offered_kinds(catalog_target, "")
    assert offered == {
        "chat": "main",  # the default model comes first
        "chat-stream": "main",
        "responses-stream": "main",
        "speech": "voice",
        # the catalog page: audio_transcription marks speech-to-text, any other is speech
        "transcriptions": "ears",
    }  # the image model is down: not offered


def test_catalog_an_openai_style_list_is_read_too() -> None:
    with serve(_app(True, wrapped=True)) as origin:
        offered = offered_kinds(f"{origin}/v1", "")
    assert offered is not None
    assert (offered["speech"], offered["transcriptions"]) == ("voice", "ears")


def test_catalog_falls_back_to_openai_model_names(models_target: str) -> None:
    offered = offered_kinds(models_target, "sk-x")
    assert offered is not None
    assert offered["embeddings"] == "text-embedding-3-small"
    assert offered["transcriptions"] == "whisper-1"
    assert offered["realtime"] == "gpt-realtime"
    assert offered["chat-stream"] == "gpt-4o-mini"
    assert "custom" not in offered.values()


def test_catalog_none_when_the_target_lists_nothing() -> None:
    with serve(Starlette()) as origin:
        assert offered_kinds(f"{origin}/v1", "") is None


def test_catalog_mixed_weighs_what_is_offered(catalog_target: str) -> None:
    chosen = select_models(
        get_scenario("mixed"), catalog_target, "", chat_models=None, kind_flags={"speech": "tts-x"}
    )
    assert {k for k, _ in chosen.mix} == {
        "chat",
        "chat-stream",
        "responses-stream",
        "speech",
        "transcriptions",
    }
    assert sum(w for _, w in chosen.mix) == pytest.approx(1.0)
    assert chosen.models == ("main",)
    assert chosen.kind_models == {"speech": "tts-x", "transcriptions": "ears"}  # the flag wins


def test_catalog_single_kind_needs_no_catalog_when_flagged() -> None:
    # no request at all: the URL does not exist, and the flag names the model
    chosen = select_models(
        get_scenario("images"),
        "http://127.0.0.1:9/v1",
        "",
        chat_models=None,
        kind_flags={"images": "my-image"},
    )
    assert chosen.kind_models == {"images": "my-image"}


def test_catalog_mixed_without_any_kind_is_a_usage_error() -> None:
    assert [k for k, _ in mixed_weights(None)] == ["chat-stream", "chat", "embeddings"]
    with pytest.raises(ScenarioError, match="no endpoint to load"):
        mixed_weights({})
