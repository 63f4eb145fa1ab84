"""``python -m reference_server serve`` in a subprocess: banner, serving, workers, bad config."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from conformance.launch import free_port, launched, reference_server_argv


@pytest.mark.parametrize("workers", ["1", "2"], ids=["one-worker", "two-workers"])
def test_cli_serve_prints_base_url_and_demo_key_then_serves(workers: str, tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "server.log"
    argv = reference_server_argv("--port", str(port), "--workers", workers)
    with launched(argv, f"http://127.0.0.1:{port}/api/models", log=log):
        lines = log.read_text().splitlines()[:2]
        assert lines == [
            f"parity reference server: http://127.0.0.1:{port}/v1",
            "demo key: sk-parity-demo",
        ]
        response = httpx.post(
            f"http://127.0.0.1:{port}/v1/chat/completions",
            json={"messages": [{"role": "user", "content": "hi"}]},
            headers={"authorization": "Bearer sk-parity-demo"},
        )
        assert response.status_code == 200
        assert response.json()["model"] == "monday-standard"


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


@pytest.mark.parametrize(
    ("args", "config", "needle"),
    [
        (["--workers", "0"], None, "--workers must be >= 1, got 0"),
        (["--port", "70000"], None, "--port must be 0 (a free one) to 65535, got 70000"),
        (
            [],
            'controls:\n  credits_header: "bad header"\n',
            "controls.credits_header: 'bad header'",
        ),
    ],
    ids=["workers", "port", "controls-section"],
)
def test_cli_usage_and_config_errors_exit_2_before_any_worker_starts(
    tmp_path: Path, args: list[str], config: str | None, needle: str
) -> None:
    if config is not None:
        path = tmp_path / "config.yaml"
        path.write_text(config)
        args = [*args, "--config", str(path)]
    result = subprocess.run(
        [sys.executable, "-m", "reference_server", "serve", "--port", "0", *args],
        capture_output=True,
        check=False,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("parity serve: ")
    assert needle in result.stderr
    assert "Traceback" not in result.stderr
