"""No secret in any output: a target that echoes the key everywhere leaks it nowhere.

The echo target puts the caller's key, and two secrets the run only knows from its environment
(an admin key and an upstream control key), into every body, header, error message and SSE
event it sends, and even into a model id. ``parity check`` (in a subprocess and in this
process) and the pytest plugin run the real catalog against it; the secrets must appear in no
stdout, stderr, report.json, junit.xml or report.html. The keys are deliberately not key-like
(no ``sk-``, no ``Bearer`` in the echo), so only the run's own redactor can catch them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from conformance.cli import main
from tests.live import serve

KEY = "echo-caller-5b7f1d2c9e31"
ADMIN = "echo-admin-4c8e2a9f7102"
CONTROL = "echo-control-9d1b3f6a0877"
SECRETS = (KEY, ADMIN, CONTROL)
ENV = {"PARITY_ADMIN_KEY": ADMIN, "PARITY_UPSTREAM_CONTROL_KEY": CONTROL}


def _leak(request: Request) -> str:
    key = request.headers.get("authorization", "").removeprefix("Bearer ")
    return f"you sent {key}; admin {ADMIN}; control {CONTROL}"


async def _answer(request: Request) -> Response:
    key = request.headers.get("authorization", "").removeprefix("Bearer ")
    leak = _leak(request)
    headers = {
        "x-echo": leak,
        "x-api-key": key,
        "x-request-id": key,
        "set-cookie": f"session={key}",
    }
    if request.url.path == "/v1/models":
        models = [
            {"id": f"gpt-echo-{key}", "object": "model", "created": 1, "owned_by": leak},
            {"id": "text-embedding-echo", "object": "model", "created": 1, "owned_by": key},
        ]
        return JSONResponse({"object": "list", "data": models}, headers=headers)
    body: Any = None
    if request.method == "POST" and "json" in request.headers.get("content-type", ""):
        body = await request.json()
    if isinstance(body, dict) and body.get("stream"):

        async def events() -> Iterator[bytes]:
            chunk = {"id": key, "object": "chat.completion.chunk", "model": leak}
            yield f"data: {json.dumps({**chunk, 'choices': [{'delta': {'content': leak}}]})}\n\n"
            yield f"event: error\ndata: {json.dumps({'error': {'message': leak}})}\n\n"

        return StreamingResponse(events(), media_type="text/event-stream", headers=headers)  # type: ignore[arg-type]
    if request.method == "POST" and request.url.path.endswith("/completions"):
        answer = {
            "id": key,
            "object": "chat.completion",
            "model": leak,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": leak}}],
        }
        return JSONResponse(answer, headers=headers)
    error = {"message": f"Incorrect API key provided: {leak}", "type": key, "param": key}
    return JSONResponse({"error": {**error, "code": key}}, status_code=400, headers=headers)


def _echo_app() -> Starlette:
    methods = ["GET", "POST", "DELETE"]
    return Starlette(routes=[Route("/{path:path}", _answer, methods=methods)])


@pytest.fixture(scope="module")
def echo_origin() -> Iterator[str]:
    with serve(_echo_app()) as origin:
        yield origin


def _assert_clean(label: str, text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{label} leaks {secret[:10]}..."


def _assert_reports_clean(directory: Path) -> dict[str, Any]:
    for name in ("report.json", "junit.xml", "report.html"):
        _assert_clean(name, (directory / name).read_text(encoding="utf-8"))
    report: dict[str, Any] = json.loads((directory / "report.json").read_text())
    return report


def _environ(**extra: str) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("PARITY_", "OPENAI_"))}
    environ.pop("PYTEST_ADDOPTS", None)
    return {**environ, **ENV, **extra}


@pytest.mark.slow
def test_redaction_parity_check_subprocess_leaks_nothing(echo_origin: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [
            *(sys.executable, "-m", "conformance", "check", "--base-url", echo_origin + "/v1"),
            *("--level", "standard", "--report-dir", str(tmp_path / "rep")),
        ],
        env=_environ(PARITY_API_KEY=KEY, COLUMNS="400"),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    _assert_clean("stdout", done.stdout)
    _assert_clean("stderr", done.stderr)
    # The echoed secrets did reach the messages (and were masked there), so the test can fail.
    assert "[redacted]" in done.stdout
    report = _assert_reports_clean(tmp_path / "rep")
    assert report["summary"]["failed"] > 10
    assert "[redacted]" in json.dumps(report["checks"])


def test_redaction_parity_check_in_process_leaks_nothing(
    echo_origin: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    for name in list(os.environ):
        if name.startswith(("PARITY_", "OPENAI_")):
            monkeypatch.delenv(name)
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("COLUMNS", "400")
    argv = ["check", "--base-url", echo_origin + "/v1", "--api-key", KEY, "--level", "smoke"]
    assert main([*argv, "--report-dir", str(tmp_path / "rep")]) == 1
    out, err = capsys.readouterr()
    _assert_clean("stdout", out)
    _assert_clean("stderr", err)
    assert "[redacted]" in out
    assert "FAILED" in err  # the live failure lines went through the redactor too
    _assert_reports_clean(tmp_path / "rep")


@pytest.mark.slow
def test_redaction_pytest_plugin_leaks_nothing(echo_origin: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "parity", "-rA"),
            *("--parity-base-url", echo_origin + "/v1", "--parity-api-key", KEY),
            *("--parity-level", "smoke", "--parity-report-dir", "rep", "--junitxml=j.xml"),
        ],
        cwd=tmp_path,
        env=_environ(PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", COLUMNS="400"),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    _assert_clean("pytest stdout", done.stdout)
    _assert_clean("pytest stderr", done.stderr)
    assert "[redacted]" in done.stdout
    _assert_clean("pytest junit", (tmp_path / "j.xml").read_text())
    _assert_reports_clean(tmp_path / "rep")
