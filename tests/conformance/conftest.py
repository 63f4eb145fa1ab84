"""Fixtures shared by the conformance tests: run check ids against an app or a URL.

``run_ids(app_or_url, ids, ...)`` serves an ASGI app with uvicorn on a free loopback port
(tests/live.py; httpx's in-process transport would buffer streams) or uses a URL as it is, runs
the given check ids through the real runner and returns ``{id: CheckResult}``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import pytest

from conformance.profiles import Profile
from conformance.registry import Capability, Level, Registry
from conformance.runner import CheckResult, run_check_ids
from tests.conformance.fakes.base import API_KEY, Switch, cached_tls
from tests.conformance.fakes.variants import BROKEN, judged_ids
from tests.live import serve

RunIds = Callable[..., dict[str, CheckResult]]


@contextlib.contextmanager
def _origin(app_or_url: Any) -> Iterator[str]:
    if isinstance(app_or_url, str):
        yield app_or_url.rstrip("/")
    else:
        with serve(app_or_url) as origin:
            yield origin


@pytest.fixture
def run_ids() -> RunIds:
    """``run_ids(app_or_url, ids, *, api_key="sk-test", level="deep", models=None, ...)``.

    ``app_or_url``: an ASGI app (served live) or an origin/base URL string. The base URL is the
    origin plus ``base_path`` (``"/v1"``). ``checks`` is a private Registry (default: every
    registered check).
    """

    def run(
        app_or_url: Any,
        ids: Iterable[str],
        *,
        api_key: str | None = "sk-test",
        level: Level = "deep",
        models: Mapping[Capability, str] | None = None,
        profile: Profile | None = None,
        checks: Registry | None = None,
        discover: bool = True,
        base_path: str = "/v1",
        max_requests: int | None = None,
        check_timeout: float = 30.0,
    ) -> dict[str, CheckResult]:
        with _origin(app_or_url) as origin:
            base_url = origin if origin.endswith(base_path) else origin + base_path
            result = run_check_ids(
                base_url,
                api_key,
                ids,
                level=level,
                models=models,
                profile=profile,
                checks=checks,
                discover=discover,
                max_requests=max_requests,
                check_timeout=check_timeout,
            )
        return result.by_id()

    return run


def _engine_app() -> Any:
    """A small OpenAI-like app for engine tests: listings, JSON, gzip, SSE, slow and broken routes."""
    import asyncio
    import gzip
    import json

    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response, StreamingResponse
    from starlette.routing import Route

    models = {
        "object": "list",
        "data": [
            {"id": "gpt-test-mini", "object": "model", "created": 1700000000, "owned_by": "t"},
            {
                "id": "text-embedding-test",
                "object": "model",
                "created": 1700000000,
                "owned_by": "t",
            },
        ],
    }

    def authorised(request: Request) -> bool:
        return request.headers.get("authorization") == "Bearer sk-test"

    async def list_models(request: Request) -> Response:
        if not authorised(request):
            return JSONResponse(
                {
                    "error": {
                        "message": "bad key",
                        "type": "invalid_request_error",
                        "param": None,
                        "code": "invalid_api_key",
                    }
                },
                status_code=401,
            )
        return JSONResponse(models)

    async def catalog(request: Request) -> Response:
        return JSONResponse({"data": []})

    async def chat(request: Request) -> Response:
        body = await request.json()
        usage = {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}
        if body.get("stream"):

            async def events() -> Any:
                for i in range(3):
                    chunk = {
                        "object": "chat.completion.chunk",
                        "choices": [{"index": 0, "delta": {"content": str(i)}}],
                    }
                    yield f"data: {json.dumps(chunk)}\n\n".encode()
                    await asyncio.sleep(0.05)
                final = {"object": "chat.completion.chunk", "choices": [], "usage": usage}
                yield f"data: {json.dumps(final)}\n\n".encode()
                yield b"data: [DONE]\n\n"

            return StreamingResponse(events(), media_type="text/event-stream")
        payload = json.dumps({"object": "chat.completion", "echo": body, "usage": usage}).encode()
        if "gzip" in request.headers.get("accept-encoding", ""):
            return Response(
                gzip.compress(payload),
                media_type="application/json",
                headers={"content-encoding": "gzip"},
            )
        return Response(payload, media_type="application/json")

    async def slow(request: Request) -> Response:
        await asyncio.sleep(1)
        return JSONResponse({})

    async def drop(request: Request) -> Response:
        async def events() -> Any:
            yield b"data: {}\n\n"
            raise RuntimeError("upstream went away")

        return StreamingResponse(events(), media_type="text/event-stream")

    return Starlette(
        routes=[
            Route("/v1/models", list_models),
            Route("/api/models", catalog),
            Route("/v1/chat/completions", chat, methods=["POST"]),
            Route("/v1/slow", slow),
            Route("/v1/drop", drop),
        ]
    )


@pytest.fixture(scope="session")
def engine_origin() -> Iterator[str]:
    """The engine test app served live for the whole session (origin, no ``/v1``)."""
    with serve(_engine_app()) as origin:
        yield origin


@pytest.fixture(scope="module")
def fake() -> Iterator[tuple[Switch, str]]:
    """The core fake server (tests/conformance/fakes), live for one module; tests set its knobs."""
    switch = Switch()
    with cached_tls(), serve(switch) as origin:
        yield switch, origin


@pytest.fixture
def failed_on_variant(fake: tuple[Switch, str], run_ids: RunIds) -> Callable[[str], dict[str, str]]:
    """``failed_on_variant(check_id)``: serve that check's broken variant, run the checks judged
    on it, and return ``{failed check id: message}`` (a good check fails alone)."""

    def run(check_id: str) -> dict[str, str]:
        switch, origin = fake
        switch.use(BROKEN[check_id])
        results = run_ids(origin, judged_ids(check_id), api_key=API_KEY, level="deep")
        return {i: r.message for i, r in results.items() if r.outcome == "failed"}

    return run
