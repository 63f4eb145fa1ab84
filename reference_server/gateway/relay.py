"""A stream past its commit point: the upstream's items handed on one by one, billed once.

:meth:`Relay.next` gives the endpoint the next item to send and settles the stream *before*
handing over its final one, so a delivered answer is always billed:

- chat (OpenAI "Streaming" reference): the final item is the usage chunk (``choices: []``, which
  every provider sends, asked for or not); an upstream that ends without one ended well, and
  what was delivered is billed;
- Responses: the final item is the terminal event (``response.completed``, ``.incomplete``,
  ``.failed``); an upstream that ends without one broke the protocol.

A failure after the commit point (an upstream error item, a ``ProviderError``, anything else)
settles the delivered part once as ``partial`` and raises: a :class:`GatewayError` for an
upstream failure, the exception itself otherwise (``errors.render_error`` names it). The
endpoint turns it into an in-stream error event. :meth:`Relay.close` bills a stream left before
its end (the client went away, or never read a byte) as ``client_disconnected`` for what was
delivered, and closes the upstream, under a cancellation shield.

Must not: choose deployments (``flow``, ``fallback``), encode frames or read HTTP
(``endpoints/``).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from typing import Any, Literal

import anyio

from reference_server.config import Deployment
from reference_server.controls.base import Controls, Outcome, Served, Settlement, Ticket
from reference_server.errors import GatewayError
from reference_server.gateway.circuit import CircuitBreakers
from reference_server.providers.base import ProviderError
from reference_server.tokens import count_tokens

__all__ = ["Relay", "StreamKind"]

StreamKind = Literal["chat", "responses"]
Item = dict[str, Any]

_TERMINAL = ("response.completed", "response.incomplete", "response.failed")


class Relay:
    """One admitted stream whose first item arrived; the endpoint reads it with :meth:`next`."""

    def __init__(
        self,
        controls: Controls,
        breakers: CircuitBreakers,
        ticket: Ticket,
        *,
        deployment: Deployment,
        first: Item,
        rest: AsyncIterator[Item],
        kind: StreamKind,
        model: str,
        prompt_tokens: int,
        started_at: float,
        first_byte_at: float,
    ) -> None:
        self.deployment = deployment
        self.request_id = ticket.admission.request_id
        self.model = model  # the model the client asked for (aliases resolve to themselves)
        self.headers: Mapping[str, str] = {
            **ticket.headers,
            "x-parity-deployment": deployment.name,
        }
        # Set once the stream is settled with its final item (the endpoint reads credits here).
        self.settlement: Settlement | None = None
        self._controls = controls
        self._breakers = breakers
        self._ticket = ticket
        self._pending: Item | None = first
        self._rest = rest
        self._chat = kind == "chat"
        self._prompt_tokens = prompt_tokens
        self._delivered = 0
        self._started_at = started_at
        self._first_byte_at = first_byte_at
        self._settling = False  # a settlement was attempted: never a second one

    async def next(self) -> Item | None:
        """The next item to send; ``None`` when the stream ended well (it is settled then)."""
        try:
            item = self._pending
            if item is None:
                item = await anext(self._rest, None)
            else:
                self._pending = None
            if item is None:
                if not self._chat:
                    raise ProviderError(
                        "protocol", "the upstream stream ended without a terminal event"
                    )
                await self._settle(self._prompt(), self._delivered, "ok")
                return None
            if self._chat:
                return await self._chat_item(item)
            return await self._responses_item(item)
        except Exception as exc:
            if not self._settling:
                with anyio.CancelScope(shield=True):
                    await self._settle(self._prompt(), self._delivered, "partial")
            if isinstance(exc, ProviderError):
                raise GatewayError(
                    502,
                    f"The upstream failed mid-stream: {exc.message}",
                    type="server_error",
                    code="upstream_error",
                ) from exc
            raise

    def _prompt(self) -> int:
        """The prompt's tokens for a stream that brought no usage of its own: the upstream's
        count if its provider learned one (``Provider`` in ``providers/base.py``), else the
        gateway's."""
        counted = getattr(self._rest, "prompt_tokens", None)
        return counted if isinstance(counted, int) and counted > 0 else self._prompt_tokens

    async def _chat_item(self, item: Item) -> Item:
        if "error" in item and "choices" not in item:
            error = item["error"] or {}
            raise ProviderError("status", str(error.get("message", "upstream error")))
        choices = item.get("choices")
        usage = item.get("usage")
        if not choices and isinstance(usage, dict):  # the usage chunk: the final item
            await self._settle(
                int(usage.get("prompt_tokens") or self._prompt_tokens),
                int(usage.get("completion_tokens") or self._delivered),
                "ok",
            )
            return item
        for choice in choices or ():
            delta = choice.get("delta") or {}
            content = delta.get("content")
            if content:
                self._delivered += count_tokens(content)
            for call in delta.get("tool_calls") or ():
                function = call.get("function") or {}
                self._delivered += count_tokens(function.get("name") or "") + count_tokens(
                    function.get("arguments") or ""
                )
        return item

    async def _responses_item(self, item: Item) -> Item:
        kind = item.get("type")
        if kind in _TERMINAL:
            usage = (item.get("response") or {}).get("usage") or {}
            await self._settle(
                int(usage.get("input_tokens") or self._prompt_tokens),
                int(usage.get("output_tokens") or self._delivered),
                "ok" if kind != "response.failed" else "partial",
            )
            return item
        if kind == "error":
            raise ProviderError("status", str(item.get("message", "upstream error")))
        delta = item.get("delta")
        if isinstance(delta, str):
            self._delivered += count_tokens(delta)
        return item

    async def close(self) -> None:
        """Bill a stream left before it was settled, and close the upstream. Safe to call more
        than once; shielded, because it runs while a client's cancellation unwinds."""
        with anyio.CancelScope(shield=True):
            if not self._settling:
                await self._settle(self._prompt(), self._delivered, "client_disconnected")
            close = getattr(self._rest, "aclose", None)
            if close is not None:
                await close()

    async def _settle(self, prompt_tokens: int, completion_tokens: int, outcome: Outcome) -> None:
        self._settling = True
        name = self.deployment.name
        if outcome == "ok":
            self._breakers.record_success(name)
        elif outcome == "partial":
            self._breakers.record_failure(name)
        else:
            self._breakers.release_probe(name)
        served = Served(
            deployment=name,
            model=self.deployment.model,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            outcome=outcome,
            started_at=self._started_at,
            first_byte_at=self._first_byte_at,
            finished_at=time.time(),
        )
        self.settlement = await self._controls.settle(self._ticket, served)
