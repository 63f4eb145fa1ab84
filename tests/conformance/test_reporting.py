from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pytest

from conformance.client import TokenCount
from conformance.evidence import Redactor, curl_command, render_evidence
from conformance.exchange import Exchange, Read
from conformance.profiles import Profile
from conformance.reporting import default_report_dir, write_reports
from conformance.results import CheckResult, RunResult
from conformance.target import Target

KEY = "sk-live-SECRET0123456789abcdef"
OTHER = "sk-exhausted-SECRET987654321"


def _exchange(**changes) -> Exchange:
    fields = {
        "method": "POST",
        "url": "http://127.0.0.1:1/v1/chat/completions",
        "request_headers": {
            "authorization": f"Bearer {KEY}",
            "content-type": "application/json",
            "x-api-key": KEY,
            "user-agent": "parity",
        },
        "request_body": json.dumps({"model": "m", "note": f"key {KEY}"}).encode(),
        "status": 401,
        "headers": {"content-type": "application/json", "set-cookie": "session=abc"},
        "body": json.dumps(
            {"error": {"message": f"Incorrect API key provided: {KEY}", "type": "x"}}
        ).encode(),
        "reads": (Read(0.01, b"x"),),
        "headers_at": 0.005,
        "finished_at": 0.02,
    }
    fields.update(changes)
    return Exchange(**fields)


def _result(tmp_models: dict | None = None) -> RunResult:
    target = Target(
        base_url="http://127.0.0.1:1/v1",
        api_key=KEY,
        level="standard",
        profile=Profile(name="custom", exhausted_key=OTHER),
        models=tmp_models or {"chat": "gpt-x"},
    )
    results = [
        CheckResult("chat.a.passes", "chat", "POST /chat/completions", "passed", "", "spec A"),
        CheckResult(
            "errors.auth.fails",
            "errors",
            "POST /chat/completions",
            "failed",
            f"401 body echoes the key {KEY} and {OTHER}",
            "spec B",
            _exchange(),
        ),
        CheckResult(
            "errors.auth.warns",
            "errors",
            "POST /chat/completions",
            "warning",
            "odd <b>tag</b>",
            "spec C",
            _exchange(headers={"authorization": OTHER}),
        ),
        CheckResult(
            "images.a.skips",
            "images",
            "POST /images/generations",
            "skipped",
            "no image model",
            "spec D",
        ),
    ]
    return RunResult(
        target=target,
        results=results,
        requests=7,
        tokens=TokenCount(10, 5),
        started_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        duration=1.5,
    )


def test_reporting_json_has_target_summary_checks_and_evidence(tmp_path: Path) -> None:
    paths = write_reports(_result(), tmp_path / "run")
    report = json.loads(paths["json"].read_text())
    assert report["target"]["base_url"] == "http://127.0.0.1:1/v1"
    assert report["target"]["models"] == {"chat": "gpt-x"}
    assert "api_key" not in report["target"]
    assert {k: report["summary"][k] for k in ("passed", "failed", "skipped", "warnings")} == {
        "passed": 1,
        "failed": 1,
        "skipped": 1,
        "warnings": 1,
    }
    assert report["summary"]["requests"] == 7
    assert report["summary"]["tokens"] == {"prompt": 10, "completion": 5, "total": 15}
    checks = {c["id"]: c for c in report["checks"]}
    for check in checks.values():
        assert {"id", "area", "endpoint", "outcome", "message", "source"} <= set(check)
    failed = checks["errors.auth.fails"]
    assert failed["evidence"]["status"] == 401
    assert failed["evidence"]["request"]["method"] == "POST"
    assert failed["evidence"]["request"]["headers"]["authorization"] == "[redacted]"
    assert failed["evidence"]["request"]["headers"]["x-api-key"] == "[redacted]"
    assert failed["evidence"]["headers"]["set-cookie"] == "[redacted]"
    assert "Incorrect API key provided: [redacted]" in failed["evidence"]["body_excerpt"]
    assert '"authorization: Bearer $PARITY_API_KEY"' in failed["evidence"]["curl"]
    assert "evidence" not in checks["chat.a.passes"]
    assert "evidence" not in checks["images.a.skips"]


def test_reporting_never_writes_a_secret(tmp_path: Path) -> None:
    paths = write_reports(_result(), tmp_path / "run")
    for path in paths.values():
        text = path.read_text()
        assert KEY not in text, path.name
        assert OTHER not in text, path.name
        assert "SECRET" not in text, path.name


def test_reporting_junit_counts_and_failures(tmp_path: Path) -> None:
    paths = write_reports(_result(), tmp_path / "run")
    root = ET.parse(paths["junit"]).getroot()
    suite = root.find("testsuite")
    assert suite is not None
    assert suite.get("tests") == "4"
    assert suite.get("failures") == "1"
    assert suite.get("skipped") == "1"
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert cases["errors.auth.fails"].find("failure") is not None
    assert "reproduce: curl" in cases["errors.auth.fails"].find("failure").text
    assert cases["images.a.skips"].find("skipped").get("message") == "no image model"
    assert cases["errors.auth.warns"].find("system-out").text.startswith("WARNING:")
    assert cases["chat.a.passes"].get("classname") == "parity.chat"


