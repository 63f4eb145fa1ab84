"""The reference gateway as a translating gateway (anthropic-gateway.yaml) in front of an
Anthropic-dialect primary and an OpenAI-dialect fallback, with one switch per translation defect.

With no defect its ``anthropic`` provider keeps every promise the translation drills check; each
defect wraps the provider to break exactly one, the way translating gateways have:

* ``drop_system``: system and developer messages never reach the upstream
* ``system_as_user``: they reach it as user turns, not as its system prompt
* ``args_object``: a tool call's ``arguments`` is a JSON object, not the string OpenAI sends
* ``args_cumulative``: each streamed ``arguments`` delta repeats the whole JSON so far
* ``length_as_stop``: an answer cut at the token limit finishes with ``stop``
* ``finish_passthrough``: Anthropic's ``stop_reason`` leaks as the ``finish_reason``
* ``default_max_tokens``: 16 tokens are asked for when the client sets no limit
* ``usage_input_only``: ``prompt_tokens`` counts only uncached input (cache reads and writes
  lost), in answers that are not streamed
* ``bill_cache_twice``: cache writes are billed twice (the usage shown is right)

Legal variants: ``rewrite_tool_ids`` (tool call ids rewritten for the client, mapped back on
the way in) and ``compact_arguments`` (arguments re-serialised without spaces).
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from reference_server.app import build_providers, create_app
from reference_server.config import settings_from_mapping
from reference_server.providers.base import Call, Provider, Reply
from reference_server.upstream.command import UpstreamSettings, create_upstream_app
from tests.drills.conftest import CONTROL_KEY
from tests.live import serve

__all__ = ["CONFIG", "DEFECTS", "LEGAL", "anthropic_upstreams", "translating_gateway"]

CONFIG = Path(__file__).resolve().parents[2] / "reference_server/configs/anthropic-gateway.yaml"
DEFECTS = (
    "drop_system",
    "system_as_user",
    "args_object",
    "args_cumulative",
    "length_as_stop",
    "finish_passthrough",
    "default_max_tokens",
    "usage_input_only",
    "bill_cache_twice",
)
LEGAL = ("rewrite_tool_ids", "compact_arguments")
_LEAKED = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use"}


@contextmanager
def anthropic_upstreams() -> Iterator[tuple[str, str]]:
    """(primary origin, fallback origin): ``--dialect anthropic --name primary`` and an
    OpenAI-dialect ``--name fallback``."""
    primary = create_upstream_app(
        UpstreamSettings(name="primary", control_key=CONTROL_KEY, dialect="anthropic")
    )
    fallback = create_upstream_app(UpstreamSettings(name="fallback", control_key=CONTROL_KEY))
    with serve(primary.app) as one, serve(fallback.app) as two:
        yield one, two


def _ids_in(call: Call) -> Call:
    messages = []
    for sent in call.body.get("messages") or ():
        message = dict(sent)
        if isinstance(message.get("tool_call_id"), str):
            message["tool_call_id"] = message["tool_call_id"].removeprefix("call_")
        if message.get("tool_calls"):
            message["tool_calls"] = [
                {**c, "id": str(c.get("id")).removeprefix("call_")} for c in message["tool_calls"]
            ]
        messages.append(message)
    return call._replace(body={**call.body, "messages": messages})


class DefectiveProvider:
    """The reference ``anthropic`` provider with one defect (or legal variant) switched on."""

    def __init__(self, inner: Provider, defect: str) -> None:
        self.name = inner.name
        self._inner = inner
        self._defect = defect

    async def aclose(self) -> None:
        await self._inner.aclose()

    def _call(self, call: Call) -> Call:
        body = dict(call.body)
        messages = list(body.get("messages") or ())
        if self._defect == "drop_system":
            body["messages"] = [m for m in messages if m["role"] not in ("system", "developer")]
        elif self._defect == "system_as_user":
            body["messages"] = [
                {**m, "role": "user"} if m["role"] in ("system", "developer") else m
                for m in messages
            ]
        elif self._defect == "default_max_tokens" and not (
            body.get("max_tokens") or body.get("max_completion_tokens")
        ):
            body["max_completion_tokens"] = 16
        call = call._replace(body=body)
        return _ids_in(call) if self._defect == "rewrite_tool_ids" else call

    def _calls(self, calls: list[dict[str, Any]], *, whole: bool) -> None:
        """``whole``: the calls of a whole answer (not stream deltas)."""
        for call in calls:
            function = call.get("function") or {}
            if self._defect == "rewrite_tool_ids" and call.get("id"):
                call["id"] = f"call_{call['id']}"
            if not whole or not function.get("arguments"):
                continue
            if self._defect == "args_object":
                function["arguments"] = json.loads(function["arguments"])
            if self._defect == "compact_arguments":
                compact = json.dumps(json.loads(function["arguments"]), separators=(",", ":"))
                function["arguments"] = compact

    def _finish(self, choice: dict[str, Any]) -> None:
        reason = choice.get("finish_reason")
        if self._defect == "length_as_stop" and reason == "length":
            choice["finish_reason"] = "stop"
        if self._defect == "finish_passthrough" and reason in _LEAKED:
            choice["finish_reason"] = _LEAKED[reason]

    async def complete(self, call: Call) -> Reply:
        reply = await self._inner.complete(self._call(call))
        body: dict[str, Any] = dict(reply.body or {})
        for choice in body.get("choices") or ():
            self._calls(choice["message"].get("tool_calls") or [], whole=True)
            self._finish(choice)
        usage = body.get("usage") or {}
        details = usage.get("prompt_tokens_details") or {}
        cached = int(details.get("cached_tokens") or 0)
        written = int(details.get("cache_write_tokens") or 0)
        if self._defect == "usage_input_only" and usage:
            usage["prompt_tokens"] -= cached + written
            usage["total_tokens"] -= cached + written
            details["cached_tokens"] = 0
        prompt = reply.prompt_tokens + (written if self._defect == "bill_cache_twice" else 0)
        return reply._replace(body=body, prompt_tokens=prompt)

    async def stream(self, call: Call) -> AsyncIterator[dict[str, Any]]:
        so_far: dict[int, str] = {}
        async for item in self._inner.stream(self._call(call)):
            for choice in item.get("choices") or ():
                delta = choice.get("delta") or {}
                calls = delta.get("tool_calls") or []
                self._calls(calls, whole=False)
                if self._defect == "args_cumulative":
                    for piece in calls:
                        function = piece.get("function") or {}
                        index = piece.get("index", 0)
                        so_far[index] = so_far.get(index, "") + (function.get("arguments") or "")
                        if function.get("arguments"):
                            function["arguments"] = so_far[index]
                self._finish(choice)
            yield item


def translating_gateway(primary: str, fallback: str, store: Path, defect: str | None = None) -> Any:
    """The app of anthropic-gateway.yaml pointed at these upstreams (and this store)."""
    raw = yaml.safe_load(CONFIG.read_text())
    raw["providers"]["claude"]["base_url"] = primary
    raw["providers"]["fallback"]["base_url"] = f"{fallback}/v1"
    raw["controls"]["store"]["path"] = str(store)
    previous = os.environ.get("PARITY_UPSTREAM_KEY")
    os.environ["PARITY_UPSTREAM_KEY"] = "sk-parity-demo"
    try:
        settings = settings_from_mapping(raw)
    finally:
        if previous is None:
            del os.environ["PARITY_UPSTREAM_KEY"]
        else:
            os.environ["PARITY_UPSTREAM_KEY"] = previous
    providers: Mapping[str, Provider] = build_providers(settings)
    if defect is not None:
        providers = {**providers, "claude": DefectiveProvider(providers["claude"], defect)}
    return create_app(settings, providers=providers)
