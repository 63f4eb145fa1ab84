"""Gating CI on what changed: --baseline, --write-baseline, parity diff, and runs that could not
judge every check (the summary says how many and why; --fail-on-skip makes that exit 1)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from conformance import selection
from conformance.cli import main
from conformance.context import CheckContext
from conformance.registry import CheckFailed, Registry, check


def _registry() -> Registry:
    reg = Registry()

    @check("gate.listing.ok", area="gate", level="smoke", endpoint="GET /models",
           asserts="listing answers 200", source="tests", into=reg)  # fmt: skip
    async def check_ok(ctx: CheckContext) -> None:
        exchange = await ctx.client.request("GET", "/models")
        if exchange.status != 200:
            raise CheckFailed(f"status {exchange.status}", evidence=exchange)

    @check("gate.auth.anonymous", area="gate", level="smoke", endpoint="GET /models",
           asserts="anonymous listing works", source="tests", into=reg)  # fmt: skip
    async def check_anonymous(ctx: CheckContext) -> None:
        exchange = await ctx.client.request("GET", "/models", auth=False)
        if exchange.status != 200:
            raise CheckFailed(f"anonymous listing answered {exchange.status}", evidence=exchange)

    @check("gate.listing.again", area="gate", level="smoke", endpoint="GET /models",
           asserts="listing answers 200 twice", source="tests", into=reg)  # fmt: skip
    async def check_again(ctx: CheckContext) -> None:
        await check_ok(ctx)

    return reg


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch, engine_origin: str, tmp_path: Path) -> list[str]:
    """The check command's argv against the engine app, with this module's checks."""
    monkeypatch.setattr(selection, "load_checks", _registry)
    for name in ("PARITY_BASE_URL", "OPENAI_BASE_URL", "PARITY_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    return ["check", "--base-url", engine_origin + "/v1", "--api-key", "sk-test"]


def _report(directory: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads((directory / "report.json").read_text())
    return report


def _outcomes(report: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["outcome"] for c in report["checks"]}


def test_gate_write_baseline_then_known_failure_is_accepted(
    gate: list[str], tmp_path: Path, capsys: Any
) -> None:
    baseline = tmp_path / "parity-baseline.json"
    argv = [*gate, "--level", "smoke", "--skip", "gate.listing.again"]
    assert (
        main([*argv, "--report-dir", str(tmp_path / "a"), "--write-baseline", str(baseline)]) == 1
    )
    written = json.loads(baseline.read_text())
    assert written["parity_baseline"] == "1"
    assert written["parity"]["version"]
    assert written["options"]["level"] == "smoke"
    assert written["options"]["skip"] == ["gate.listing.again"]
    assert "base_url" not in json.dumps(written)
    assert "sk-test" not in baseline.read_text()
    assert written["checks"] == [
        {"id": "gate.auth.anonymous", "outcome": "failed"},
        {"id": "gate.listing.again", "outcome": "skipped"},
        {"id": "gate.listing.ok", "outcome": "passed"},
    ]
    capsys.readouterr()

    assert main([*argv, "--report-dir", str(tmp_path / "b"), "--baseline", str(baseline)]) == 0
    out = capsys.readouterr().out
    assert "Accepted (failed in the baseline too):" in out
    assert "gate.auth.anonymous: anonymous listing answered 401" in out
    report = _report(tmp_path / "b")
    assert _outcomes(report)["gate.auth.anonymous"] == "accepted"
    assert (report["summary"]["accepted"], report["summary"]["failed"]) == (1, 0)
    assert "evidence" in next(c for c in report["checks"] if c["outcome"] == "accepted")
    assert any("1 failure(s) it already had are accepted" in note for note in report["notes"])
    case = next(
        c
        for c in ET.parse(tmp_path / "b" / "junit.xml").getroot().iter("testcase")
        if c.get("name") == "gate.auth.anonymous"
    )
    skipped = case.find("skipped")
    assert skipped is not None
    assert skipped.get("type") == "accepted"
    assert case.find("failure") is None
    html = (tmp_path / "b" / "report.html").read_text()
    assert 'data-outcome="accepted"' in html
    assert "known failure(s) accepted from the baseline" in html

    # A previous report.json is a baseline too; a run at another level says they differ.
    again = [*gate, "--report-dir", str(tmp_path / "c"), "--baseline"]
    assert main([*again, str(tmp_path / "a" / "report.json")]) == 0
    notes = _report(tmp_path / "c")["notes"]
    assert any("level 'smoke' there, 'standard' here" in note for note in notes)


def test_gate_a_new_failure_fails_despite_the_baseline(gate: list[str], tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    checks = [{"id": "gate.auth.anonymous", "outcome": "passed"}]
    baseline.write_text(json.dumps({"checks": checks}))
    assert main([*gate, "--report-dir", str(tmp_path / "r"), "--baseline", str(baseline)]) == 1
    assert _outcomes(_report(tmp_path / "r"))["gate.auth.anonymous"] == "failed"


@pytest.mark.parametrize(
    ("content", "shown"),
    [
        (None, "cannot read it"),
        ("{not json", "not JSON"),
        ('{"checks": [{"id": "x", "outcome": "great"}]}', "an 'outcome' from"),
    ],
    ids=["missing", "not-json", "bad-outcome"],
)
def test_gate_unusable_baseline_exits_2_before_the_run(
    gate: list[str], tmp_path: Path, capsys: Any, content: str | None, shown: str
) -> None:
    path = tmp_path / "baseline.json"
    if content is not None:
        path.write_text(content)
    assert main([*gate, "--report-dir", str(tmp_path / "r"), "--baseline", str(path)]) == 2
    err = capsys.readouterr().err
    assert shown in err
    assert "--write-baseline" in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()


def test_gate_capped_run_says_what_it_could_not_judge(
    gate: list[str], tmp_path: Path, capsys: Any
) -> None:
    capped = [*gate, "--only", "gate", "--max-requests", "3", "--skip", "gate.auth.anonymous"]
    assert main([*capped, "--report-dir", str(tmp_path / "a")]) == 0
    out = capsys.readouterr().out
    assert "not judged: 1 of 3 checks: 1 with the request budget spent (--max-requests)." in out
    summary = _report(tmp_path / "a")["summary"]
    assert summary["not_judged"]["total"] == 1
    assert summary["not_judged"]["by_reason"] == {"budget": 1}
    skips = {c["id"]: c.get("skip") for c in _report(tmp_path / "a")["checks"]}
    assert skips["gate.auth.anonymous"] == "requested"
    # --fail-on-skip: the unjudged check fails the run; the one asked to skip does not count
    assert main([*capped, "--report-dir", str(tmp_path / "b"), "--fail-on-skip"]) == 1
    assert "1 check(s) not judged (--fail-on-skip)" in capsys.readouterr().err
    uncapped = [*gate, "--only", "gate", "--skip", "gate.auth.anonymous", "--fail-on-skip"]
    assert main([*uncapped, "--report-dir", str(tmp_path / "c")]) == 0


def _run_file(path: Path, outcomes: dict[str, str]) -> str:
    checks = [{"id": i, "outcome": o, "message": f"{i} was {o}"} for i, o in outcomes.items()]
    path.write_text(json.dumps({"parity": {"version": "x"}, "checks": checks}))
    return str(path)


def test_gate_diff_names_new_fixed_and_changed(tmp_path: Path, capsys: Any) -> None:
    a = _run_file(
        tmp_path / "a.json",
        {"c.new": "passed", "c.fixed": "failed", "c.odd": "warning", "c.known": "failed"},
    )
    b = _run_file(
        tmp_path / "b.json",
        {"c.new": "failed", "c.fixed": "passed", "c.odd": "passed", "c.known": "accepted"}
        | {"c.added": "skipped"},
    )
    assert main(["diff", a, b]) == 1
    out = capsys.readouterr().out
    assert "new failures (1):\n  c.new: passed -> failed: c.new was failed\n" in out
    assert "fixed (1):\n  c.fixed: failed -> passed" in out
    assert "changed outcomes (2):\n  c.added: absent -> skipped" in out
    assert "  c.odd: warning -> passed" in out
    assert "c.known" not in out  # failed, then accepted: the same failure, still known
    # Only fixes and changes: nothing new fails, exit 0.
    x = _run_file(tmp_path / "x.json", {"c.1": "failed", "c.2": "warning"})
    y = _run_file(tmp_path / "y.json", {"c.1": "passed", "c.2": "skipped"})
    assert main(["diff", x, y]) == 0
    out = capsys.readouterr().out
    assert "new failures: none" in out
    assert "fixed (1):" in out
    assert "changed outcomes (1):" in out


def test_gate_diff_unreadable_file_exits_2(tmp_path: Path, capsys: Any) -> None:
    assert main(["diff", str(tmp_path / "nope.json"), str(tmp_path / "nope.json")]) == 2
    err = capsys.readouterr().err
    assert "parity diff: A" in err
    assert "cannot read it" in err


def test_gate_diff_reads_a_written_baseline(gate: list[str], tmp_path: Path, capsys: Any) -> None:
    baseline = tmp_path / "baseline.json"
    argv = [*gate, "--report-dir", str(tmp_path / "r"), "--write-baseline", str(baseline)]
    assert main(argv) == 1
    assert main(["diff", str(baseline), str(tmp_path / "r" / "report.json")]) == 0
    out = capsys.readouterr().out
    assert "new failures: none" in out
    assert "changed outcomes: none" in out


def test_gate_plugin_baseline_makes_known_failures_xfail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine_origin: str, capsys: Any
) -> None:
    monkeypatch.setattr(selection, "load_checks", _registry)
    baseline = tmp_path / "baseline.json"
    baseline.write_text(
        json.dumps({"checks": [{"id": "gate.auth.anonymous", "outcome": "failed"}]})
    )
    plugins = ["-p", "no:cacheprovider", "-p", "no:locust", "-p", "no:hypothesispytest"]
    plugins += ["-p", "no:schemathesis", "-p", "no:anyio", "-rA"]
    plugins += ["-o", "asyncio_default_fixture_loop_scope=function"]
    code = pytest.main(
        [
            str(tmp_path),
            *plugins,
            "--parity-base-url",
            engine_origin + "/v1",
            "--parity-api-key",
            "sk-test",
            "--parity-baseline",
            str(baseline),
            "--parity-report-dir",
            str(tmp_path / "rep"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "parity::gate.auth.anonymous - accepted (in the baseline): anonymous listing" in out
    assert _outcomes(_report(tmp_path / "rep"))["gate.auth.anonymous"] == "accepted"
