"""Fixtures for the load harness tests: fake targets in a thread and a ``parity load`` runner.

Locust patches with gevent, so the harness always runs in a subprocess (never imported here).
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

from tests.live import serve
from tests.load.fake_upstream import create_app

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def fake_target() -> Iterator[str]:
    """Streams with ttft 50 ms and itl 5 ms (base URL with /v1)."""
    with serve(create_app(ttft_ms=50.0, itl_ms=5.0)) as origin:
        yield f"{origin}/v1"


@pytest.fixture(scope="session")
def error_target() -> Iterator[str]:
    with serve(create_app(mode="error")) as origin:
        yield f"{origin}/v1"


def run_load(
    *args: str, timeout: float = 90.0, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "PARITY_API_KEY": "sk-test", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "conformance", "load", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=full_env,
        check=False,
    )


def summary_of(report_dir: Path) -> dict[str, Any]:
    return json.loads((report_dir / "summary.json").read_text())
