"""Fallback before the first byte, never after; circuit breakers; billing of the answering deployment."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import openai
import pytest

from reference_server.app import build_providers, create_app, default_controls
from reference_server.config import Settings, settings_from_mapping
from reference_server.controls.base import Admission, Principal, Served, Settlement, Ticket
from reference_server.providers.base import Call, ProviderError, Reply
from tests.live import serve

AUTH = {"authorization": "Bearer sk-parity-demo"}
MESSAGES = [{"role": "user", "content": "hello"}]


class RecordingControls:
    """StaticControls that records every settle and release."""

    def __init__(self, settings: Settings) -> None:
        self.inner = default_controls(settings)
        self.settled: list[Served] = []
        self.released: list[str] = []
        self.admitted: list[Admission] = []

    async def authenticate(self, authorization: str | None, scope: str) -> Principal:
        return await self.inner.authenticate(authorization, scope)

    async def require_quota(self, principal: Principal) -> None:
        return None

    async def admit(self, principal: Principal, admission: Admission) -> Ticket:
        self.admitted.append(admission)
        return Ticket(principal, admission, headers={"x-ratelimit-limit-requests": "1000"})

    async def settle(self, ticket: Ticket, served: Served) -> Settlement:
        self.settled.append(served)
        return Settlement(credits=0.5, headers={"x-test-credits": "0.5"})

    async def release(self, ticket: Ticket) -> None:
        self.released.append(ticket.admission.request_id)

    async def aclose(self) -> None:
        await self.inner.aclose()


def _settings(primary: dict[str, Any], *, threshold: int = 100, cooldown: float = 10.0) -> Settings:
    return settings_from_mapping(
        {
            "server": {"circuit_failure_threshold": threshold, "circuit_cooldown_s": cooldown},
            "providers": {
                "primary": {"type": "synthetic", **primary},
                "backup": {"type": "synthetic"},
            },
            "models": [
                {
                    "name": "alias",
                    "category": "text",
                    "input_per_mtok": 1,
                    "output_per_mtok": 2,
                    "deployments": [
                        {
                            "name": "primary/m",
                            "provider": "primary",
                            "model": "m",
                            "input_per_mtok": 1,
                        },
                        {
                            "name": "backup/m",
                            "provider": "backup",
                            "model": "m",
                            "input_per_mtok": 9,
                        },
                    ],
                },
                {
                    "name": "solo",
                    "category": "text",
                    "input_per_mtok": 1,
                    "output_per_mtok": 2,
                    "deployments": [
                        {"name": "primary/solo", "provider": "primary", "model": "solo"}
                    ],
                },
            ],
            "default_model": "alias",
        }
    )


def test_failing_primary_falls_back_and_only_backup_is_billed() -> None:
    settings = _settings({"faults": {"error_rate": 1.0}})
    controls = RecordingControls(settings)
    with serve(create_app(settings, controls=controls)) as origin:
        response = httpx.post(
            f"{origin}/v1/chat/completions",
            json={"model": "alias", "messages": MESSAGES},
            headers=AUTH,
        )
    assert response.status_code == 200
    assert response.headers["x-parity-deployment"] == "backup/m"
    assert response.headers["x-ratelimit-limit-requests"] == "1000"  # Ticket.headers
    assert response.headers["x-test-credits"] == "0.5"  # Settlement.headers
    assert [s.deployment for s in controls.settled] == ["backup/m"]
    assert controls.settled[0].outcome == "ok"


def test_half_failing_primary_gives_clients_zero_errors() -> None:
    faults = {
        "error_rate": 0.2,
        "timeout_rate": 0.15,
        "reset_rate": 0.15,
        "timeout_ms": 20,
        "seed": 7,
    }
    settings = _settings({"faults": faults})
    controls = RecordingControls(settings)
    with serve(create_app(settings, controls=controls)) as origin:
        client = openai.OpenAI(base_url=f"{origin}/v1", api_key="sk-parity-demo", max_retries=0)
        for i in range(30):
            if i % 2:
                chunks = list(
                    client.chat.completions.create(model="alias", messages=MESSAGES, stream=True)
                )  # type: ignore[arg-type]
                assert chunks[-1].choices[0].finish_reason == "stop"
            else:
                client.chat.completions.create(model="alias", messages=MESSAGES)  # type: ignore[arg-type]
    deployments = [s.deployment for s in controls.settled]
    assert len(deployments) == 30
    assert all(s.outcome == "ok" for s in controls.settled)
    assert 0 < deployments.count("backup/m") < 30  # both served: the faults really fired


def _sse_payloads(raw: str) -> list[str]:
    return [line[6:] for line in raw.split("\n") if line.startswith("data: ")]


def test_midstream_failure_ends_with_error_event_no_done_billed_once() -> None:
    settings = _settings({"faults": {"midstream_disconnect_rate": 1.0}})
    controls = RecordingControls(settings)
    with serve(create_app(settings, controls=controls)) as origin:
        body = {"model": "alias", "messages": MESSAGES, "stream": True}
        response = httpx.post(f"{origin}/v1/chat/completions", json=body, headers=AUTH)
        payloads = _sse_payloads(response.text)
        assert response.status_code == 200
        assert "[DONE]" not in payloads
        last = json.loads(payloads[-1])
        assert set(last["error"]) == {"message", "type", "param", "code"}
        delivered = "".join(
            (json.loads(p)["choices"][0]["delta"].get("content") or "") for p in payloads[:-1]
        )
        client = openai.OpenAI(base_url=f"{origin}/v1", api_key="sk-parity-demo", max_retries=0)
        with pytest.raises(openai.APIError):
            list(client.chat.completions.create(model="alias", messages=MESSAGES, stream=True))  # type: ignore[arg-type]
    first = controls.settled[0]
    assert first.deployment == "primary/m"  # no splice onto the backup after the commit point
    assert first.outcome == "partial"
    # Synthetic tokens are words and punctuation marks (providers/text.py).
    assert first.completion_tokens == len(re.findall(r"\w+|[^\w\s]", delivered)) > 0
    assert len(controls.settled) == 2  # one settle per request


def test_midstream_failure_in_responses_stream_is_error_event() -> None:
    settings = _settings({"faults": {"midstream_disconnect_rate": 1.0}})
    with serve(create_app(settings)) as origin:
        body = {"model": "alias", "input": "hi", "stream": True}
        response = httpx.post(f"{origin}/v1/responses", json=body, headers=AUTH)
    events = [json.loads(p) for p in _sse_payloads(response.text)]
    assert events[-1]["type"] == "error"
    assert events[-1]["sequence_number"] == events[-2]["sequence_number"] + 1


class SwitchProvider:
    """A provider whose failures the test turns on and off; counts calls."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.failing = False
        self.calls = 0
        self.status = 503

    async def aclose(self) -> None:
        return None

    async def complete(self, call: Call) -> Reply:
        self.calls += 1
        if self.failing:
            raise ProviderError(
                "status",
                "down",
                status=self.status,
                error_type="invalid_request_error" if self.status < 500 else "api_error",
            )
        return Reply(
            "application/json",
            body={"id": "x", "object": "chat.completion", "model": call.model, "choices": []},
            prompt_tokens=1,
            completion_tokens=1,
        )

    async def stream(self, call: Call) -> AsyncIterator[dict[str, Any]]:
        raise ProviderError("connect", "no streams here")
        yield {}  # pragma: no cover


