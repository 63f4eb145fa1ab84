"""``python -m reference_server serve`` in a subprocess: banner, serving, workers, bad config."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.live import free_port


def _start(*args: str) -> tuple[subprocess.Popen[str], list[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "reference_server", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    lines = [proc.stdout.readline().strip(), proc.stdout.readline().strip()]
    return proc, lines


def _wait(url: str) -> httpx.Response:
    deadline = time.monotonic() + 20
    while True:
        try:
            return httpx.get(url, timeout=1)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.mark.parametrize("workers", ["1", "2"], ids=["one-worker", "two-workers"])
def test_cli_serve_prints_base_url_and_demo_key_then_serves(workers: str) -> None:
    port = free_port()
    proc, lines = _start("--port", str(port), "--workers", workers)
    try:
        assert lines == [
            f"parity reference server: http://127.0.0.1:{port}/v1",
            "demo key: sk-parity-demo",
        ]
        assert _wait(f"http://127.0.0.1:{port}/api/models").status_code == 200
        response = httpx.post(
            f"http://127.0.0.1:{port}/v1/chat/completions",
            json={"messages": [{"role": "user", "content": "hi"}]},
            headers={"authorization": "Bearer sk-parity-demo"},
        )
        assert response.status_code == 200
        assert response.json()["model"] == "monday-standard"
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_cli_bad_config_exits_2_naming_the_field(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("server:\n  port: -5\n")
    result = subprocess.run(
        [sys.executable, "-m", "reference_server", "serve", "--config", str(config)],
        capture_output=True,
        check=False,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "server.port: -5" in result.stderr
