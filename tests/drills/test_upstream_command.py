"""``parity upstream`` as a process: prints its URL and control key, refuses remote binds."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest


def test_upstream_refuses_a_non_loopback_bind_without_the_flag() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "reference_server", "upstream", "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    assert "'0.0.0.0' is not a loopback address" in done.stderr


def test_upstream_prints_its_url_and_control_key_and_serves() -> None:
    argv = [sys.executable, "-m", "reference_server", "upstream", "--port", "0", "--name", "p1"]
    env = {k: v for k, v in os.environ.items() if k != "PARITY_UPSTREAM_CONTROL_KEY"}
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().split(": ", 1)[1].strip()
        process.stdout.readline()
        key = process.stdout.readline().split(": ", 1)[1].strip()
        assert url.startswith("http://127.0.0.1:")
        assert key.startswith("sk-parity-control-")
        origin = url.removesuffix("/v1")
        deadline = time.monotonic() + 10
        while True:
            try:
                health = httpx.get(
                    f"{origin}/_parity/health", headers={"authorization": f"Bearer {key}"}
                )
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert health.json() == {"upstream": "p1", "faults": 0, "ledger": 0}
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_upstream_settings_reject_bad_values(capsys: pytest.CaptureFixture[str]) -> None:
    from reference_server.upstream import main
    from reference_server.upstream.command import UpstreamSettings

    with pytest.raises(ValueError, match="'bad name'"):
        UpstreamSettings(name="bad name", control_key="k")
    with pytest.raises(ValueError, match="-1"):
        UpstreamSettings(control_key="k", itl_ms=-1)
    assert main(["--output-tokens", "0", "--control-key", "k"]) == 2
    assert "output_tokens" in capsys.readouterr().err


def test_upstream_never_echoes_a_control_key_the_operator_chose() -> None:
    secret = "sk-parity-control-chosen-by-operator"
    argv = [sys.executable, "-m", "reference_server", "upstream", "--port", "0"]
    env = {**os.environ, "PARITY_UPSTREAM_CONTROL_KEY": secret}
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(3)]
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert lines[2].startswith("control key: (as given by")
    assert not any(secret in line for line in lines)
