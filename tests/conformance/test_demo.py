"""``parity demo``: the main job end to end, in its own processes, against the embedded server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def _demo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conformance", "demo", *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_demo_writes_both_reports_and_measures_the_configured_pacing(tmp_path: Path) -> None:
    done = _demo(
        "--report-dir", str(tmp_path), "--level", "smoke", "--duration", "3s", "--users", "4",
        "--ttft-ms", "60", "--itl-ms", "8",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    check = json.loads((tmp_path / "check" / "report.json").read_text())
    assert check["summary"]["failed"] == 0
    summary = json.loads((tmp_path / "load" / "summary.json").read_text())
    assert summary["successes"] > 0
    assert summary["error_rate"] == 0
    # The server cannot send a first token before its configured TTFT, nor tokens closer than
    # its configured ITL; a measurement below either is a harness bug.
    assert summary["ttft_ms"]["p50"] >= 60
    assert summary["itl_ms"]["p50"] >= 8 * 0.9
    assert (tmp_path / "check" / "report.html").is_file()
    assert (tmp_path / "load" / "report.html").is_file()
    assert "sk-parity-demo" not in (tmp_path / "check" / "report.json").read_text()


def test_demo_refuses_a_negative_pacing_with_the_value(tmp_path: Path) -> None:
    done = _demo("--report-dir", str(tmp_path), "--ttft-ms", "-5")
    assert done.returncode == 2
    assert "--ttft-ms must be 0..10000 ms, got -5.0" in done.stderr
