"""A Realtime session over a real WebSocket (``websockets`` client against a live server)."""

from __future__ import annotations

import json

import pytest
from websockets.asyncio.client import connect

from reference_server.app import create_app
from reference_server.config import Settings, settings_from_mapping
from tests.live import serve
from tests.reference_server.test_fallback import RecordingControls


async def _recv(ws) -> dict:
    return json.loads(await ws.recv(decode=True))


async def _until(ws, kind: str) -> list[dict]:
    events = []
    while True:
        event = await _recv(ws)
        events.append(event)
        if event["type"] in (kind, "error"):
            return events


def _ws(origin: str) -> str:
    return origin.replace("http://", "ws://") + "/v1/realtime?model=gpt-realtime"


async def test_realtime_header_auth_full_response_cycle(origin: str) -> None:
    async with connect(
        _ws(origin), additional_headers={"Authorization": "Bearer sk-parity-demo"}
    ) as ws:
        created = await _recv(ws)
        assert created["type"] == "session.created"
        assert created["session"]["model"] == "gpt-realtime"
        await ws.send(
            json.dumps(
                {
                    "type": "session.update",
                    "session": {"type": "realtime", "instructions": "Be brief."},
                }
            )
        )
        updated = await _recv(ws)
        assert updated["type"] == "session.updated"
        assert updated["session"]["instructions"] == "Be brief."
        item = {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": "Hello"}],
        }
        await ws.send(json.dumps({"type": "conversation.item.create", "item": item}))
        added = await _recv(ws)
        assert added["type"] == "conversation.item.created"
        assert added["item"]["id"]
        await ws.send(json.dumps({"type": "response.create"}))
        events = await _until(ws, "response.done")
        kinds = [e["type"] for e in events]
        assert kinds[0] == "response.created"
        assert kinds[-1] == "response.done"
        deltas = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
        done = next(e for e in events if e["type"] == "response.output_text.done")
        assert deltas
        assert deltas == done["text"]
        usage = events[-1]["response"]["usage"]
        assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
        assert all(e.get("event_id") for e in events)


async def test_realtime_subprotocol_auth_echoes_realtime(origin: str) -> None:
    protocols = ["realtime", "openai-insecure-api-key.sk-parity-demo"]
    async with connect(_ws(origin), subprotocols=protocols) as ws:  # type: ignore[arg-type]
        assert ws.subprotocol == "realtime"
        assert (await _recv(ws))["type"] == "session.created"


async def test_realtime_bad_frame_gets_error_and_stays_open(origin: str) -> None:
    async with connect(
        _ws(origin), additional_headers={"Authorization": "Bearer sk-parity-demo"}
    ) as ws:
        await _recv(ws)
        await ws.send("this is not json")
        error = await _recv(ws)
        assert error["type"] == "error"
        assert error["error"]["message"]
        await ws.send(json.dumps({"type": "no.such.event", "event_id": "evt_1"}))
        error = await _recv(ws)
        assert error["type"] == "error"
        assert error["error"]["event_id"] == "evt_1"
        await ws.send(json.dumps({"type": "response.create"}))
        assert (await _until(ws, "response.done"))[-1]["type"] == "response.done"


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer sk-wrong"}], ids=["missing", "invalid"]
)
async def test_realtime_bad_key_gets_error_then_close(origin: str, headers: dict) -> None:
    async with connect(_ws(origin), additional_headers=headers) as ws:
        error = await _recv(ws)
        assert error["type"] == "error"
        assert error["error"]["code"] in (
            "missing_api_key",
            "invalid_api_key",
        )
        await ws.wait_closed()
        assert ws.close_code == 1008


def _realtime_settings(primary: dict) -> Settings:
    return settings_from_mapping(
        {
            "providers": {
                "primary": {"type": "synthetic", **primary},
                "backup": {"type": "synthetic"},
            },
            "models": [
                {
                    "name": "rt",
                    "category": "realtime",
                    "input_per_mtok": 4,
                    "output_per_mtok": 16,
                    "deployments": [
                        {"name": "primary/rt", "provider": "primary", "model": "rt"},
                        {"name": "backup/rt", "provider": "backup", "model": "rt"},
                    ],
                },
                {
                    "name": "text",
                    "category": "text",
                    "input_per_mtok": 1,
                    "output_per_mtok": 2,
                    "deployments": [{"provider": "backup", "model": "text"}],
                },
            ],
            "default_model": "text",
        }
    )


async def _one_response(origin: str) -> list[dict]:
    url = origin.replace("http://", "ws://") + "/v1/realtime?model=rt"
    async with connect(url, additional_headers={"Authorization": "Bearer sk-parity-demo"}) as ws:
        assert (await _recv(ws))["type"] == "session.created"
        item = {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": "Hi"}],
        }
        await ws.send(json.dumps({"type": "conversation.item.create", "item": item}))
        await _recv(ws)
        await ws.send(json.dumps({"type": "response.create", "event_id": "evt_9"}))
        return await _until_done(ws)


async def _until_done(ws) -> list[dict]:
    events = []
    while True:
        events.append(await _recv(ws))
        if events[-1]["type"] == "response.done":
            return events


async def test_realtime_response_falls_back_and_is_billed_as_realtime_on_the_backup() -> None:
    settings = _realtime_settings({"faults": {"error_rate": 1.0}})
    controls = RecordingControls(settings)
    with serve(create_app(settings, controls=controls)) as origin:
        events = await _one_response(origin)
    assert events[-1]["response"]["status"] == "completed"
    usage = events[-1]["response"]["usage"]
    assert [s.deployment for s in controls.settled] == ["backup/rt"]
    served = controls.settled[0]
    assert (served.prompt_tokens, served.completion_tokens) == (
        usage["input_tokens"],
        usage["output_tokens"],
    )
    assert controls.admitted[0].endpoint == "realtime"
    assert controls.admitted[0].streaming is True


async def test_realtime_failure_after_the_first_delta_is_an_error_and_a_failed_response() -> None:
    settings = _realtime_settings({"faults": {"midstream_disconnect_rate": 1.0}})
    controls = RecordingControls(settings)
    with serve(create_app(settings, controls=controls)) as origin:
        events = await _one_response(origin)
    kinds = [e["type"] for e in events]
    assert "response.output_text.delta" in kinds
    assert kinds[-2:] == ["error", "response.done"]
    assert events[-2]["error"]["code"] == "upstream_error"
    assert events[-1]["response"]["status"] == "failed"
    assert [s.outcome for s in controls.settled] == ["partial"]  # billed once, no splice
    assert controls.settled[0].deployment == "primary/rt"
