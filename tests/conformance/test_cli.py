from __future__ import annotations

import argparse
import json

import pytest

from conformance import selection
from conformance.cli import main
from conformance.commands.check import UsageError, add_arguments, parse_models, resolve
from conformance.context import CheckContext
from conformance.registry import CheckFailed, CheckWarning, Registry, check


def _registry() -> Registry:
    reg = Registry()

    @check(
        "good.listing.ok",
        area="good",
        level="smoke",
        endpoint="GET /models",
        asserts="listing answers 200",
        source="tests",
        into=reg,
    )
    async def check_ok(ctx: CheckContext) -> None:
        exchange = await ctx.client.request("GET", "/models")
        if exchange.status != 200:
            raise CheckFailed(f"status {exchange.status}", evidence=exchange)

    @check(
        "good.listing.odd",
        area="good",
        level="standard",
        endpoint="GET /models",
        asserts="a warning",
        source="tests",
        into=reg,
    )
    async def check_odd(ctx: CheckContext) -> None:
        raise CheckWarning("unusual but legal")

    @check(
        "bad.auth.anonymous",
        area="bad",
        level="smoke",
        endpoint="GET /models",
        asserts="anonymous listing is refused",
        source="tests",
        into=reg,
    )
    async def check_anonymous(ctx: CheckContext) -> None:
        exchange = await ctx.client.request("GET", "/models", auth=False)
        if exchange.status != 200:
            raise CheckFailed(f"anonymous listing answered {exchange.status}", evidence=exchange)

    return reg


@pytest.fixture
def private_checks(monkeypatch: pytest.MonkeyPatch) -> Registry:
    reg = _registry()
    monkeypatch.setattr(selection, "load_checks", lambda: reg)
    return reg


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PARITY_BASE_URL", "OPENAI_BASE_URL", "PARITY_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(argv)


@pytest.mark.parametrize(
    ("argv", "env", "base_url", "api_key"),
    [
        (
            ["--base-url", "http://a/v1", "--api-key", "k1"],
            {"PARITY_BASE_URL": "http://b/v1", "PARITY_API_KEY": "k2"},
            "http://a/v1",
            "k1",
        ),
        (
            [],
            {
                "PARITY_BASE_URL": "http://b/v1/",
                "OPENAI_BASE_URL": "http://c/v1",
                "PARITY_API_KEY": "k2",
                "OPENAI_API_KEY": "k3",
            },
            "http://b/v1",
            "k2",
        ),
        ([], {"OPENAI_BASE_URL": "http://c/v1", "OPENAI_API_KEY": "k3"}, "http://c/v1", "k3"),
        (["--base-url", "http://a/v1"], {}, "http://a/v1", None),
    ],
    ids=["flags-win", "parity-env-over-openai-env", "openai-env", "no-key"],
)
def test_cli_precedence_flags_then_parity_env_then_openai_env(argv, env, base_url, api_key) -> None:
    settings = resolve(_args(*argv), env)
    assert settings.base_url == base_url
    assert settings.api_key == api_key


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "--base-url"),
        (["--base-url", "127.0.0.1:8000/v1"], "http://"),
        (["--base-url", "http://a/v1", "--max-requests", "0"], "--max-requests"),
        (["--base-url", "http://a/v1", "--model", "chat"], "CAPABILITY=MODEL"),
        (["--base-url", "http://a/v1", "--model", "llm=x"], "embedding"),
    ],
    ids=["no-target", "no-scheme", "zero-budget", "model-no-equals", "unknown-capability"],
)
def test_cli_usage_errors_explain(argv, message) -> None:
    with pytest.raises(UsageError, match=message):
        resolve(_args(*argv), {})


def test_cli_models_pins_and_none() -> None:
    assert parse_models(["chat=gpt-x", "Embedding = e1", "image=none"]) == {
        "chat": "gpt-x",
        "embedding": "e1",
        "image": "",
    }


def test_cli_no_target_exits_2_with_hint(clean_env, capsys) -> None:
    assert main(["check"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "parity serve" in err
    assert "--base-url" in err


def test_cli_unreachable_exits_2_one_line(clean_env, private_checks, capsys) -> None:
    from tests.live import free_port

    assert main(["check", "--base-url", f"http://127.0.0.1:{free_port()}/v1"]) == 2
    err = capsys.readouterr().err
    assert "cannot reach" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--skip", "good.listing.nope"],
            "unknown check id 'good.listing.nope'; did you mean good.listing.ok",
        ),
        (["--only", "god"], "unknown area 'god'; did you mean good"),
        (["--profile", "no-such-profile"], "--profile 'no-such-profile'"),
    ],
    ids=["skip-typo", "only-typo", "profile"],
)
def test_cli_plan_errors_exit_2(clean_env, private_checks, capsys, argv, message) -> None:
    assert main(["check", "--base-url", "http://127.0.0.1:9/v1", *argv]) == 2
    assert message in capsys.readouterr().err


