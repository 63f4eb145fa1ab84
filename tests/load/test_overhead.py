"""``--scenario overhead``: the latency a gateway adds, measured against a gateway of known overhead.

The "gateway" is a proxy that delays every byte by a fixed time both ways (tests/load/
delay_proxy.py) in front of a paced upstream (ttft 50 ms, itl 5 ms): the truth is an added TTFT
and E2E of twice the delay and an added ITL of zero. An accuracy test with generous bounds.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.load.conftest import run_load, summary_of
from tests.load.delay_proxy import delay_proxy

DELAY_MS = 10.0
RUN = ("--users", "6", "--duration", "8s", "--max-tokens", "16", "--stop-timeout", "5")


@pytest.fixture(scope="module")
def proxied(fake_target: str) -> Iterator[str]:
    with delay_proxy(fake_target.removesuffix("/v1"), DELAY_MS / 1000.0) as origin:
        yield f"{origin}/v1"


def test_overhead_reports_the_known_added_latency(
    proxied: str, fake_target: str, tmp_path: Path
) -> None:
    result = run_load(
        "--base-url",
        proxied,
        "--direct-url",
        fake_target,
        "--scenario",
        "overhead",
        *RUN,
        "--max-loop-lag-ms",
        "250",
        "--report-dir",
        str(tmp_path),
        "--slo",
        "added_ttft_p50_ms<100",
        timeout=150,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    summary = summary_of(tmp_path)
    added = summary["added"]
    assert set(added) == {"ttft_ms", "itl_ms", "e2e_ms"}
    for row in added.values():
        assert {"p50", "p90", "p99", "spread"} <= set(row)
    truth = 2 * DELAY_MS
    assert abs(added["ttft_ms"]["p50"] - truth) <= 3.0, added["ttft_ms"]
    assert abs(added["itl_ms"]["p50"]) <= 1.0, added["itl_ms"]
    assert abs(added["e2e_ms"]["p50"] - truth) <= 3.0, added["e2e_ms"]
    spread = added["ttft_ms"]["spread"]["p50"]
    assert spread["rounds"] == 5
    assert spread["min"] <= added["ttft_ms"]["p50"] <= spread["max"]
    sides = summary["overhead"]["sides"]
    assert all(sides[s]["requests"] > 10 and sides[s]["failures"] == 0 for s in sides)
    # 20 ms is far above what two identical direct sides differ by
    assert "ttft_ms.p50" not in summary["overhead"]["below_floor"]
    assert summary["overhead"]["floor"]["ttft_ms"]["p50"] < truth / 2
    assert summary["slo"][0]["passed"]
    html = (tmp_path / "report.html").read_text()
    assert 'data-plot="overhead-ttft"' in html
    assert "through the gateway" in html
    for written in ("summary.json", "requests.jsonl", "report.html", "locust.log"):
        assert "sk-test" not in (tmp_path / written).read_text()  # both sides' key


def test_overhead_a_a_run_is_below_its_floor_or_near_zero(fake_target: str, tmp_path: Path) -> None:
    # The same URL on both sides: whatever "added" is measured is the harness's own noise.
    result = run_load(
        "--base-url",
        fake_target,
        "--direct-url",
        fake_target,
        "--scenario",
        "overhead",
        *RUN,
        "--max-loop-lag-ms",
        "250",
        "--report-dir",
        str(tmp_path),
        timeout=150,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    added = summary_of(tmp_path)["added"]
    assert abs(added["ttft_ms"]["p50"]) < 3.0
    assert abs(added["itl_ms"]["p50"]) < 1.0


def test_overhead_slo_breach_exits_1(proxied: str, fake_target: str, tmp_path: Path) -> None:
    result = run_load(
        "--base-url",
        proxied,
        "--direct-url",
        fake_target,
        "--scenario",
        "overhead",
        "--users",
        "3",
        "--duration",
        "3s",
        "--max-tokens",
        "8",
        "--stop-timeout",
        "5",
        "--max-loop-lag-ms",
        "250",
        "--report-dir",
        str(tmp_path),
        "--slo",
        "added_ttft_p99_ms<5",
        timeout=120,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    (verdict,) = summary_of(tmp_path)["slo"]
    assert not verdict["passed"]
    assert verdict["value"] > 5
    html = (tmp_path / "report.html").read_text()
    assert "FAIL: SLO breached: FAIL added_ttft_p99_ms&lt;5" in html


def test_overhead_needs_a_direct_url(fake_target: str) -> None:
    result = run_load("--base-url", fake_target, "--scenario", "overhead")
    assert result.returncode == 2
    assert "the overhead scenario needs --direct-url" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
