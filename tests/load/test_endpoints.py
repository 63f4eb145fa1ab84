"""Every endpoint's scenario runs clean against ``parity serve`` (its embedded default config): 5 s,
4 users, 0 errors, its metrics in ``summary.json``.

The server runs in its own process (``conformance.launch``) with a fresh controls store, so
every request is authenticated, metered and settled as a deployed gateway would. A shared CI
machine stalls now and then: these runs allow more event-loop lag than the default before they
call themselves invalid (what invalidates a run is tested in test_command.py).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.launch import free_port, launched, reference_server_argv
from tests.load.conftest import run_load, summary_of

RUN = ("--users", "4", "--duration", "5s", "--stop-timeout", "5", "--max-loop-lag-ms", "250")
RUN += ("--max-client-cpu", "1.01")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("serve")
    port = free_port()
    env = {**os.environ, "PARITY_CONTROLS_DB": str(folder / "controls.db")}
    origin = f"http://127.0.0.1:{port}"
    argv = reference_server_argv("--port", str(port))
    with launched(argv, f"{origin}/api/models", log=folder / "server.log", env=env):
        yield f"{origin}/v1"


def _clean(result: object, report_dir: Path, kind: str) -> dict[str, object]:
    assert result.returncode == 0, result.stdout + result.stderr  # type: ignore[attr-defined]
    summary = summary_of(report_dir)
    assert summary["requests"] > 0
    assert summary["failures"] == {}
    assert summary["error_rate"] == 0.0
    figures: dict[str, object] = summary["kinds"][kind]
    assert figures["requests"] == summary["requests"]
    assert figures["error_rate"] == 0.0
    assert figures["e2e_ms"]["count"] == summary["requests"]  # type: ignore[index]
    return figures


@pytest.mark.parametrize(
    "kind", ["images", "speech", "transcriptions"], ids=["images", "speech", "transcriptions"]
)
def test_endpoints_media_scenario_runs_clean(served: str, kind: str, tmp_path: Path) -> None:
    result = run_load(
        "--base-url",
        served,
        "--scenario",
        kind,
        *RUN,
        "--image-size",
        "1024x1536",
        "--audio-seconds",
        "2",
        "--speech-chars",
        "120",
        "--report-dir",
        str(tmp_path),
        env={"PARITY_API_KEY": "sk-parity-demo"},
    )
    figures = _clean(result, tmp_path, kind)
    assert figures["body_bytes"]["p50"] > 0  # type: ignore[index]
    assert "ttft_ms" not in figures  # nothing streamed: no TTFT is invented
    first = json.loads((tmp_path / "requests.jsonl").read_text().splitlines()[0])
    assert first["kind"] == kind
    assert first["model"] == {"images": "gpt-image-1", "speech": "tts-1"}.get(kind, "whisper-1")


def test_endpoints_responses_stream_times_output_text_deltas(served: str, tmp_path: Path) -> None:
    result = run_load(
        "--base-url",
        served,
        "--scenario",
        "responses-stream",
        *RUN,
        "--max-tokens",
        "16",
        "--report-dir",
        str(tmp_path),
        env={"PARITY_API_KEY": "sk-parity-demo"},
    )
    figures = _clean(result, tmp_path, "responses-stream")
    summary = summary_of(tmp_path)
    assert summary["ttft_ms"]["count"] == summary["requests"]
    assert summary["itl_ms"]["count"] > 0
    assert figures["ttft_ms"]["p50"] <= figures["e2e_ms"]["p50"]  # type: ignore[index]
    first = json.loads((tmp_path / "requests.jsonl").read_text().splitlines()[0])
    kinds = [row[1] for row in first["chunks"]]
    # response.created and friends come first; the first token is an output_text delta
    assert kinds[0] == "other"
    assert kinds.count("content") == first["usage"]["completion_tokens"]
    assert kinds[-1] == "usage"  # response.completed / response.incomplete carries the usage


def test_endpoints_realtime_times_session_and_deltas(served: str, tmp_path: Path) -> None:
    result = run_load(
        "--base-url",
        served,
        "--scenario",
        "realtime",
        *RUN,
        "--report-dir",
        str(tmp_path),
        "--slo",
        "session_created_p95_ms<5000",
        env={"PARITY_API_KEY": "sk-parity-demo"},
    )
    figures = _clean(result, tmp_path, "realtime")
    assert figures["session_created_ms"]["count"] == figures["requests"]  # type: ignore[index]
    assert figures["ttft_ms"]["count"] == figures["requests"]  # type: ignore[index]
    assert figures["deltas_per_s"]["p50"] > 0  # type: ignore[index]
    first = json.loads((tmp_path / "requests.jsonl").read_text().splitlines()[0])
    marks = first["marks"]
    # connect < session.created <= response.create sent < first delta <= response.done
    first_delta = next(row[0] for row in first["chunks"] if row[1] == "content")
    assert 0 < first["headers_ms"] <= marks["session_created_ms"] <= marks["request_ms"]
    assert marks["request_ms"] < first_delta <= first["end_ms"]
    assert first["status"] == 101
    assert "sk-parity-demo" not in (tmp_path / "requests.jsonl").read_text()


def test_endpoints_mixed_follows_the_catalog(served: str, tmp_path: Path) -> None:
    result = run_load(
        "--base-url",
        served,
        "--scenario",
        "mixed",
        *RUN,
        "--users",
        "6",
        "--duration",
        "6s",
        "--report-dir",
        str(tmp_path),
        env={"PARITY_API_KEY": "sk-parity-demo"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    summary = summary_of(tmp_path)
    assert summary["error_rate"] == 0.0
    # the default catalog offers every kind: each is weighted in, and the models are its own
    assert set(summary["mix"]) == {
        "chat-stream",
        "chat",
        "embeddings",
        "responses-stream",
        "images",
        "speech",
        "transcriptions",
        "realtime",
    }
    assert summary["kind_models"]["realtime"] == "gpt-realtime"
    # the catalog page marks no default model: mixed takes the first chat model it lists
    assert summary["models"] == ["monday-fast"]
    assert summary["kinds"]["chat-stream"]["requests"] > summary["kinds"]["images"]["requests"]
    assert len(summary["kinds"]) >= 6  # a 6 s run meets nearly every kind of the mix


def test_endpoints_preflight_sends_the_run_payload_sizes(served: str, tmp_path: Path) -> None:
    # gpt-image-1 takes 1024x1024, 1536x1024, 1024x1536 or auto: a size it refuses is caught
    # by the one preflight request, before any load is sent
    result = run_load(
        "--base-url",
        served,
        "--scenario",
        "images",
        "--image-size",
        "256x256",
        "--report-dir",
        str(tmp_path),
        env={"PARITY_API_KEY": "sk-parity-demo"},
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "answered 400" in result.stderr
    assert "'gpt-image-1'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "locust.log").exists()
