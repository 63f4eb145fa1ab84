"""Each scenario of ``parity load`` runs and reports its own section (fake target, 2 s runs)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conformance.launch import free_port
from tests.load.conftest import run_load, summary_of

SHORT = ("--duration", "2s", "--max-tokens", "8", "--stop-timeout", "5", "--max-loop-lag-ms", "250")


def test_scenarios_mixed_sends_every_kind(fake_target: str, tmp_path: Path) -> None:
    result = run_load(
        "--base-url",
        fake_target,
        "--scenario",
        "mixed",
        "--users",
        "6",
        *SHORT,
        "--report-dir",
        str(tmp_path),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    summary = summary_of(tmp_path)
    assert summary["error_rate"] == 0.0
    kinds = [
        json.loads(line)["kind"] for line in (tmp_path / "requests.jsonl").read_text().splitlines()
    ]
    assert set(kinds) == {"chat-stream", "chat", "embeddings"}
    assert kinds.count("chat-stream") > kinds.count("embeddings")  # weighted 60/25/15
    # only streams have a TTFT: nothing is invented for the others
    assert summary["ttft_ms"]["count"] == kinds.count("chat-stream")
    assert summary["e2e_ms"]["count"] == summary["requests"]


def test_scenarios_sweep_reports_one_row_per_step(fake_target: str, tmp_path: Path) -> None:
    result = run_load(
        "--base-url",
        fake_target,
        "--scenario",
        "sweep",
        "--steps",
        "1,4",
        *SHORT,
        "--duration",
        "3s",
        "--report-dir",
        str(tmp_path),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rows = summary_of(tmp_path)["sweep"]
    assert [row["users"] for row in rows] == [1.0, 4.0]
    assert all(row["requests"] > 0 for row in rows)
    # four closed-loop users complete about four times the requests of one
    assert rows[1]["rps"] > 2.5 * rows[0]["rps"]
    assert "Sweep: throughput" in (tmp_path / "report.html").read_text()


def test_scenarios_open_loop_keeps_the_rate_and_reports_lateness(
    fake_target: str, tmp_path: Path
) -> None:
    result = run_load(
        "--base-url",
        fake_target,
        "--scenario",
        "chat-stream",
        "--rate",
        "20/s",
        "--arrival",
        "poisson",
        "--max-in-flight",
        "30",
        *SHORT,
        "--duration",
        "3s",
        "--report-dir",
        str(tmp_path),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    summary = summary_of(tmp_path)
    assert summary["mode"] == "open"
    assert 30 <= summary["requests"] <= 95  # ~60 expected at 20/s for ~3 s (Poisson)
    assert summary["lateness_ms"]["count"] == summary["requests"]
    assert summary["lateness_ms"]["p50"] < 50.0


def test_scenarios_open_loop_charges_lateness_to_latency(fake_target: str, tmp_path: Path) -> None:
    # One user cannot keep 40/s with ~90 ms requests: requests go out late, and the late time
    # counts in TTFT (measured from the schedule), not hidden (coordinated omission).
    result = run_load(
        "--base-url",
        fake_target,
        "--scenario",
        "chat-stream",
        "--rate",
        "40/s",
        "--max-in-flight",
        "1",
        *SHORT,
        "--report-dir",
        str(tmp_path),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    summary = summary_of(tmp_path)
    assert summary["lateness_ms"]["p90"] > 200.0
    assert summary["ttft_ms"]["p90"] > summary["ttft_from_send_ms"]["p90"] + 200.0


def test_scenarios_fallback_section(fake_target: str, tmp_path: Path) -> None:
    result = run_load(
        "--base-url",
        fake_target,
        "--scenario",
        "fallback",
        "--model",
        "flaky",
        "--baseline-model",
        "steady",
        "--users",
        "4",
        *SHORT,
        "--report-dir",
        str(tmp_path),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    fallback = summary_of(tmp_path)["fallback"]
    assert 0.3 < fallback["client_error_rate"] < 0.7  # the fake fails every other request
    assert fallback["baseline_error_rate"] == 0.0
    assert 10.0 < fallback["added_latency_ms"] < 60.0  # it answers 20 ms later


def test_scenarios_processes_merge_workers(fake_target: str, tmp_path: Path) -> None:
    result = run_load(
        "--base-url",
        fake_target,
        "--scenario",
        "chat-stream",
        "--users",
        "4",
        "--processes",
        "2",
        *SHORT,
        "--report-dir",
        str(tmp_path),
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    summary = summary_of(tmp_path)
    assert summary["client"]["processes"] == 2
    assert summary["requests"] > 10


def test_scenarios_master_and_two_workers(fake_target: str, tmp_path: Path) -> None:
    # locust's own master/worker mode, as across hosts, here on loopback with a free port
    port = str(free_port())
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "conformance",
                "load",
                "--worker",
                "--master-host",
                "127.0.0.1",
                "--master-port",
                port,
            ],
            env={**os.environ, "PARITY_API_KEY": "sk-test"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(2)
    ]
    try:
        result = run_load(
            "--base-url",
            fake_target,
            "--scenario",
            "chat-stream",
            "--users",
            "4",
            "--master",
            "--master-port",
            port,
            "--master-bind-host",
            "127.0.0.1",
            "--expect-workers",
            "2",
            *SHORT,
            "--report-dir",
            str(tmp_path),
            timeout=120,
        )
    finally:
        for worker in workers:
            worker.wait(timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = summary_of(tmp_path)
    # each worker's monitor, shipped to the master over locust's message channel
    assert summary["client"]["processes"] == 2
    assert summary["requests"] > 5
    assert summary["error_rate"] == 0.0
    records = [json.loads(line) for line in (tmp_path / "requests.jsonl").read_text().splitlines()]
    assert len(records) == summary["requests"]
