"""The Realtime WebSocket endpoint of the breadth fake, written from OpenAI's Realtime reference.

Auth by ``Authorization: Bearer`` or by the subprotocols ``realtime`` +
``openai-insecure-api-key.<key>`` (``realtime`` echoed). ``session.created`` first; GA event
names; an invalid client event gets an ``error`` event and the socket stays open. By default a
bad key is accepted and answered with an ``error`` event then a close (what OpenAI does);
the ``handshake_401`` quirk refuses the upgrade instead.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from tests.conformance.fakes.breadth import API_KEY, knobs_for
from tests.conformance.fakes.breadth_text import words_for

__all__ = ["realtime"]


def _event(kind: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "event_id": f"event_{uuid.uuid4().hex[:12]}", **fields}


async def realtime(websocket: WebSocket) -> None:
    knobs = knobs_for(websocket.path_params["variant"])
    offered = [
        p.strip()
        for p in websocket.headers.get("sec-websocket-protocol", "").split(",")
        if p.strip()
    ]
    keys = [
        p.removeprefix("openai-insecure-api-key.")
        for p in offered
        if p.startswith("openai-insecure-api-key.")
    ]
    bearer = websocket.headers.get("authorization", "").removeprefix("Bearer ")
    authorised = API_KEY in (bearer, *keys) or knobs.broken("rt_bad_key_accepted")
    if knobs.broken("rt_header_refused") and bearer and not keys:
        await websocket.close(code=1008)  # refused at the handshake: browsers' way only
        return
    if not authorised and knobs.quirk("handshake_401"):
        await websocket.close(code=1008)
        return
    subprotocol = "realtime" if "realtime" in offered and not knobs.broken("rt_no_echo") else None
    await websocket.accept(subprotocol=subprotocol)
    if not authorised:
        error = {
            "type": "invalid_request_error",
            "code": "invalid_api_key",
            "message": "Invalid key.",
            "param": None,
        }
        await websocket.send_json(_event("error", error=error))
        await websocket.close(code=1008)
        return
    session: dict[str, Any] = {
        "id": f"sess_{uuid.uuid4().hex[:12]}",
        "object": "realtime.session",
        "type": "realtime",
        "model": websocket.query_params.get("model"),
        "output_modalities": ["audio"],
    }
    await websocket.send_json(_event("session.created", session=session))
    if knobs.quirk("extra_events"):
        await websocket.send_json(_event("rate_limits.updated", rate_limits=[]))
    items: list[dict[str, Any]] = []
    try:
        while True:
            text = await websocket.receive_text()
            try:
                message = json.loads(text)
                kind = message["type"]
            except (ValueError, KeyError, TypeError):
                if knobs.broken("rt_close_on_invalid"):
                    await websocket.close(code=1003)
                    return
                error = {
                    "type": "invalid_request_error",
                    "code": "invalid_json",
                    "message": "The frame is not a JSON event.",
                    "param": None,
                    "event_id": None,
                }
                await websocket.send_json(_event("error", error=error))
                continue
            await _answer(websocket, knobs, kind, message, session, items)
    except WebSocketDisconnect:
        return


async def _answer(
    websocket: WebSocket,
    knobs: Any,
    kind: str,
    message: dict[str, Any],
    session: dict[str, Any],
    items: list[dict[str, Any]],
) -> None:
    if kind == "session.update":
        session.update(message.get("session") or {})
        event = _event("session.updated", session=session)
        if knobs.broken("rt_updated_without_session"):
            del event["session"]
        await websocket.send_json(event)
    elif kind == "conversation.item.create":
        item = dict(message.get("item") or {}) | {
            "id": f"item_{uuid.uuid4().hex[:12]}",
            "status": "completed",
        }
        items.append(item)
        if knobs.broken("rt_item_without_item"):
            await websocket.send_json(_event("conversation.item.added", previous_item_id=None))
        else:
            await websocket.send_json(
                _event("conversation.item.created", previous_item_id=None, item=item)
            )
    elif kind == "response.create":
        await _respond(websocket, knobs, items)
    else:
        error = {
            "type": "invalid_request_error",
            "code": "unknown_event",
            "message": f"Unknown event {kind!r}.",
            "param": "type",
            "event_id": message.get("event_id"),
        }
        await websocket.send_json(_event("error", error=error))


async def _respond(websocket: WebSocket, knobs: Any, items: list[dict[str, Any]]) -> None:
    rid, iid = f"resp_{uuid.uuid4().hex[:12]}", f"item_{uuid.uuid4().hex[:12]}"
    response: dict[str, Any] = {
        "id": rid,
        "object": "realtime.response",
        "status": "in_progress",
        "output": [],
        "usage": None,
    }
    await websocket.send_json(_event("response.created", response=response))
    item = {
        "id": iid,
        "object": "realtime.item",
        "type": "message",
        "role": "assistant",
        "status": "in_progress",
        "content": [],
    }
    at = {"response_id": rid, "item_id": iid, "output_index": 0, "content_index": 0}
    await websocket.send_json(
        _event("response.output_item.added", response_id=rid, output_index=0, item=item)
    )
    await websocket.send_json(
        _event("response.content_part.added", **at, part={"type": "text", "text": ""})
    )
    words = words_for(json.dumps(items), 4)
    delta_name = (
        "response.text.delta" if knobs.broken("rt_beta_names") else "response.output_text.delta"
    )
    for index, word in enumerate(words):
        event = _event(delta_name, **at, delta=word if index == 0 else " " + word)
        if knobs.broken("rt_no_event_id"):
            del event["event_id"]
        await websocket.send_json(event)
    text = " ".join(words)
    await websocket.send_json(_event("response.output_text.done", **at, text=text))
    await websocket.send_json(
        _event("response.content_part.done", **at, part={"type": "text", "text": text})
    )
    done_item = item | {"status": "completed", "content": [{"type": "output_text", "text": text}]}
    await websocket.send_json(
        _event("response.output_item.done", response_id=rid, output_index=0, item=done_item)
    )
    usage = {"total_tokens": 12, "input_tokens": 8, "output_tokens": 4}
    final = response | {"status": "completed", "output": [done_item], "usage": usage}
    await websocket.send_json(_event("response.done", response=final))
