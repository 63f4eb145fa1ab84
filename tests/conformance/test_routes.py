"""An endpoint the target does not serve is skipped (with the reason), not failed, unless promised.

The target below lists one chat model (so discovery also assumes Responses for it, as it does
for any chat model) and serves chat completions, but no ``/v1/responses``: a plain 404 there.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from conformance.context import CheckContext
from conformance.exchange import Exchange
from conformance.profiles import Profile, profile_from_mapping
from conformance.registry import CheckFailed, Registry, check
from conformance.results import CheckResult
from conformance.routes import unserved_capability
from conformance.runner import run_check_ids
from tests.live import serve

_MODEL = "llama-local"


def _app(responses_404: Any) -> Starlette:
    async def models(request: Request) -> Response:
        return JSONResponse({"object": "list", "data": [{"id": _MODEL, "object": "model"}]})

    async def chat(request: Request) -> Response:
        return JSONResponse({"object": "chat.completion", "choices": []})

    async def responses(request: Request) -> Response:
        return responses_404  # type: ignore[no-any-return]

    routes = [
        Route("/v1/models", models),
        Route("/v1/chat/completions", chat, methods=["POST"]),
    ]
    if responses_404 is not None:
        routes.append(Route("/v1/responses", responses, methods=["POST"]))
    return Starlette(routes=routes)


def _registry() -> Registry:
    reg = Registry()

    for name in ("text", "stream"):

        @check(f"route.responses.{name}", area="route", level="smoke", endpoint="POST /responses",
               asserts="a", source="tests", capability="responses", into=reg)  # fmt: skip
        async def check_responses(ctx: CheckContext) -> None:
            body = {"model": ctx.model("responses"), "input": "hi"}
            exchange = await ctx.client.request("POST", "/responses", json=body)
            if exchange.status != 200:
                raise CheckFailed(f"status {exchange.status}", exchange)

    @check("route.chat.answers", area="route", level="smoke", endpoint="POST /chat/completions",
           asserts="a", source="tests", capability="chat", into=reg)  # fmt: skip
    async def check_chat(ctx: CheckContext) -> None:
        body = {"model": ctx.model("chat"), "messages": []}
        exchange = await ctx.client.request("POST", "/chat/completions", json=body)
        if exchange.status != 200:
            raise CheckFailed(f"status {exchange.status}", exchange)

    return reg


IDS = ["route.responses.text", "route.responses.stream", "route.chat.answers"]


@pytest.fixture(scope="module")
def plain_404() -> Iterator[str]:
    with serve(_app(None)) as origin:  # Starlette's own "Not Found" for an unknown route
        yield origin


def _run(origin: str, **options: Any) -> dict[str, CheckResult]:
    return run_check_ids(origin + "/v1", "k", IDS, checks=_registry(), **options).by_id()


def test_routes_a_404_on_the_route_skips_the_capability(plain_404: str) -> None:
    results = _run(plain_404)
    assert results["route.chat.answers"].outcome == "passed"
    for check_id in ("route.responses.text", "route.responses.stream"):
        result = results[check_id]
        assert result.outcome == "skipped", result.message
        assert result.skip == "not_served"
        assert "does not serve POST /responses (404 on the route" in result.message


@pytest.mark.parametrize(
    "options",
    [
        {"profile": profile_from_mapping({"offers": ["responses"]})},
        {"models": {"responses": _MODEL}},
    ],
    ids=["profile-offers", "pinned"],
)
def test_routes_a_promised_capability_still_fails(plain_404: str, options: Any) -> None:
    results = _run(plain_404, **options)
    assert results["route.responses.text"].outcome == "failed"
    assert results["route.responses.stream"].outcome == "failed"


@pytest.mark.parametrize(
    "answer",
    [
        JSONResponse(
            {
                "error": {
                    "message": "gone",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "model_not_found",
                }
            },
            status_code=404,
        ),
        Response(f"The model {_MODEL} does not exist", status_code=404),
    ],
    ids=["model-not-found-code", "names-the-model"],
)
def test_routes_a_404_about_the_model_is_no_missing_route(answer: Response) -> None:
    with serve(_app(answer)) as origin:
        results = _run(origin)
    assert results["route.responses.text"].outcome == "failed"


def _exchange(url: str, body: bytes, content_type: str = "application/json") -> Exchange:
    return Exchange(
        method="POST",
        url=url,
        request_headers={"content-type": content_type},
        request_body=body,
        status=404,
        body=b'{"detail":"Not Found"}',
    )


def test_routes_unserved_capability_reads_json_and_multipart_models() -> None:
    base = "http://h/v1"
    models = {"transcription": "whisper-x", "chat": "m"}
    form = (
        b'--b\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-x\r\n'
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\nRIFF\r\n--b--'
    )
    multipart = _exchange(f"{base}/audio/transcriptions", form, "multipart/form-data; boundary=b")
    assert unserved_capability(multipart, base, models) == "transcription"

    def found(route: str, body: bytes) -> str | None:
        return unserved_capability(_exchange(base + route, body), base, models)

    assert found("/chat/completions", b'{"model": "m"}') == "chat"
    # another model (a check probing an unknown one), another route: no
    assert found("/chat/completions", b'{"model": "x"}') is None
    assert found("/chat/other", b'{"model": "m"}') is None


def test_routes_profile_offers_is_validated() -> None:
    assert profile_from_mapping({"offers": ["chat", "video"]}).offers == ("chat", "video")
    with pytest.raises(ValueError, match="field 'offers' must be a list of capabilities"):
        profile_from_mapping({"offers": ["telepathy"]})
    assert Profile().offers == ()
