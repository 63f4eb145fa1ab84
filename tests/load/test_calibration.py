"""``parity load --calibrate`` produces its figures (against a fake target with exact delays)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.load.conftest import run_load


def test_calibration_figures_produced(fake_target: str, tmp_path: Path) -> None:
    result = run_load(
        "--calibrate",
        "--base-url",
        fake_target,
        "--expect-ttft-ms",
        "50",
        "--expect-itl-ms",
        "5",
        "--users",
        "8",
        "--calibrate-seconds",
        "1.5",
        "--calibrate-steps",
        "4,16",
        "--calibrate-max-streams",
        "30",
        "--max-loop-lag-ms",
        "250",
        "--report-dir",
        str(tmp_path),
        timeout=150,
    )
    assert result.returncode in (0, 3), result.stdout + result.stderr
    calibration = json.loads((tmp_path / "calibration.json").read_text())
    for name in ("ttft_error_ms", "itl_error_ms"):
        figures = calibration[name]
        assert figures["samples"] > 10
        assert isinstance(figures["p50"], float)
        assert isinstance(figures["p99"], float)
    # exact delays on loopback: the median error is a few ms at most, never tens
    assert abs(calibration["ttft_error_ms"]["p50"]) < 25.0
    assert abs(calibration["itl_error_ms"]["p50"]) < 3.0
    assert calibration["reference_reader"]["requests"] > 0
    assert calibration["harness_minus_reference_ms"]["itl_p50"] is not None
    assert [row["streams"] for row in calibration["steps"]] == [4, 16]
    assert calibration["steps"][1]["events_per_s"] > calibration["steps"][0]["events_per_s"]
    assert "max_accurate_events_per_s" in calibration
    assert calibration["scale"]["streams"] == 30
    assert calibration["scale"]["error_rate"] == 0.0
    assert "reference reader" in calibration["method"]
