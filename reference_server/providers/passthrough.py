"""The ``openai`` provider: passthrough to any OpenAI-compatible upstream with its own key.

One pooled ``httpx.AsyncClient`` per provider, created on first use inside the serving event loop
and closed by the app's lifespan. Streams are relayed event by event as they arrive (no
buffering). Upstream failures become :class:`ProviderError`: connect errors and timeouts by
kind, error statuses with the upstream's own OpenAI error object (message, type, code, param)
and ``Retry-After``. Chat streams always ask the upstream for usage
(``stream_options.include_usage``) so the gateway can bill; the gateway drops the usage chunk
when the client did not ask for it.

Must not: log request bodies or keys.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx

from reference_server.config import OpenAIProviderSettings
from reference_server.providers.base import Call, ProviderError, Reply
from reference_server.providers.upstream_client import PooledUpstream

__all__ = ["OpenAIProvider"]

_PATHS = {
    "chat": "/chat/completions",
    "embeddings": "/embeddings",
    "images": "/images/generations",
    "speech": "/audio/speech",
    "transcriptions": "/audio/transcriptions",
    "videos": "/videos",
    "responses": "/responses",
}


def _failure(response: httpx.Response, raw: bytes) -> ProviderError:
    message, kind, code, param = (
        f"upstream answered HTTP {response.status_code}",
        "api_error",
        None,
        None,
    )
    try:
        error = json.loads(raw).get("error")
    except (ValueError, AttributeError):
        error = None
    if isinstance(error, Mapping):
        message = str(error.get("message") or message)
        kind = str(error.get("type") or kind)
        code = error.get("code") if isinstance(error.get("code"), str) else None
        param = error.get("param") if isinstance(error.get("param"), str) else None
    return ProviderError(
        "status",
        message,
        status=response.status_code,
        error_type=kind,
        code=code,
        param=param,
        retry_after=response.headers.get("retry-after"),
    )


class OpenAIProvider(PooledUpstream):
    settings: OpenAIProviderSettings

    def __init__(self, settings: OpenAIProviderSettings) -> None:
        self.name = settings.name
        self.settings = settings

    def auth_headers(self) -> dict[str, str]:
        api_key = self.settings.api_key
        return {"authorization": f"Bearer {api_key}"} if api_key else {}

    def _request(self, call: Call, *, stream: bool) -> httpx.Request:
        body = {k: v for k, v in call.body.items() if not k.startswith("_")}
        body["model"] = call.model
        headers = {"x-request-id": f"req_{call.request_id}"} if call.request_id else {}
        path = _PATHS[call.endpoint]
        if call.endpoint == "transcriptions":
            assert call.upload is not None
            data: dict[str, Any] = {}
            for key, value in body.items():
                if key == "timestamp_granularities":
                    data["timestamp_granularities[]"] = list(value)
                elif value is not None:
                    data[key] = str(value)
            files = {"file": (call.upload.filename, call.upload.content, call.upload.content_type)}
            return self.client.build_request("POST", path, data=data, files=files, headers=headers)
        if stream and call.endpoint == "chat":
            body["stream_options"] = {**(body.get("stream_options") or {}), "include_usage": True}
        return self.client.build_request("POST", path, json=body, headers=headers)

    async def complete(self, call: Call) -> Reply:
        try:
            response = await self.client.send(self._request(call, stream=False))
        except httpx.TimeoutException as exc:
            raise ProviderError(
                "timeout", f"{type(exc).__name__} calling {self.name}", status=504
            ) from None
        except httpx.TransportError as exc:
            raise ProviderError("connect", f"{type(exc).__name__} calling {self.name}") from None
        raw = response.content
        if response.status_code >= 400:
            raise _failure(response, raw)
        media_type = response.headers.get("content-type", "application/octet-stream")
        if media_type.startswith("application/json"):
            try:
                body = json.loads(raw)
            except ValueError:
                raise ProviderError("protocol", f"{self.name} answered invalid JSON") from None
            usage = body.get("usage") if isinstance(body, dict) else None
            usage = usage if isinstance(usage, dict) else {}
            prompt = int(usage.get("prompt_tokens") or usage.get("input_tokens") or 0)
            completion = int(usage.get("completion_tokens") or usage.get("output_tokens") or 0)
            return Reply(
                "application/json", body=body, prompt_tokens=prompt, completion_tokens=completion
            )
        return Reply(media_type, content=raw)

    async def stream(self, call: Call) -> AsyncIterator[dict[str, Any]]:
        try:
            response = await self.client.send(self._request(call, stream=True), stream=True)
        except httpx.TimeoutException as exc:
            raise ProviderError(
                "timeout", f"{type(exc).__name__} calling {self.name}", status=504
            ) from None
        except httpx.TransportError as exc:
            raise ProviderError("connect", f"{type(exc).__name__} calling {self.name}") from None
        try:
            if response.status_code >= 400:
                raw = await response.aread()
                raise _failure(response, raw)
            data: list[str] = []
            async for line in response.aiter_lines():
                if line.startswith("data:"):
                    data.append(line[5:].removeprefix(" "))
                    continue
                if line or not data:
                    continue  # event:, id:, comments; or a blank line with nothing pending
                payload, data = "\n".join(data), []
                if payload == "[DONE]":
                    return
                try:
                    item = json.loads(payload)
                except ValueError:
                    raise ProviderError(
                        "protocol", f"{self.name} sent a malformed stream event"
                    ) from None
                if (
                    isinstance(item, dict)
                    and "error" in item
                    and "choices" not in item
                    and "type" not in item
                ):
                    error = item["error"] if isinstance(item["error"], Mapping) else {}
                    raise ProviderError(
                        "status", str(error.get("message") or "upstream error in stream")
                    )
                if isinstance(item, dict):
                    yield item
        except httpx.TimeoutException as exc:
            raise ProviderError(
                "timeout", f"{type(exc).__name__} reading {self.name}", status=504
            ) from None
        except httpx.TransportError as exc:
            raise ProviderError("connect", f"{type(exc).__name__} reading {self.name}") from None
        finally:
            await response.aclose()
