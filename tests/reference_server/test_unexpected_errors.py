"""An exception the server cannot name is logged, with its traceback and without a secret,
before it answers 500 (or, after the commit point, an in-stream error event)."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from reference_server.app import build_providers, create_app
from reference_server.config import settings_from_mapping
from reference_server.providers.base import Call, Reply

SECRET = "sk-parity-never-log-me-7f3a"
AUTH = {"authorization": f"Bearer {SECRET}"}


class BrokenProvider:
    """A provider with a bug: it raises something no layer of the gateway names."""

    name = "synthetic"

    async def aclose(self) -> None:
        return None

    async def complete(self, call: Call) -> Reply:
        user = call.body["user"]  # the secret is in a local of the failing frame
        raise RuntimeError(f"a bug in the provider ({len(user)} characters of user)")

    async def stream(self, call: Call) -> AsyncIterator[dict[str, Any]]:
        yield {
            "id": "c",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": call.model,
            "choices": [{"index": 0, "delta": {"content": "Hi"}, "finish_reason": None}],
        }
        user = call.body["user"]
        raise KeyError(f"a bug after the commit point ({len(user)} characters of user)")


def _app() -> Any:
    settings = settings_from_mapping(
        {
            "keys": [{"id": "test", "secret": SECRET, "scopes": ["ai:consume"]}],
            "controls": {"enabled": False},
        }
    )
    providers = {**build_providers(settings), "synthetic": BrokenProvider()}
    return create_app(settings, providers=providers)


def _body(*, stream: bool) -> dict[str, Any]:
    # The key is everywhere a careless log line could pick it up: headers, messages, fields.
    return {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": f"my key is {SECRET}"}],
        "user": SECRET,
        "stream": stream,
    }


def _logged(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "reference_server"]


def _rendered(records: list[logging.LogRecord]) -> str:
    formatter = logging.Formatter("%(levelname)s %(name)s %(message)s")
    return "\n".join(formatter.format(r) for r in records)


async def test_unexpected_exception_is_logged_with_traceback_and_no_secret_then_500(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="reference_server")
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post("/v1/chat/completions", json=_body(stream=False), headers=AUTH)
    assert response.status_code == 500
    assert response.json()["error"]["type"] == "server_error"
    assert "bug" not in response.text
    records = _logged(caplog)
    assert len(records) == 1
    record = records[0]
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None
    assert record.exc_info[0] is RuntimeError
    text = _rendered(records)
    assert "Traceback" in text
    assert "a bug in the provider" in text
    assert response.headers["x-request-id"] in text  # the client's id finds the log line
    assert SECRET not in text


async def test_unexpected_exception_mid_stream_is_logged_then_an_in_stream_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="reference_server")
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post("/v1/chat/completions", json=_body(stream=True), headers=AUTH)
    assert response.status_code == 200
    payloads = [line[6:] for line in response.text.split("\n") if line.startswith("data: ")]
    assert json.loads(payloads[-1])["error"]["type"] == "server_error"
    assert "[DONE]" not in payloads
    records = _logged(caplog)
    assert len(records) == 1
    assert records[0].exc_info is not None
    assert records[0].exc_info[0] is KeyError
    text = _rendered(records)
    assert "a bug after the commit point" in text
    assert response.headers["x-request-id"] in text
    assert SECRET not in text


async def test_named_refusals_are_not_logged_as_failures(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="reference_server")
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        bad_key = await client.post(
            "/v1/chat/completions", json=_body(stream=False), headers={"authorization": "Bearer x"}
        )
        bad_body = await client.post("/v1/chat/completions", json={"messages": 1}, headers=AUTH)
    assert (bad_key.status_code, bad_body.status_code) == (401, 400)
    assert _logged(caplog) == []
