"""The reference server's small public surface, pinned; and the ``response_model`` choice."""

from __future__ import annotations

import httpx

import reference_server.app
import reference_server.config
import reference_server.gateway
import reference_server.providers.base
from reference_server.app import create_app
from reference_server.config import settings_from_mapping
from tests.live import serve


def test_public_api_is_pinned() -> None:
    assert reference_server.app.__all__ == [
        "build_providers",
        "create_app",
        "default_controls",
        "factory",
    ]
    assert reference_server.providers.base.__all__ == [
        "Call",
        "Endpoint",
        "FailureKind",
        "Provider",
        "ProviderError",
        "Reply",
        "Upload",
    ]
    assert {"Settings", "load_settings", "settings_from_mapping", "ConfigError"} <= set(
        reference_server.config.__all__
    )
    assert reference_server.gateway.__all__ == ["SCOPE", "Answer", "Gateway", "OpenStream"]


def test_response_model_resolved_names_the_upstream_model() -> None:
    settings = settings_from_mapping({"server": {"response_model": "resolved"}})
    with serve(create_app(settings)) as origin:
        body = {"model": "monday-fast", "messages": [{"role": "user", "content": "hi"}]}
        response = httpx.post(
            f"{origin}/v1/chat/completions",
            json=body,
            headers={"authorization": "Bearer sk-parity-demo"},
        )
    assert response.json()["model"] == "claude-haiku-4-5"
