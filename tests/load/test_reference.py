"""Scenarios that need a real gateway (admin API, metering, fallbacks) against the reference
server, run in its own process on a free loopback port: budget, rate-limit, fallback.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conformance.launch import free_port, launched, reference_server_argv
from tests.load.conftest import run_load, summary_of

ADMIN_KEY = "sk-parity-test-admin"
CONFIG = """\
controls:
  enabled: true
  rate_limit_period_s: 1   # the gateway's test knob: limits per second, so 4 s show the rate
providers:
  synthetic: {type: synthetic, ttft_ms: 20, itl_ms: 2}
  broken: {type: synthetic, faults: {error_rate: 0.5, seed: 1}}
models:
  - {name: steady, category: text, supports: [chat, streaming], input_per_mtok: 3.0,
     output_per_mtok: 15.0, deployments: [{provider: synthetic, model: steady}]}
  - {name: flaky-primary, category: text, supports: [chat, streaming], input_per_mtok: 3.0,
     output_per_mtok: 15.0, deployments: [{name: primary, provider: broken, model: p},
                                          {name: secondary, provider: synthetic, model: s}]}
default_model: steady
"""
SHORT = ("--max-tokens", "8", "--stop-timeout", "5", "--max-loop-lag-ms", "250")


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("gateway")
    config = folder / "gateway.yaml"
    config.write_text(CONFIG)
    port = free_port()
    env = {
        **os.environ,
        "PARITY_ADMIN_KEY": ADMIN_KEY,
        "PARITY_CONTROLS_DB": str(folder / "controls.db"),
    }
    origin = f"http://127.0.0.1:{port}"
    argv = reference_server_argv("--config", str(config), "--port", str(port))
    with launched(argv, f"{origin}/api/models", log=folder / "server.log", env=env):
        yield f"{origin}/v1"


@pytest.fixture(scope="module")
def admin_gateway(gateway: str) -> str:
    """The gateway, when it mounts the admin API (spec/admin.yaml) the scenarios need."""
    origin = gateway.removesuffix("/v1")
    answer = httpx.get(
        f"{origin}/admin/keys/none", headers={"Authorization": f"Bearer {ADMIN_KEY}"}
    )
    unknown_url = answer.status_code == 404 and "Unknown request URL" in answer.text
    if unknown_url:
        pytest.skip("the reference server does not mount the admin API (/admin) in this build")
    return gateway


def test_reference_budget_never_overspends(admin_gateway: str, tmp_path: Path) -> None:
    gateway = admin_gateway
    result = run_load(
        "--base-url",
        gateway,
        "--scenario",
        "budget",
        "--model",
        "steady",
        "--users",
        "24",
        "--budget-keys",
        "3",
        "--duration",
        "3s",
        *SHORT,
        "--report-dir",
        str(tmp_path),
        "--slo",
        "overspend_credits<=0",
        env={"PARITY_ADMIN_KEY": ADMIN_KEY},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    budget = summary_of(tmp_path)["budget"]
    assert budget["keys"] == 3
    assert budget["budget_credits"] > 0
    # The verdict is the clients' figure; the gateway's own stands beside it, and agrees.
    assert budget["verdict_from"] == "client_seen_credits"
    assert budget["client_seen_credits"] > 0
    assert budget["overspend_credits"] == 0
    assert budget["credits_unreported"] == 0
    assert budget["budget_kept"] is True
    assert budget["admin_matches_clients"] is True
    # the budgets were exhausted: the scenario really pushed past them
    assert budget["rejections"] > 0
    assert budget["rejections_well_formed"] == budget["rejections"]
    assert ADMIN_KEY not in (tmp_path / "summary.json").read_text()


def test_reference_rate_limit_accepts_about_the_configured_rate(
    admin_gateway: str, tmp_path: Path
) -> None:
    gateway = admin_gateway
    # 10 per 1 s period offered at 20/s for 4 s: GCRA admits its burst (<= 10) in the first
    # second, then ~10/s; the gate measures the three seconds after the first.
    result = run_load(
        "--base-url",
        gateway,
        "--scenario",
        "rate-limit",
        "--model",
        "steady",
        "--rpm",
        "10",
        "--rate-period",
        "1",
        "--duration",
        "4s",
        *SHORT,
        "--report-dir",
        str(tmp_path),
        env={"PARITY_ADMIN_KEY": ADMIN_KEY},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    section = summary_of(tmp_path)["rate_limit"]
    assert section["configured_rpm"] == 10
    assert section["offered_rpm"] > 15  # twice the limit was offered
    assert section["rejected"] > 0
    assert section["rejected_with_retry_after"] == section["rejected"]
    assert section["other_failures"] == 0
    # After the first period (the burst allowance) the accepted rate is the limit: gated.
    assert section["excess_requests"] == 0
    assert 0.8 < section["accepted_ratio_to_configured"] <= 1.05 + 1 / 30


def test_reference_fallback_hides_a_failing_primary(gateway: str, tmp_path: Path) -> None:
    result = run_load(
        "--base-url",
        gateway,
        "--scenario",
        "fallback",
        "--model",
        "flaky-primary",
        "--baseline-model",
        "steady",
        "--users",
        "4",
        "--duration",
        "3s",
        *SHORT,
        "--report-dir",
        str(tmp_path),
        "--slo",
        "client_error_rate<=0",
        env={"PARITY_API_KEY": "sk-parity-demo"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    fallback = summary_of(tmp_path)["fallback"]
    assert fallback["requests"] > 10
    assert fallback["client_error_rate"] == 0.0
    assert fallback["added_latency_ms"] is not None
    assert set(fallback["served_by"]) <= {"primary", "secondary"}