def test_circuit_opens_shows_in_catalog_and_recovers() -> None:
    settings = _settings({}, threshold=2, cooldown=1.5)
    switch = SwitchProvider("primary")
    providers = {**build_providers(settings), "primary": switch}
    with serve(create_app(settings, providers=providers)) as origin:
        switch.failing = True
        for _ in range(2):
            response = httpx.post(
                f"{origin}/v1/chat/completions",
                json={"model": "alias", "messages": MESSAGES},
                headers=AUTH,
            )
            assert response.headers["x-parity-deployment"] == "backup/m"
        calls = switch.calls
        httpx.post(
            f"{origin}/v1/chat/completions",
            json={"model": "alias", "messages": MESSAGES},
            headers=AUTH,
        )
        assert switch.calls == calls  # open: the primary is not called
        catalog = {e["model_name"]: e for e in httpx.get(f"{origin}/api/models").json()}
        assert catalog["alias"]["health_status"] == "degraded"
        # `solo` has one deployment: its circuit is open after two failures -> not listed.
        for _ in range(2):
            httpx.post(
                f"{origin}/v1/chat/completions",
                json={"model": "solo", "messages": MESSAGES},
                headers=AUTH,
            )
        assert httpx.get(f"{origin}/api/models").json()[1]["health_status"] == "unhealthy"
        listed = [m["id"] for m in httpx.get(f"{origin}/v1/models", headers=AUTH).json()["data"]]
        assert "solo" not in listed
        assert "alias" in listed
        refused = httpx.post(
            f"{origin}/v1/chat/completions",
            json={"model": "solo", "messages": MESSAGES},
            headers=AUTH,
        )
        assert refused.status_code == 503
        assert "retry-after" in refused.headers
        switch.failing = False
        time.sleep(1.6)  # cool-down over: one half-open probe closes the circuit again
        response = httpx.post(
            f"{origin}/v1/chat/completions",
            json={"model": "alias", "messages": MESSAGES},
            headers=AUTH,
        )
        assert response.headers["x-parity-deployment"] == "primary/m"
        catalog = {e["model_name"]: e for e in httpx.get(f"{origin}/api/models").json()}
        assert catalog["alias"]["health_status"] == "healthy"


