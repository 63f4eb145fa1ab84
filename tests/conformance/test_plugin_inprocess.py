"""The pytest plugin run in this process (pytest.main), so its code is measured by coverage;
test_plugin.py proves the same through real subprocesses and entry-point loading."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conformance import selection
from conformance.registry import CheckFailed, CheckWarning, Registry, check

_PLUGINS = [
    "-p",
    "no:cacheprovider",
    "-p",
    "no:locust",
    "-p",
    "no:hypothesispytest",
    "-p",
    "no:schemathesis",
    "-p",
    "no:anyio",
    "-o",
    "asyncio_default_fixture_loop_scope=function",
]


def _registry() -> Registry:
    reg = Registry()

    @check(
        "inproc.listing.ok",
        area="inproc",
        level="smoke",
        endpoint="GET /models",
        asserts="listing answers 200",
        source="tests",
        into=reg,
    )
    async def check_ok(ctx) -> None:
        exchange = await ctx.client.request("GET", "/models")
        if exchange.status != 200:
            raise CheckFailed(f"status {exchange.status}", evidence=exchange)

    @check(
        "inproc.auth.anonymous",
        area="inproc",
        level="smoke",
        endpoint="GET /models",
        asserts="anonymous listing works",
        source="tests",
        into=reg,
    )
    async def check_anonymous(ctx) -> None:
        exchange = await ctx.client.request("GET", "/models", auth=False)
        raise CheckFailed(f"anonymous listing answered {exchange.status}", evidence=exchange)

    @check(
        "inproc.misc.warns",
        area="misc",
        level="smoke",
        endpoint="-",
        asserts="w",
        source="tests",
        into=reg,
    )
    async def check_warns(ctx) -> None:
        raise CheckWarning("legal but odd")

    @check(
        "inproc.misc.video",
        area="misc",
        level="deep",
        endpoint="-",
        asserts="v",
        source="tests",
        into=reg,
        capability="video",
    )
    async def check_video(ctx) -> None:
        raise CheckFailed("never runs")

    return reg


def _cases(path: Path) -> dict[str, str]:
    outcome = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        kind = "passed"
        for child in case:
            if child.tag in ("failure", "skipped", "error"):
                kind = child.tag
        outcome[case.get("name")] = kind
    return outcome


def test_plugin_inprocess_items_outcomes_and_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine_origin: str, capsys
) -> None:
    monkeypatch.setattr(selection, "load_checks", _registry)
    monkeypatch.delenv("PARITY_API_KEY", raising=False)
    (tmp_path / "test_own.py").write_text("def test_own():\n    pass\n")
    junit = tmp_path / "j.xml"
    code = pytest.main(
        [
            str(tmp_path),
            *_PLUGINS,
            f"--junitxml={junit}",
            "--parity-base-url",
            engine_origin + "/v1",
            "--parity-api-key",
            "sk-test",
            "--parity-level",
            "deep",
            "--parity-report-dir",
            str(tmp_path / "rep"),
            "--parity-model",
            "chat=pinned",
        ]
    )
    out = capsys.readouterr().out
    assert code == 1, out
    assert _cases(junit) == {
        "test_own": "passed",
        "inproc.listing.ok": "passed",
        "inproc.auth.anonymous": "failure",
        "inproc.misc.warns": "passed",
        "inproc.misc.video": "skipped",
    }
    assert "inproc.auth.anonymous failed: anonymous listing answered 401" in out
    assert '"authorization: Bearer $PARITY_API_KEY"' not in out  # auth=False: no key sent
    assert "curl -sS -X GET" in out
    assert "sk-test" not in out
    report = (tmp_path / "rep" / "report.json").read_text()
    assert '"chat": "pinned"' in report
    assert "sk-test" not in report


def test_plugin_inprocess_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setattr(selection, "load_checks", _registry)
    code = pytest.main(
        [
            str(tmp_path),
            *_PLUGINS,
            "--parity-base-url",
            "http://127.0.0.1:9/v1",
            "--parity-skip",
            "inproc.nope",
        ]
    )
    assert code == pytest.ExitCode.USAGE_ERROR
    assert "unknown check id 'inproc.nope'" in capsys.readouterr().err
    code = pytest.main([str(tmp_path), *_PLUGINS, "--parity-base-url", "ftp://x"])
    assert code == pytest.ExitCode.USAGE_ERROR
