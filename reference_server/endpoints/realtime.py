"""``/v1/realtime?model=...``: a text-only Realtime session over WebSocket (GA event names).

Auth (OpenAI Realtime guide): ``Authorization: Bearer`` or, for browsers, the subprotocol
``openai-insecure-api-key.<key>`` next to ``realtime`` (which is echoed back). Like OpenAI, the
upgrade is accepted and a failed authentication is reported as an ``error`` event before the
socket closes (1008); so is a caller whose budget has nothing left (``insufficient_quota``,
checked at the session's start), and a session whose budget runs out stops the same way at the
``response.create`` that finds it spent (an ``error`` event, then close 1008). Then: ``session.created`` first; ``session.update`` -> ``session.updated``;
``conversation.item.create`` -> ``conversation.item.created``; ``response.create`` ->
``response.created``, ``response.output_item.added``, ``response.content_part.added``,
``response.output_text.delta``..., ``response.output_text.done``, ``response.content_part.done``,
``response.output_item.done``, ``response.done`` (with usage). A frame that is not JSON or not a
known client event gets an ``error`` event and the connection stays open. Each
``response.create`` goes through ``Gateway.serve`` like any request (authenticated, admitted,
routed with fallback, settled, billed as ``realtime``): its text is the chat completion stream
of the model's deployment, relayed as ``response.output_text.delta`` events; a failure after the
first of them is an ``error`` event and a ``response.done`` with status ``failed``.

Must not: hold billing or routing rules (``gateway/``).
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from reference_server.endpoints.http import gateway_of, request_id
from reference_server.errors import GatewayError, invalid_request, render_error
from reference_server.gateway.flow import Job
from reference_server.gateway.relay import Relay
from reference_server.tokens import chat_prompt_tokens

__all__ = ["realtime"]

_KEY_PROTOCOL = "openai-insecure-api-key."
_POLICY_VIOLATION = 1008  # WebSocket close code (RFC 6455 section 7.4.1), as for a refused key


class _SessionSpent(Exception):
    """A response was refused for insufficient quota: the session can serve nothing more."""


def _eid() -> str:
    return "event_" + os.urandom(8).hex()


def _error(
    exc: BaseException, *, event_id: str | None = None, request_id: str = ""
) -> dict[str, Any]:
    """The Realtime ``error`` server event for ``exc`` (``event_id``: the client event at fault)."""
    error = render_error(exc, request_id=request_id).body["error"]
    return {
        "type": "error",
        "event_id": _eid(),
        "error": {
            "type": error["type"],
            "code": error["code"],
            "message": error["message"],
            "param": error["param"],
            "event_id": event_id,
        },
    }


def _text_of(item: dict[str, Any]) -> str:
    parts = item.get("content")
    if isinstance(parts, str):
        return parts
    texts = [p.get("text") or p.get("transcript") or "" for p in parts or [] if isinstance(p, dict)]
    return " ".join(t for t in texts if isinstance(t, str))


class _Session:
    def __init__(self, socket: WebSocket, authorization: str | None, model: str, rid: str) -> None:
        self.socket = socket
        self.authorization = authorization
        self.model = model
        self.rid = rid
        self.items: list[dict[str, Any]] = []
        self.responses = 0
        self.session: dict[str, Any] = {
            "type": "realtime",
            "object": "realtime.session",
            "id": f"sess_{rid}",
            "model": model,
            "output_modalities": ["text"],
            "instructions": "",
            "tools": [],
            "tool_choice": "auto",
            "max_output_tokens": "inf",
            "tracing": None,
            "prompt": None,
            "expires_at": int(time.time()) + 3600,
            "audio": {
                "input": {"format": {"type": "audio/pcm", "rate": 24000}},
                "output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "alloy"},
            },
        }

    async def send(self, event: dict[str, Any]) -> None:
        await self.socket.send_text(json.dumps(event, separators=(",", ":")))

    async def handle(self, raw: str) -> None:
        try:
            event = json.loads(raw)
        except ValueError:
            await self.send(
                _error(
                    invalid_request(
                        f"The client event is not valid JSON: {raw[:80]!r}.", None, "invalid_json"
                    )
                )
            )
            return
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            await self.send(
                _error(
                    invalid_request(
                        "A client event must be a JSON object with a string 'type'.",
                        None,
                        "invalid_event",
                    )
                )
            )
            return
        kind, eid = event["type"], event.get("event_id")
        if kind == "session.update":
            update = event.get("session")
            if not isinstance(update, dict):
                await self.send(
                    _error(
                        invalid_request(
                            "Missing required parameter: 'session'.",
                            "session",
                            "missing_required_parameter",
                        ),
                        event_id=eid,
                    )
                )
                return
            for key, value in update.items():
                if key not in ("id", "object", "model", "expires_at"):
                    self.session[key] = value
            await self.send(
                {"type": "session.updated", "event_id": _eid(), "session": self.session}
            )
        elif kind == "conversation.item.create":
            item = event.get("item")
            if not isinstance(item, dict):
                await self.send(
                    _error(
                        invalid_request(
                            "Missing required parameter: 'item'.",
                            "item",
                            "missing_required_parameter",
                        ),
                        event_id=eid,
                    )
                )
                return
            stored = {
                "id": item.get("id") or f"item_{os.urandom(8).hex()}",
                "object": "realtime.item",
                "status": "completed",
                **{k: v for k, v in item.items() if k != "id"},
            }
            previous = self.items[-1]["id"] if self.items else None
            self.items.append(stored)
            await self.send(
                {
                    "type": "conversation.item.created",
                    "event_id": _eid(),
                    "previous_item_id": previous,
                    "item": stored,
                }
            )
        elif kind == "response.create":
            await self.respond(event)
        elif kind in (
            "input_audio_buffer.append",
            "input_audio_buffer.clear",
            "input_audio_buffer.commit",
            "response.cancel",
            "conversation.item.delete",
            "conversation.item.truncate",
            "conversation.item.retrieve",
            "output_audio_buffer.clear",
        ):
            return  # accepted; audio is not synthesised by this server
        else:
            await self.send(
                _error(
                    invalid_request(
                        f"Invalid value for 'type': {kind!r} is not a client event this server "
                        "handles.",
                        "type",
                        "invalid_value",
                    ),
                    event_id=eid,
                )
            )

    async def respond(self, event: dict[str, Any]) -> None:
        """One ``response.create``: served by the gateway as a chat completion stream (admitted,
        routed with fallback and settled like any request), relayed as Realtime events."""
        messages: list[dict[str, Any]] = []
        if self.session.get("instructions"):
            messages.append({"role": "system", "content": str(self.session["instructions"])})
        for stored in self.items:
            if stored.get("type", "message") == "message":
                messages.append({"role": stored.get("role", "user"), "content": _text_of(stored)})
        if not messages:
            messages.append({"role": "user", "content": ""})
        self.responses += 1
        rid = f"{self.rid}{self.responses:04x}"
        body = {"messages": messages}

        async def read() -> Job:
            return Job("realtime", rid, self.model, body, chat_prompt_tokens(body), stream=True)

        try:
            served = await gateway_of(self.socket).serve(self.authorization, read)
        except Exception as exc:  # noqa: BLE001 - refused or failed before the first byte
            await self.send(_error(exc, event_id=event.get("event_id"), request_id=rid))
            if isinstance(exc, GatewayError) and exc.code == "insufficient_quota":
                raise _SessionSpent from None  # the budget is spent: the session stops
            return
        assert isinstance(served, Relay)  # a Realtime job always streams
        try:
            await self._relay(served, rid)
        finally:
            await served.close()

    async def _relay(self, relay: Relay, rid: str) -> None:
        response: dict[str, Any] = {
            "id": f"resp_{rid}",
            "object": "realtime.response",
            "status": "in_progress",
            "status_details": None,
            "output": [],
            "conversation_id": f"conv_{self.rid}",
            "output_modalities": ["text"],
            "max_output_tokens": "inf",
            "audio": None,
            "usage": None,
            "metadata": None,
        }
        await self.send(
            {"type": "response.created", "event_id": _eid(), "response": dict(response)}
        )
        item_id = f"item_{rid}"
        item: dict[str, Any] = {
            "id": item_id,
            "object": "realtime.item",
            "type": "message",
            "status": "in_progress",
            "role": "assistant",
            "content": [],
        }
        where = {"response_id": response["id"], "item_id": item_id, "output_index": 0}
        await self.send(
            {
                "type": "response.output_item.added",
                "event_id": _eid(),
                "response_id": response["id"],
                "output_index": 0,
                "item": dict(item),
            }
        )
        part: dict[str, Any] = {"type": "output_text", "text": ""}
        await self.send(
            {
                "type": "response.content_part.added",
                "event_id": _eid(),
                **where,
                "content_index": 0,
                "part": dict(part),
            }
        )
        texts: list[str] = []
        usage: dict[str, Any] = {}
        try:
            while (chunk := await relay.next()) is not None:
                if relay.settlement is not None:  # the usage chunk, settled
                    usage = chunk.get("usage") or {}
                    break
                for choice in chunk.get("choices") or ():
                    delta = (choice.get("delta") or {}).get("content")
                    if delta:
                        texts.append(delta)
                        await self.send(
                            {
                                "type": "response.output_text.delta",
                                "event_id": _eid(),
                                **where,
                                "content_index": 0,
                                "delta": delta,
                            }
                        )
        except Exception as exc:  # noqa: BLE001 - after the commit point every failure is in-stream
            error = _error(exc, request_id=relay.request_id)
            await self.send(error)
            response.update(
                status="failed",
                status_details={"type": "failed", "error": error["error"]},
                output=[item],
            )
            await self.send({"type": "response.done", "event_id": _eid(), "response": response})
            return
        text = "".join(texts)
        await self.send(
            {
                "type": "response.output_text.done",
                "event_id": _eid(),
                **where,
                "content_index": 0,
                "text": text,
            }
        )
        part["text"] = text
        await self.send(
            {
                "type": "response.content_part.done",
                "event_id": _eid(),
                **where,
                "content_index": 0,
                "part": part,
            }
        )
        item.update(status="completed", content=[part])
        await self.send(
            {
                "type": "response.output_item.done",
                "event_id": _eid(),
                "response_id": response["id"],
                "output_index": 0,
                "item": item,
            }
        )
        self.items.append(item)
        prompt = int(usage.get("prompt_tokens") or 0)
        output = int(usage.get("completion_tokens") or 0)
        response.update(
            status="completed",
            output=[item],
            usage={
                "total_tokens": prompt + output,
                "input_tokens": prompt,
                "output_tokens": output,
                "input_token_details": {
                    "text_tokens": prompt,
                    "audio_tokens": 0,
                    "cached_tokens": 0,
                },
                "output_token_details": {"text_tokens": output, "audio_tokens": 0},
            },
        )
        await self.send({"type": "response.done", "event_id": _eid(), "response": response})


async def realtime(socket: WebSocket) -> None:
    gateway = gateway_of(socket)
    offered = [
        p.strip() for p in socket.headers.get("sec-websocket-protocol", "").split(",") if p.strip()
    ]
    authorization = socket.headers.get("authorization")
    for protocol in offered:
        if protocol.startswith(_KEY_PROTOCOL) and authorization is None:
            authorization = "Bearer " + protocol[len(_KEY_PROTOCOL) :]
    await socket.accept(subprotocol="realtime" if "realtime" in offered else None)
    model = socket.query_params.get("model")
    try:
        # Refused at once, before session.created: a bad key, an unknown model, a budget with
        # nothing left (each response.create is served, so authenticated and admitted, again
        # by the flow).
        await gateway.open_session(authorization, model, "realtime")
    except GatewayError as exc:
        await socket.send_text(json.dumps(_error(exc, request_id=request_id(socket))))
        await socket.close(code=_POLICY_VIOLATION)
        return
    assert model is not None
    session = _Session(socket, authorization, model, request_id(socket))
    await session.send({"type": "session.created", "event_id": _eid(), "session": session.session})
    try:
        while True:
            message = await socket.receive()
            if message["type"] == "websocket.disconnect":
                return
            raw = message.get("text")
            if raw is None:
                raw = (message.get("bytes") or b"").decode("utf-8", "replace")
            await session.handle(raw)
    except WebSocketDisconnect:
        return
    except _SessionSpent:
        await socket.close(code=_POLICY_VIOLATION)