def test_upstream_4xx_is_not_retried_on_fallback() -> None:
    settings = _settings({})
    switch = SwitchProvider("primary")
    switch.failing, switch.status = True, 400
    controls = RecordingControls(settings)
    providers = {**build_providers(settings), "primary": switch}
    with serve(create_app(settings, controls=controls, providers=providers)) as origin:
        response = httpx.post(
            f"{origin}/v1/chat/completions",
            json={"model": "alias", "messages": MESSAGES},
            headers=AUTH,
        )
    assert response.status_code == 400
    assert controls.settled == []
    assert len(controls.released) == 1


def test_client_disconnect_mid_stream_settles_delivered_part() -> None:
    settings = _settings({"itl_ms": 30, "output_tokens": 200}, threshold=100)
    controls = RecordingControls(settings)
    with serve(create_app(settings, controls=controls)) as origin:
        body = {"model": "alias", "messages": MESSAGES, "stream": True}
        with httpx.stream(
            "POST", f"{origin}/v1/chat/completions", json=body, headers=AUTH
        ) as response:
            lines = response.iter_lines()
            for _ in range(6):
                next(lines)
        deadline = time.monotonic() + 5
        while not controls.settled and time.monotonic() < deadline:
            time.sleep(0.02)
    assert len(controls.settled) == 1
    served = controls.settled[0]
    assert served.outcome == "client_disconnected"
    assert 0 < served.completion_tokens < 200


async def test_timeouts_fall_back_within_budget() -> None:
    settings = _settings({"faults": {"timeout_rate": 1.0, "timeout_ms": 50}})
    with serve(create_app(settings)) as origin:
        async with httpx.AsyncClient(base_url=origin, headers=AUTH) as client:
            started = time.monotonic()
            responses = await asyncio.gather(
                *(
                    client.post(
                        "/v1/chat/completions", json={"model": "alias", "messages": MESSAGES}
                    )
                    for _ in range(5)
                )
            )
            assert time.monotonic() - started < 2
    assert all(
        r.status_code == 200 and r.headers["x-parity-deployment"] == "backup/m" for r in responses
    )


class BuggyStreamProvider(SwitchProvider):
    """Yields one chunk, then fails with a bug (not an upstream error)."""

    async def stream(self, call: Call) -> AsyncIterator[dict[str, Any]]:
        yield {
            "id": "c",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": call.model,
            "choices": [
                {"index": 0, "delta": {"role": "assistant", "content": "Hi"}, "finish_reason": None}
            ],
        }
        raise RuntimeError("a bug after the commit point")


def test_unexpected_failure_after_commit_is_an_in_stream_error() -> None:
    settings = _settings({})
    controls = RecordingControls(settings)
    providers = {**build_providers(settings), "primary": BuggyStreamProvider("primary")}
    with serve(create_app(settings, controls=controls, providers=providers)) as origin:
        body = {"model": "alias", "messages": MESSAGES, "stream": True}
        response = httpx.post(f"{origin}/v1/chat/completions", json=body, headers=AUTH)
    payloads = _sse_payloads(response.text)
    assert "[DONE]" not in payloads
    assert json.loads(payloads[-1])["error"]["type"] == "server_error"
    assert "Traceback" not in response.text
    assert [s.outcome for s in controls.settled] == ["partial"]
    assert controls.settled[0].completion_tokens == 1


async def test_stream_abandoned_before_its_first_byte_is_still_settled() -> None:
    from reference_server.controls.base import Admission
    from reference_server.endpoints.sse import RelayResponse, chat_events
    from reference_server.gateway.circuit import CircuitBreakers
    from reference_server.gateway.relay import Relay

    settings = _settings({})
    controls = RecordingControls(settings)
    principal = await controls.authenticate("Bearer sk-parity-demo", "ai:consume")
    ticket = await controls.admit(
        principal, Admission("r1", "chat", "alias", ("primary/m",), 5, None, True)
    )
    closed: list[bool] = []

    async def rest() -> AsyncIterator[dict[str, Any]]:
        try:
            yield {"choices": []}
        finally:
            closed.append(True)

    rest_items = rest()
    await anext(rest_items)  # started, so that aclose() runs its finally
    relay = Relay(
        controls,
        CircuitBreakers(),
        ticket,
        deployment=settings.models[0].deployments[0],
        first={"choices": []},
        rest=rest_items,
        kind="chat",
        model="alias",
        prompt_tokens=5,
        started_at=0.0,
        first_byte_at=0.0,
    )
    response = RelayResponse(relay, chat_events(relay, model=None, include_usage=False))

    async def receive() -> dict[str, Any]:
        await asyncio.sleep(10)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        raise OSError("client went away")  # before the first body byte

    from starlette.requests import ClientDisconnect

    with pytest.raises(ClientDisconnect):
        await response({"type": "http", "asgi": {"spec_version": "2.4"}}, receive, send)
    assert [s.outcome for s in controls.settled] == ["client_disconnected"]
    assert controls.settled[0].completion_tokens == 0
    assert closed == [True]
