"""Budgets on every metered endpoint of the default catalog, over the wire.

A key with no budget left gets 429 ``insufficient_quota`` from all seven metered HTTP endpoints
and from the Realtime session (refused at its start; stopped at the ``response.create`` that
finds its budget spent), and each endpoint draws down in its own unit.
"""

from __future__ import annotations

import io
import json
import wave
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from reference_server.app import create_app
from reference_server.config import settings_from_mapping
from tests.live import serve

ADMIN_KEY = "sk-parity-admin-test"
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


def _wav(seconds: float, rate: int = 16_000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(rate)
        audio.writeframes(b"\0\0" * int(seconds * rate))
    return out.getvalue()


# (name, method, path, request keyword arguments): one request per metered HTTP endpoint.
ENDPOINTS: list[tuple[str, str, dict[str, Any]]] = [
    (
        "chat",
        "/v1/chat/completions",
        {"json": {"model": "monday-fast", "messages": [{"role": "user", "content": "hi"}]}},
    ),
    ("responses", "/v1/responses", {"json": {"model": "gpt-4o-mini", "input": "hi"}}),
    ("embeddings", "/v1/embeddings", {"json": {"model": "text-embedding-3-small", "input": "hi"}}),
    (
        "images",
        "/v1/images/generations",
        {"json": {"model": "dall-e-3", "prompt": "a dot", "response_format": "b64_json"}},
    ),
    ("speech", "/v1/audio/speech", {"json": {"model": "tts-1", "input": "hi", "voice": "alloy"}}),
    (
        "transcriptions",
        "/v1/audio/transcriptions",
        {"data": {"model": "whisper-1"}, "files": {"file": ("a.wav", _wav(2.0), "audio/wav")}},
    ),
    ("videos", "/v1/videos", {"json": {"model": "sora-2", "prompt": "a dot", "seconds": "4"}}),
]
_IDS = [name for name, _, _ in ENDPOINTS]


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = tmp_path_factory.mktemp("budgets") / "controls.db"
    # The default catalog and prices; no surcharge, so a charge is exactly price x units.
    controls = {"store": {"path": str(db)}, "admin_key": ADMIN_KEY}
    with serve(create_app(settings_from_mapping({"controls": controls}))) as url:
        yield url


def _mint(origin: str, **fields: Any) -> str:
    body = {"name": "t", "owner": "budget-tests", **fields}
    response = httpx.post(f"{origin}/admin/keys", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    return str(response.json()["key"])


def _assert_quota_refusal(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text[:300]
    error = response.json()["error"]
    assert (error["type"], error["code"]) == ("insufficient_quota", "insufficient_quota")
    assert "retry-after" not in response.headers


@pytest.mark.parametrize(("name", "path", "request_args"), ENDPOINTS, ids=_IDS)
def test_budgets_spent_key_refused_on_every_metered_endpoint(
    origin: str, name: str, path: str, request_args: dict[str, Any]
) -> None:
    spent = _mint(origin, budget_credits=0)
    auth = {"Authorization": f"Bearer {spent}"}
    _assert_quota_refusal(httpx.post(f"{origin}{path}", headers=auth, timeout=30, **request_args))
    # A key with a budget is served by the same request: the refusal is the budget's.
    funded = {"Authorization": f"Bearer {_mint(origin, budget_credits=5)}"}
    served = httpx.post(f"{origin}{path}", headers=funded, timeout=30, **request_args)
    assert served.status_code == 200, f"{name}: {served.text[:300]}"
    assert Decimal(served.headers["x-monday-credits-used"]) >= 0  # metered (a tiny one rounds)


def test_budgets_spent_owner_refused_everywhere(origin: str) -> None:
    key = _mint(origin, owner="agent-spent")
    put = httpx.put(
        f"{origin}/admin/owners/agent-spent/budget", json={"budget_credits": 0}, headers=ADMIN
    )
    assert put.status_code == 200, put.text
    auth = {"Authorization": f"Bearer {key}"}
    for _, path, request_args in ENDPOINTS:
        _assert_quota_refusal(
            httpx.post(f"{origin}{path}", headers=auth, timeout=30, **request_args)
        )


@pytest.mark.parametrize(
    ("name", "units", "price"),
    [
        ("speech", Decimal(2), Decimal("0.000015")),  # "hi": 2 characters
        ("transcriptions", Decimal(2), Decimal("0.0001")),  # 2.0 s of audio
        ("videos", Decimal(4), Decimal("0.10")),  # 4 s of video
        ("images", Decimal(1), Decimal("0.04")),  # one dall-e-3 image, no size named
    ],
    ids=["speech-characters", "transcription-seconds", "video-seconds", "image-by-size"],
)
def test_budgets_each_endpoint_is_charged_in_its_unit(
    origin: str, name: str, units: Decimal, price: Decimal
) -> None:
    _, path, request_args = next(e for e in ENDPOINTS if e[0] == name)
    auth = {"Authorization": f"Bearer {_mint(origin, budget_credits=5)}"}
    served = httpx.post(f"{origin}{path}", headers=auth, timeout=30, **request_args)
    assert served.status_code == 200, served.text[:300]
    assert Decimal(served.headers["x-monday-credits-used"]) == units * price


def test_budgets_image_size_prices_the_image(origin: str) -> None:
    auth = {"Authorization": f"Bearer {_mint(origin, budget_credits=5)}"}
    body = {"model": "dall-e-3", "prompt": "a dot", "size": "1792x1024", "n": 1}
    served = httpx.post(f"{origin}/v1/images/generations", json=body, headers=auth, timeout=30)
    assert served.status_code == 200, served.text[:300]
    assert Decimal(served.headers["x-monday-credits-used"]) == Decimal("0.08")


def _ws(origin: str) -> str:
    return origin.replace("http://", "ws://") + "/v1/realtime?model=gpt-realtime"


async def test_budgets_spent_key_refused_at_realtime_session_start(origin: str) -> None:
    spent = _mint(origin, budget_credits=0)
    async with connect(_ws(origin), additional_headers={"Authorization": f"Bearer {spent}"}) as ws:
        event = json.loads(await ws.recv(decode=True))
        assert event["type"] == "error"
        assert event["error"]["code"] == "insufficient_quota"
        await ws.wait_closed()
        assert ws.close_code == 1008


async def test_budgets_realtime_session_stops_once_its_budget_is_spent(origin: str) -> None:
    # Enough for one response's hold (~4096 output tokens at 16 USD/Mtok), not for a second.
    key = _mint(origin, budget_credits=0.07)
    events: list[dict[str, Any]] = []
    async with connect(_ws(origin), additional_headers={"Authorization": f"Bearer {key}"}) as ws:
        assert json.loads(await ws.recv(decode=True))["type"] == "session.created"
        for _ in range(40):  # bounded: every answer costs, so the budget runs out
            await ws.send(json.dumps({"type": "response.create"}))
            while True:
                event = json.loads(await ws.recv(decode=True))
                events.append(event)
                if event["type"] in ("response.done", "error"):
                    break
            if event["type"] == "error":
                break
        await ws.wait_closed()
        assert ws.close_code == 1008
    assert any(e["type"] == "response.done" for e in events)
    assert events[-1]["type"] == "error"
    assert events[-1]["error"]["code"] == "insufficient_quota"
