"""The model listings as the catalog page documents them (spec/catalog.yaml): ``GET /api/models``
field by field, ``GET /v1/models``, the category -> endpoint table a client routes by, and the
realtime model id of the generic platform page."""

from __future__ import annotations

import io
import json
import math
import wave
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from jsonschema import Draft202012Validator
from websockets.asyncio.client import connect

from reference_server.app import create_app
from reference_server.config import settings_from_mapping
from reference_server.gateway.catalog import slug_of
from tests.live import serve

SPEC = Path(__file__).resolve().parents[2] / "spec" / "catalog.yaml"
AUTH = {"authorization": "Bearer sk-parity-demo"}
# The catalog page: "category, supports[], model_name (slug is the dashboard URL form),
# input_per_mtok / output_per_mtok, health_status".
PAGE_FIELDS = {
    "model_name",
    "slug",
    "category",
    "supports",
    "input_per_mtok",
    "output_per_mtok",
    "health_status",
}
UNIT_FIELDS = {"per_character", "per_second", "per_image"}
PAGE_TAGS = {"chat", "tool_use", "streaming", "vision", "reasoning", "embeddings"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(SPEC.read_text("utf-8"))
    return loaded


@pytest.fixture(scope="module")
def catalog(origin: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{origin}/api/models")  # no key: the catalog is public
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body, list)  # a bare JSON array, not {"object": "list", ...}
    return body


def test_api_models_has_exactly_the_page_fields(
    catalog: list[dict[str, Any]], document: dict[str, Any]
) -> None:
    validator = Draft202012Validator({**document, "$ref": "#/components/schemas/CatalogList"})
    assert [e.message for e in validator.iter_errors(catalog)] == []
    for entry in catalog:
        assert PAGE_FIELDS <= set(entry) <= PAGE_FIELDS | UNIT_FIELDS, entry
        assert entry["slug"] == slug_of(entry["model_name"])
    names = [e["model_name"] for e in catalog]
    assert len(names) == len(set(names))


def test_api_models_model_name_is_the_api_form_and_slug_the_url_form(
    catalog: list[dict[str, Any]], origin: str
) -> None:
    by_name = {e["model_name"]: e for e in catalog}
    assert by_name["gpt-4.1"]["slug"] == "gpt-4-1"
    listed = httpx.get(f"{origin}/v1/models", headers=AUTH).json()
    assert {m["id"] for m in listed["data"]} <= set(by_name)
    served = httpx.post(
        f"{origin}/v1/chat/completions",
        json={"model": "gpt-4.1", "messages": [{"role": "user", "content": "hi"}]},
        headers=AUTH,
    )
    assert served.status_code == 200
    by_slug = httpx.post(
        f"{origin}/v1/chat/completions",
        json={"model": "gpt-4-1", "messages": [{"role": "user", "content": "hi"}]},
        headers=AUTH,
    )
    assert by_slug.status_code == 404  # the slug is not an API model id


def test_api_models_tags_use_the_page_vocabulary(
    catalog: list[dict[str, Any]], document: dict[str, Any]
) -> None:
    synonyms = document["x-supports-synonyms"]
    known = set(document["x-supports-values"]["documented"]) | set(
        document["x-supports-values"]["extensions"]
    )
    by_name = {e["model_name"]: e for e in catalog}
    for entry in catalog:
        assert not set(entry["supports"]) & set(synonyms), entry
        assert set(entry["supports"]) <= known, entry
        if entry["category"] == "reasoning":
            assert "reasoning" in entry["supports"], entry
        if entry["category"] in ("text", "code", "reasoning", "multimodal", "vision"):
            assert {"chat", "tool_use", "streaming"} <= set(entry["supports"]), entry
    assert {tag for e in catalog for tag in e["supports"]} >= PAGE_TAGS
    assert "audio_transcription" in by_name["whisper-1"]["supports"]
    assert "audio_transcription" not in by_name["tts-1"]["supports"]
    assert by_name["text-embedding-3-small"]["supports"] == ["embeddings"]


def test_api_models_prices_per_character_under_its_unit(catalog: list[dict[str, Any]]) -> None:
    tts = next(e for e in catalog if e["model_name"] == "tts-1")
    assert tts["per_character"] == 0.000015  # OpenAI: USD 15 per million characters
    assert tts["input_per_mtok"] == 0
    assert tts["output_per_mtok"] == 0
    sonnet = next(e for e in catalog if e["model_name"] == "monday-standard")
    assert (sonnet["input_per_mtok"], sonnet["output_per_mtok"]) == (3.0, 15.0)
    assert not set(sonnet) & UNIT_FIELDS


def test_v1_models_is_openai_shaped_with_category_and_needs_a_key(
    catalog: list[dict[str, Any]], origin: str
) -> None:
    refused = httpx.get(f"{origin}/v1/models")
    assert refused.status_code == 401
    assert set(refused.json()["error"]) == {"message", "type", "param", "code"}
    listed = httpx.get(f"{origin}/v1/models", headers=AUTH).json()
    assert listed["object"] == "list"
    categories = {e["model_name"]: e["category"] for e in catalog}
    for model in listed["data"]:
        assert set(model) == {"id", "object", "created", "owned_by", "category"}
        assert model["object"] == "model"
        assert model["category"] == categories[model["id"]]


def test_v1_models_lists_only_serving_models_while_api_models_lists_all(tmp_path: Path) -> None:
    settings = settings_from_mapping(
        {
            "models": [
                {
                    "name": "up",
                    "category": "text",
                    "supports": ["chat"],
                    "input_per_mtok": 1.0,
                    "output_per_mtok": 2.0,
                    "deployments": [{"provider": "synthetic", "model": "m"}],
                },
                {
                    "name": "down",
                    "category": "text",
                    "supports": ["chat"],
                    "health_status": "unhealthy",
                    "input_per_mtok": 1.0,
                    "output_per_mtok": 2.0,
                    "deployments": [{"provider": "synthetic", "model": "m"}],
                },
            ],
            "default_model": "up",
            "controls": {"store": {"path": str(tmp_path / "c.db")}},
        }
    )
    with serve(create_app(settings)) as origin:
        listed = httpx.get(f"{origin}/v1/models", headers=AUTH).json()
        catalog = httpx.get(f"{origin}/api/models").json()
    assert [m["id"] for m in listed["data"]] == ["up"]
    assert {e["model_name"]: e["health_status"] for e in catalog} == {
        "up": "healthy",
        "down": "unhealthy",
    }


def _tone() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(16000)
        writer.writeframes(
            b"".join(
                int(8000 * math.sin(2 * math.pi * 440 * i / 16000)).to_bytes(
                    2, "little", signed=True
                )
                for i in range(8000)
            )
        )
    return buffer.getvalue()


def _page_route(entry: dict[str, Any], document: dict[str, Any]) -> str:
    """Where a client written from the page sends a model: the category table, and for audio
    the `audio_transcription` tag."""
    direction = document["x-audio-transcription"]
    if entry["category"] == "audio" and direction["tag"] in entry["supports"]:
        return str(direction["endpoint"])
    return str(document["x-category-endpoints"][entry["category"]])


def _request(path: str, model: str) -> dict[str, Any]:
    if path == "/chat/completions":
        return {"json": {"model": model, "messages": [{"role": "user", "content": "hi"}]}}
    if path == "/embeddings":
        return {"json": {"model": model, "input": "hello"}}
    if path == "/images/generations":
        return {"json": {"model": model, "prompt": "a dot", "response_format": "b64_json"}}
    if path == "/audio/speech":
        return {"json": {"model": model, "input": "Hello.", "voice": "alloy"}}
    if path == "/audio/transcriptions":
        return {"data": {"model": model}, "files": {"file": ("a.wav", _tone(), "audio/wav")}}
    assert path == "/videos/generations", path
    return {"json": {"model": model, "prompt": "a paper boat", "seconds": "4"}}


def test_every_model_is_served_where_the_page_routes_it(
    catalog: list[dict[str, Any]], document: dict[str, Any], origin: str
) -> None:
    routed = {}
    for entry in catalog:
        if entry["category"] == "realtime":
            continue  # a WebSocket: test_gpt_4o_realtime_resolves
        path = _page_route(entry, document)
        response = httpx.post(
            f"{origin}/v1{path}", headers=AUTH, timeout=20, **_request(path, entry["model_name"])
        )
        routed[entry["model_name"]] = (path, response.status_code)
    assert {name: status for name, (_, status) in routed.items() if status != 200} == {}
    assert routed["whisper-1"][0] == "/audio/transcriptions"
    assert routed["tts-1"][0] == "/audio/speech"
    assert routed["sora-2"][0] == "/videos/generations"


@pytest.mark.parametrize(
    ("path", "model", "fragment"),
    [
        ("/audio/speech", "whisper-1", "/v1/audio/transcriptions"),
        ("/audio/transcriptions", "tts-1", "/v1/audio/speech"),
    ],
    ids=["stt-model-on-speech", "tts-model-on-transcriptions"],
)
def test_audio_models_refuse_the_other_direction_and_say_where_to_go(
    origin: str, path: str, model: str, fragment: str
) -> None:
    response = httpx.post(f"{origin}/v1{path}", headers=AUTH, **_request(path, model))
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["param"]) == ("model_not_supported", "model")
    assert fragment in error["message"]


def test_video_jobs_are_created_on_openai_path_and_the_page_path(origin: str) -> None:
    body = {"model": "sora-2", "prompt": "a paper boat", "seconds": "4"}
    for path in ("/v1/videos", "/v1/videos/generations"):
        response = httpx.post(f"{origin}{path}", json=body, headers=AUTH)
        assert response.status_code == 200, (path, response.text)
        assert response.json()["object"] == "video"


async def test_gpt_4o_realtime_resolves(origin: str) -> None:
    url = origin.replace("http://", "ws://") + "/v1/realtime?model=gpt-4o-realtime"
    async with connect(url, additional_headers=AUTH) as ws:
        created = json.loads(await ws.recv(decode=True))
    assert created["type"] == "session.created"
    assert created["session"]["model"] == "gpt-4o-realtime"
