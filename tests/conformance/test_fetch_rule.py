"""URLs the target hands out are fetched only from its own host, or a host --allow-fetch names."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from conformance.client import RecordingClient
from conformance.errors import CheckSkipped, UsageError
from conformance.profiles import OPENAI
from conformance.runner import run_check_ids
from conformance.settings import settings_from
from tests.conformance.fakes.media_fake import png
from tests.live import serve

_CHECK = "images.url.fetchable"


class _ImageHost:
    """An image endpoint whose URLs point at ``host`` (on this server's port)."""

    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.fetched = 0

    def app(self) -> Starlette:
        async def models(request: Request) -> Response:
            return JSONResponse({"object": "list", "data": [{"id": "dall-e-3"}]})

        async def generate(request: Request) -> Response:
            url = f"http://{self.host}:{request.url.port}/files/image.png"
            return JSONResponse({"created": int(time.time()), "data": [{"url": url}]})

        async def image(request: Request) -> Response:
            self.fetched += 1
            return Response(png(1024, 1024), media_type="image/png")

        return Starlette(
            routes=[
                Route("/v1/models", models),
                Route("/v1/images/generations", generate, methods=["POST"]),
                Route("/files/image.png", image),
            ]
        )


@pytest.fixture(scope="module")
def image_host() -> Iterator[tuple[_ImageHost, str]]:
    host = _ImageHost()
    with serve(host.app()) as origin:
        yield host, origin


@pytest.mark.parametrize(
    ("url_host", "allow", "outcome", "fetches"),
    [
        ("127.0.0.1", (), "passed", 1),
        ("localhost", (), "skipped", 0),
        ("localhost", ("localhost",), "passed", 1),
    ],
    ids=["own-host", "other-host", "other-host-allowed"],
)
def test_fetch_rule_images_url_only_from_the_target_or_allowed_hosts(
    image_host: tuple[_ImageHost, str],
    url_host: str,
    allow: tuple[str, ...],
    outcome: str,
    fetches: int,
) -> None:
    host, origin = image_host
    host.host, host.fetched = url_host, 0
    result = run_check_ids(
        origin + "/v1", "k", [_CHECK], models={"image": "dall-e-3"}, allow_fetch=allow
    ).by_id()[_CHECK]
    assert result.outcome == outcome, result.message
    assert host.fetched == fetches
    if outcome == "skipped":
        assert result.skip == "not_fetched"
        assert "pass --allow-fetch localhost to fetch it" in result.message


async def test_fetch_rule_client_refuses_before_spending(engine_origin: str) -> None:
    async with RecordingClient(engine_origin + "/v1", "k", max_requests=1) as client:
        with pytest.raises(CheckSkipped, match=r"'169\.254\.169\.254'") as refused:
            await client.request("GET", "http://169.254.169.254/latest/meta-data/")
        assert refused.value.kind == "not_fetched"
        assert client.requests == 0
        own = await client.request("GET", engine_origin + "/api/models", auth=False)
    assert own.status == 200


@pytest.mark.parametrize(
    ("given", "hosts"),
    [(["cdn.example.com", "A.example,b.example"], {"cdn.example.com", "a.example", "b.example"}),
     (["::1", "[::1]"], {"::1"})],
    ids=["names", "ipv6"],
)  # fmt: skip
def test_fetch_rule_allow_fetch_setting_reads_hosts(given: list[str], hosts: set[str]) -> None:
    settings = settings_from({"base_url": "http://h/v1", "allow_fetch": given}, {})
    assert settings.allow_fetch == hosts
    assert set(settings.target(OPENAI).allow_fetch) == hosts


@pytest.mark.parametrize("bad", ["https://cdn.example.com", "cdn.example.com:443"])
def test_fetch_rule_allow_fetch_refuses_urls_and_ports(bad: str) -> None:
    with pytest.raises(UsageError, match="pass a host name"):
        settings_from({"base_url": "http://h/v1", "allow_fetch": [bad]}, {})
