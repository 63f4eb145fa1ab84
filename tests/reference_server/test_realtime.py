"""A Realtime session over a real WebSocket (``websockets`` client against a live server)."""

from __future__ import annotations

import json

import pytest
from websockets.asyncio.client import connect


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