def test_reporting_html_is_self_contained_and_escaped(tmp_path: Path) -> None:
    html = write_reports(_result(), tmp_path / "run")["html"].read_text()
    for check_id in ("chat.a.passes", "errors.auth.fails", "errors.auth.warns", "images.a.skips"):
        assert check_id in html
    assert "odd &lt;b&gt;tag&lt;/b&gt;" in html
    assert "<b>tag</b>" not in html
    # no network: nothing loaded from elsewhere
    for needle in ('src="http', "src='http", 'href="http', "@import", "url(http"):
        assert needle not in html
    assert 'data-outcome="failed"' in html
    assert '<select id="area">' in html
    # failures are listed before passes
    assert html.index("errors.auth.fails") < html.index("chat.a.passes")


def test_reporting_latest_link_and_default_dir(tmp_path: Path) -> None:
    first = default_report_dir(tmp_path, now=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert first.name == "20260102T030405Z"
    write_reports(_result(), first, latest=True)
    assert (tmp_path / "latest").resolve() == first.resolve()
    second = default_report_dir(tmp_path, now=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert second.name == "20260102T030405Z-2"
    write_reports(_result(), second, latest=True)
    assert (tmp_path / "latest").resolve() == second.resolve()
    assert (tmp_path / "latest" / "report.json").is_file()


def test_reporting_evidence_timing_and_transport_error() -> None:
    exchange = _exchange(
        status=None,
        headers={},
        body=b"",
        reads=(),
        headers_at=None,
        error=f"ConnectError: refused for {KEY}",
    )
    evidence = render_evidence(exchange, Redactor([KEY]), KEY)
    assert evidence["status"] is None
    assert evidence["error"] == "ConnectError: refused for [redacted]"
    assert evidence["timing"]["reads"] == 0


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"authorization": f"Bearer {KEY}"}, '-H "authorization: Bearer $PARITY_API_KEY"'),
        ({"authorization": f"Bearer {OTHER}"}, '-H "authorization: Bearer $PARITY_SECRET"'),
        (
            {"authorization": "Bearer sk-made-up-by-check"},
            "-H 'authorization: Bearer [redacted]'",  # a made-up key is masked like any key
        ),
        ({"x-custom": "it's"}, "-H 'x-custom: it'\"'\"'s'"),
    ],
    ids=["run-key", "other-secret", "made-up-key-masked", "shell-quoting"],
)
def test_reporting_curl_reproduces_without_secrets(headers: dict, expected: str) -> None:
    exchange = _exchange(request_headers=headers, request_body=b'{"a": 1}')
    line = curl_command(exchange, Redactor([KEY, OTHER]), KEY)
    assert expected in line
    assert line.startswith("curl -sS -X POST http://127.0.0.1:1/v1/chat/completions")
    assert line.endswith("--data-binary '{\"a\": 1}'")
    assert KEY not in line
    assert OTHER not in line


def test_reporting_curl_large_or_binary_body_not_inlined() -> None:
    line = curl_command(_exchange(request_body=b"\xff\x00" * 10), Redactor([KEY]), KEY)
    assert "@request-body.bin" in line
    assert "20 bytes" in line


def test_reporting_redactor_masks_keylike_strings() -> None:
    redactor = Redactor()
    assert redactor.text("token sk-proj-abcdefghijkl end") == "token [redacted] end"
    assert (
        redactor.text("Authorization: Bearer abc.def.ghi123") == "Authorization: Bearer [redacted]"
    )
    assert redactor.text("sk-short") == "sk-short"
    assert redactor.text("https://bob:hunter2@gw.example/v1") == "https://[redacted]@gw.example/v1"


def test_reporting_notes_reach_json_and_html(tmp_path: Path) -> None:
    import dataclasses

    result = dataclasses.replace(_result(), notes=(f"GET /models answered 401 with {KEY}",))
    paths = write_reports(result, tmp_path)
    assert json.loads(paths["json"].read_text())["notes"] == [
        "GET /models answered 401 with [redacted]"
    ]
    assert "Notes on the run" in paths["html"].read_text()


def test_reporting_html_summary_row_shows_first_line(tmp_path: Path) -> None:
    import dataclasses

    base = _result()
    long = CheckResult(
        "fuzz.a.many", "fuzz", "*", "failed", "3 findings\n[ST1] first\n[ST2] second", "spec E"
    )
    result = dataclasses.replace(base, results=[*base.results, long])
    html = write_reports(result, tmp_path)["html"].read_text()
    assert '<span class="msg">3 findings …</span>' in html
    assert "[ST2] second" in html  # the whole message is in the opened entry
