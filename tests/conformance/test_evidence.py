"""The evidence a reader sees: a curl line that reproduces the request, and the one redactor."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from conformance.client import RecordingClient
from conformance.evidence import Redactor, curl_command, redactor_for, render_evidence
from conformance.exchange import Exchange
from conformance.profiles import Profile
from conformance.settings import secrets_in, settings_from
from conformance.target import Target
from tests.live import serve

KEY = "plain-secret-0a1b2c3d4e"  # not key-like: only the run's own secrets catch it


def _exchange(headers: dict[str, str], body: bytes = b'{"a": 1}') -> Exchange:
    return Exchange(
        method="POST",
        url="http://127.0.0.1:1/v1/chat/completions",
        request_headers=headers,
        request_body=body,
        status=500,
    )


def _sent_headers(line: str) -> dict[str, str]:
    words = shlex.split(line, comments=True)
    values = [words[i + 1] for i, word in enumerate(words) if word == "-H"]
    return dict(value.split(": ", 1) for value in values)


def test_evidence_curl_carries_every_header_the_check_sent() -> None:
    sent = {
        "host": "127.0.0.1:1",
        "accept": "application/json",
        "accept-encoding": "gzip, deflate",
        "connection": "keep-alive",
        "user-agent": "parity-conformance/0.1",
        "content-type": "application/json",
        "content-length": "8",
        "openai-beta": "assistants=v2",
        "authorization": f"Bearer {KEY}",
    }
    line = curl_command(_exchange(sent), Redactor([KEY]), KEY)
    # curl derives Host and Content-Length from the URL and the body; everything else is there
    expected = {k: v for k, v in sent.items() if k not in ("host", "content-length")}
    expected["authorization"] = "Bearer $PARITY_API_KEY"  # shlex leaves the variable unexpanded
    assert _sent_headers(line) == expected
    assert "--compressed" in shlex.split(line)
    assert KEY not in line


@pytest.fixture(scope="module")
def picky_origin() -> Iterator[str]:
    """A server that fails without the Accept and custom headers the request carried."""

    async def answer(request: Request) -> Response:
        wanted = (
            request.headers.get("accept") == "application/json"
            and request.headers.get("x-trace") == "it's $HOME"
            and request.headers.get("authorization") == f"Bearer {KEY}"
        )
        if not wanted:
            return Response("missing a header", status_code=500)
        return JSONResponse({"ok": await request.json()})

    with serve(Starlette(routes=[Route("/v1/echo", answer, methods=["POST"])])) as origin:
        yield origin


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs the curl binary")
async def test_evidence_curl_line_reproduces_the_answer(picky_origin: str) -> None:
    async with RecordingClient(picky_origin + "/v1", KEY) as client:
        exchange = await client.request(
            "POST",
            "/echo",
            json={"q": "x"},
            headers={"accept": "application/json", "x-trace": "it's $HOME"},
        )
    assert exchange.status == 200
    line = curl_command(exchange, Redactor([KEY]), KEY)
    assert KEY not in line
    done = subprocess.run(
        ["bash", "-c", line + " -o /dev/null -w '%{http_code}'"],
        env={**os.environ, "PARITY_API_KEY": KEY},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.stdout == "200", done.stderr


def test_evidence_excerpt_redacts_a_secret_cut_by_the_excerpt() -> None:
    body = b"x" * 2040 + KEY.encode() + b"y" * 100
    exchange = Exchange("GET", "http://h/v1/x", {}, b"", 200, body=body)
    evidence = render_evidence(exchange, Redactor([KEY]), KEY)
    assert KEY[:6] not in evidence["body_excerpt"]
    assert "more bytes" in evidence["body_excerpt"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"x-api-key": "abcdefgh12"}', '{"x-api-key": "[redacted]"}'),
        ("Authorization: Basic dXNlcjpwYXNz", "Authorization: Basic [redacted]"),
        ("api_key=abcdef123456&x=1", "api_key=[redacted]&x=1"),
        (
            "a basic requirement, the authorization header",
            "a basic requirement, the authorization header",
        ),
        (f'json-escaped "{KEY}"', 'json-escaped "[redacted]"'),
    ],
    ids=["x-api-key", "basic", "api-key-query", "prose", "json"],
)
def test_evidence_redactor_masks_credentials_in_text(text: str, expected: str) -> None:
    assert Redactor([KEY]).text(text) == expected


def test_evidence_redactor_masks_a_secret_echoed_url_encoded() -> None:
    assert Redactor(["ab/cd+ef=gh12"]).text("?q=ab%2Fcd%2Bef%3Dgh12&x") == "?q=[redacted]&x"


def test_evidence_redactor_headers_by_name_and_value() -> None:
    headers = {"x-api-key": "anything", "x-echo": f"you sent {KEY}", "x-ok": "fine"}
    assert Redactor([KEY]).headers(headers) == {
        "x-api-key": "[redacted]",
        "x-echo": "you sent [redacted]",
        "x-ok": "fine",
    }


def test_evidence_run_secrets_come_from_key_profile_and_environment() -> None:
    environ = {
        "PARITY_API_KEY": "k-api-123456",
        "PARITY_ADMIN_KEY": "k-admin-123456",
        "PARITY_UPSTREAM_CONTROL_KEY": "k-control-123456",
        "PARITY_GATEWAY_TOKEN": "k-token-123456",
        "PARITY_LEVEL_NOTE": "not-a-secret",
        "HOME": "/root",
    }
    assert set(secrets_in(environ)) == {
        "k-api-123456",
        "k-admin-123456",
        "k-control-123456",
        "k-token-123456",
    }
    settings = settings_from({"base_url": "http://h/v1"}, environ)
    target = settings.target(Profile(exhausted_key="k-exhausted-1234"))
    redact = redactor_for(target).text
    for secret in (*secrets_in(environ), "k-exhausted-1234"):
        assert redact(f"echo {secret}") == "echo [redacted]"
    # neither the settings nor the target show a secret in their repr
    for value in (repr(settings), repr(target)):
        assert "k-api-123456" not in value
        assert "k-admin-123456" not in value


def test_evidence_target_repr_hides_the_key() -> None:
    target = Target("http://h/v1", KEY, "smoke", Profile(), secrets=("other-secret-1",))
    assert KEY not in repr(target)
    assert "other-secret-1" not in repr(target)