def test_cli_run_writes_reports_and_exit_status(
    clean_env, private_checks, engine_origin, tmp_path, monkeypatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)
    base = ["check", "--base-url", engine_origin + "/v1", "--api-key", "sk-test"]
    # all checks at standard: one fails -> 1, reports under reports/<stamp>, reports/latest
    assert main(base) == 1
    out = capsys.readouterr().out
    assert "bad.auth.anonymous" in out
    assert "requests made" in out
    assert "tokens used" in out
    report = json.loads((tmp_path / "reports" / "latest" / "report.json").read_text())
    assert report["summary"]["failed"] == 1
    assert report["summary"]["warnings"] == 1
    assert report["summary"]["requests"] == 4  # discovery 2 + two checks
    # only the good area -> 0 (a warning does not fail the run)
    assert main([*base, "--only", "good", "--report-dir", str(tmp_path / "mine")]) == 0
    report = json.loads((tmp_path / "mine" / "report.json").read_text())
    assert [c["id"] for c in report["checks"]] == ["good.listing.ok", "good.listing.odd"]
    # smoke level drops the standard check; --skip reports the failing one as skipped
    assert (
        main(
            [
                *base,
                "--level",
                "smoke",
                "--skip",
                "bad.auth.anonymous",
                "--report-dir",
                str(tmp_path / "smoke"),
            ]
        )
        == 0
    )
    report = json.loads((tmp_path / "smoke" / "report.json").read_text())
    assert {c["id"]: c["outcome"] for c in report["checks"]} == {
        "good.listing.ok": "passed",
        "bad.auth.anonymous": "skipped",
    }


def test_cli_max_requests_caps_the_run(clean_env, private_checks, engine_origin, tmp_path) -> None:
    argv = [
        "check",
        "--base-url",
        engine_origin + "/v1",
        "--api-key",
        "sk-test",
        "--max-requests",
        "3",
        "--report-dir",
        str(tmp_path),
    ]
    assert main(argv) in (0, 1)
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["summary"]["requests"] == 3
    assert report["summary"]["skipped"] == 1
    assert any("--max-requests 3" in c["message"] for c in report["checks"])


def test_cli_checks_list_json(private_checks, capsys) -> None:
    assert main(["checks", "list", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in rows] == ["bad.auth.anonymous", "good.listing.ok", "good.listing.odd"]
    assert set(rows[0]) >= {"id", "area", "level", "asserts", "source"}
    assert main(["checks", "list", "--format", "json", "--level", "smoke", "--only", "good"]) == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)] == ["good.listing.ok"]


def test_cli_checks_list_table(private_checks, capsys) -> None:
    assert main(["checks", "list"]) == 0
    out = capsys.readouterr().out
    assert "good.listing.ok" in out
    assert "listing answers 200" in out
    assert main(["checks", "list", "--only", "nope"]) == 2


def test_cli_real_catalog_loads(capsys) -> None:
    """Every engineer's check module imports and lists (ids unique, sources present)."""
    assert main(["checks", "list", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows
    assert len({r["id"] for r in rows}) == len(rows)
    assert all(r["source"].strip() and r["asserts"].strip() for r in rows)


def test_cli_nothing_selected_is_a_usage_error(clean_env, monkeypatch, capsys) -> None:
    reg = Registry()

    @check(
        "late.only.deep", area="late", level="deep", endpoint="-", asserts="a", source="s", into=reg
    )
    async def check_deep(ctx: CheckContext) -> None:
        return None

    monkeypatch.setattr(selection, "load_checks", lambda: reg)
    assert main(["check", "--base-url", "http://127.0.0.1:9/v1", "--level", "smoke"]) == 2
    assert "no check runs at level 'smoke'" in capsys.readouterr().err


def test_cli_refused_key_exits_2_one_line(clean_env, private_checks, engine_origin, capsys) -> None:
    assert main(["check", "--base-url", engine_origin + "/v1", "--api-key", "sk-wrong"]) == 2
    err = capsys.readouterr().err
    assert "the API key was refused" in err
    assert "sk-wrong" not in err
    assert "Traceback" not in err
