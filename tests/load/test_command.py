"""``parity load`` end to end: short, bounded locust runs in a subprocess against fake targets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.load.conftest import run_load, summary_of

# A shared CI machine stalls now and then: the tests about other exit codes allow more lag.
SHORT = ("--duration", "2s", "--max-tokens", "8", "--stop-timeout", "5", "--max-loop-lag-ms", "250")


def assert_one_line_exit_2(result: object) -> None:
    assert result.returncode == 2, result.stderr  # type: ignore[attr-defined]
    err = result.stderr.strip()  # type: ignore[attr-defined]
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err


def test_command_chat_stream_writes_reports(fake_target: str, tmp_path: Path) -> None:
    result = run_load(
        "--base-url",
        fake_target,
        "--scenario",
        "chat-stream",
        "--users",
        "5",
        *SHORT,
        "--report-dir",
        str(tmp_path),
        "--slo",
        "ttft_p95_ms<5000",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    summary = summary_of(tmp_path)
    for metric in ("ttft_ms", "itl_ms", "tpot_ms", "e2e_ms"):
        assert set(summary[metric]) >= {"p50", "p90", "p95", "p99", "mean"}
    assert summary["requests"] > 10
    assert summary["failures"] == {}
    # fake target: first content 50 ms after the request, then one every 5 ms
    assert 45.0 < summary["ttft_ms"]["p50"] < 150.0
    assert 3.0 < summary["itl_ms"]["p50"] < 10.0
    assert summary["output_tokens"] == 8 * summary["requests"]
    assert summary["token_count_mismatches"] == 0
    assert summary["client"]["processes"] == 1
    assert summary["client"]["hub_lag_ms"]["count"] > 0
    line = json.loads((tmp_path / "requests.jsonl").read_text().splitlines()[0])
    assert [row[1] for row in line["chunks"]][:2] == ["role", "content"]
    assert "sk-test" not in (tmp_path / "requests.jsonl").read_text()
    html = (tmp_path / "report.html").read_text()
    assert "<svg" in html
    assert "(e2e - ttft) / (output_tokens - 1)" in html
    # the plots load nothing: no URL in them but the SVG namespace
    plots = html.split("<h2>Plots</h2>")[1].split("<h2>Client</h2>")[0]
    assert "http" not in plots.replace("http://www.w3.org/2000/svg", "")
    assert html.index('id="verdict"') < html.index('id="percentiles"') < html.index("<svg")
    assert (tmp_path / "locust_stats.csv").exists()


def test_command_slo_breach_exits_1(fake_target: str, tmp_path: Path) -> None:
    # the chat scenario: non-streamed answers take ~85 ms on the fake target
    result = run_load(
        "--base-url",
        fake_target,
        "--scenario",
        "chat",
        "--users",
        "2",
        *SHORT,
        "--report-dir",
        str(tmp_path),
        "--slo",
        "e2e_p50_ms<10",
        "--slo",
        "error_rate<0.01",
    )
    assert result.returncode == 1, result.stdout + result.stderr
    breached, held = summary_of(tmp_path)["slo"]
    assert not breached["passed"]
    assert breached["value"] > 10
    assert held["passed"]
    assert "SLO breached: FAIL e2e_p50_ms<10" in result.stdout


def test_command_saturated_client_exits_3(fake_target: str, tmp_path: Path) -> None:
    # The embeddings scenario, judged by a real measurement against a bound nobody can meet.
    result = run_load(
        "--base-url",
        fake_target,
        "--scenario",
        "embeddings",
        "--users",
        "2",
        *SHORT,
        "--report-dir",
        str(tmp_path),
        "--max-loop-lag-ms",
        "0.0001",
        "--max-client-cpu",
        "1.1",
    )
    assert result.returncode == 3, result.stdout + result.stderr
    summary = summary_of(tmp_path)
    assert summary["valid"] is False
    assert summary["error_rate"] == 0.0
    assert summary["requests"] > 10
    assert "event loop lag" in summary["client"]["reasons"][0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--scenario", "nope"), "unknown scenario 'nope'; valid scenarios: chat-stream"),
        (("--scenario", "chat", "--slo", "ttft<"), "malformed --slo 'ttft<'"),
        (("--scenario", "chat", "--duration", "soon"), "malformed duration 'soon'"),
        (("--scenario", "fallback"), "needs --baseline-model"),
        (("--scenario", "budget"), "needs --admin-key or PARITY_ADMIN_KEY"),
        (("--scenario", "chat", "--start-jitter", "-1"), "--start-jitter must be 0..600 seconds"),
        (
            ("--scenario", "transcriptions", "--audio-seconds", "0"),
            "--audio-seconds must be above 0",
        ),
        (
            ("--scenario", "speech", "--speech-chars", "5000"),
            "--speech-chars must be 1..4096, got 5000",
        ),
        (("--scenario", "images", "--image-size", "big"), "malformed --image-size 'big'"),
        (
            ("--scenario", "overhead", "--direct-url", "x", "--rounds", "0"),
            "--rounds must be 1..100",
        ),
        (
            ("--scenario", "overhead", "--direct-url", "ftp://u"),
            "--direct-url must start with http",
        ),
        (("--scenario", "chat", "--processes", "0"), "--processes must be at least 1, got 0"),
    ],
    ids=[
        "scenario",
        "slo",
        "duration",
        "fallback-baseline",
        "budget-admin",
        "start-jitter",
        "audio-seconds",
        "speech-chars",
        "image-size",
        "rounds",
        "direct-url",
        "processes",
    ],
)
def test_command_bad_input_is_one_line_exit_2(
    fake_target: str, args: tuple[str, ...], message: str
) -> None:
    result = run_load("--base-url", fake_target, *args, env={"PARITY_ADMIN_KEY": ""})
    assert_one_line_exit_2(result)
    assert message in result.stderr


def test_command_unreachable_target_exit_2() -> None:
    result = run_load("--base-url", "http://127.0.0.1:9/v1", "--scenario", "chat-stream")
    assert_one_line_exit_2(result)
    assert "cannot reach http://127.0.0.1:9/v1/chat/completions" in result.stderr


def test_command_erroring_target_exit_2_before_load(error_target: str, tmp_path: Path) -> None:
    result = run_load(
        "--base-url", error_target, "--scenario", "embeddings", "--report-dir", str(tmp_path)
    )
    assert_one_line_exit_2(result)
    assert "answered 500 (server_error)" in result.stderr
    assert not (tmp_path / "locust.log").exists()  # no load was sent


@pytest.mark.parametrize("model", ["stall-headers", "stall-body"], ids=["headers", "body"])
def test_command_a_stalled_request_times_out(fake_target: str, model: str, tmp_path: Path) -> None:
    # No per-read timer: the headers wait has the request's timeout, a stalled body the idle
    # watch. Either way the request ends as a timeout about --timeout after it stalled.
    result = run_load(
        "--base-url",
        fake_target,
        "--scenario",
        "chat-stream",
        "--model",
        model,
        "--users",
        "2",
        "--timeout",
        "1",
        *SHORT,
        "--duration",
        "3s",
        "--report-dir",
        str(tmp_path),
    )
    summary = summary_of(tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr  # every request failed
    assert set(summary["failures"]) == {"timeout"}
    # each ended about 1 s (the timeout) after it stalled, not the minute the server would
    # have held it: two users get through several in 3 s
    assert summary["failures"]["timeout"] >= 4
    records = [json.loads(line) for line in (tmp_path / "requests.jsonl").read_text().splitlines()]
    assert all(r["error"] == "timeout" for r in records)
    if model == "stall-body":
        assert all(r["headers_ms"] is not None and len(r["chunks"]) == 2 for r in records)
