"""The pytest plugin, driven in a subprocess (a fresh pytest session per case)."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

_CONFTEST = """
from conformance import selection
from conformance.registry import CheckFailed, CheckSkipped, CheckWarning, Registry, check

reg = Registry()


@check("plug.listing.ok", area="plug", level="smoke", endpoint="GET /models",
       asserts="listing answers 200", source="tests", into=reg)
async def check_ok(ctx):
    exchange = await ctx.client.request("GET", "/models")
    if exchange.status != 200:
        raise CheckFailed(f"status {exchange.status}", evidence=exchange)


@check("plug.auth.anonymous", area="plug", level="smoke", endpoint="GET /models",
       asserts="anonymous listing works", source="tests", into=reg)
async def check_anonymous(ctx):
    exchange = await ctx.client.request("GET", "/models", auth=False)
    if exchange.status != 200:
        raise CheckFailed(f"anonymous listing answered {exchange.status}", evidence=exchange)


@check("plug.misc.warns", area="misc", level="smoke", endpoint="-", asserts="w",
       source="tests", into=reg)
async def check_warns(ctx):
    raise CheckWarning("legal but odd")


@check("plug.misc.skips", area="misc", level="standard", endpoint="-", asserts="s",
       source="tests", into=reg, capability="video")
async def check_skips(ctx):
    raise CheckFailed("never runs: no video model")


selection.load_checks = lambda: reg
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "conftest.py").write_text(_CONFTEST)
    (tmp_path / "test_own.py").write_text("def test_own():\n    pass\n")
    return tmp_path


def _pytest(project: Path, *args: str, env: dict[str, str] | None = None, autoload: bool = False):
    """pytest in a subprocess; without ``autoload`` only parity is loaded (by ``-p parity``),
    which keeps each run fast (hypothesis and schemathesis plugins take seconds to import)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("PARITY_", "OPENAI_"))}
    environ.update(env or {})
    environ.pop("PYTEST_ADDOPTS", None)
    if autoload:
        # parity comes through its entry point; unrelated heavy plugins stay out.
        plugins = [
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
    else:
        environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        plugins = [] if "-p" in args else ["-p", "parity"]
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *plugins, *args],
        cwd=project,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _cases(path: Path) -> dict[str, str]:
    outcome = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        kind = "passed"
        for child in case:
            if child.tag in ("failure", "skipped", "error"):
                kind = child.tag
        outcome[case.get("name")] = kind
    return outcome


def test_plugin_inert_without_base_url(project: Path) -> None:
    done = _pytest(project, "--junitxml=j.xml", autoload=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _cases(project / "j.xml") == {"test_own": "passed"}
    assert "parity::" not in done.stdout


def test_plugin_env_alone_does_not_enable(project: Path, engine_origin: str) -> None:
    done = _pytest(project, "--junitxml=j.xml", env={"PARITY_BASE_URL": engine_origin + "/v1"})
    assert done.returncode == 0
    assert _cases(project / "j.xml") == {"test_own": "passed"}


def test_plugin_runs_checks_as_items(project: Path, engine_origin: str) -> None:
    done = _pytest(
        project,
        "--junitxml=j.xml",
        "--parity-base-url",
        engine_origin + "/v1",
        "--parity-api-key",
        "sk-test",
        "--parity-report-dir",
        "rep",
        "-rA",
        autoload=True,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert _cases(project / "j.xml") == {
        "test_own": "passed",
        "plug.listing.ok": "passed",
        "plug.auth.anonymous": "failure",
        "plug.misc.warns": "passed",
        "plug.misc.skips": "skipped",
    }
    assert "anonymous listing answered 401" in done.stdout
    assert "curl -sS -X GET" in done.stdout
    assert "sk-test" not in done.stdout
    assert "parity::plug.misc.warns:0: ParityWarning: legal but odd" in done.stdout
    assert "--model video=MODEL" in done.stdout
    assert (project / "rep" / "report.json").is_file()
    assert "sk-test" not in (project / "rep" / "report.json").read_text()


def test_plugin_options_select_and_key_from_env(project: Path, engine_origin: str) -> None:
    done = _pytest(
        project,
        "--junitxml=j.xml",
        "--parity-base-url",
        engine_origin + "/v1",
        "--parity-level",
        "smoke",
        "--parity-only",
        "plug",
        "--parity-skip",
        "plug.auth.anonymous",
        "-m",
        "parity",
        env={"PARITY_API_KEY": "sk-test"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert _cases(project / "j.xml") == {
        "plug.listing.ok": "passed",
        "plug.auth.anonymous": "skipped",
    }


def test_plugin_loads_as_module_and_k_selects(project: Path, engine_origin: str) -> None:
    done = _pytest(
        project,
        "-p",
        "conformance.plugin",
        "--junitxml=j.xml",
        "--parity-base-url",
        engine_origin + "/v1",
        "--parity-api-key",
        "sk-test",
        "-k",
        "listing",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert _cases(project / "j.xml") == {"plug.listing.ok": "passed"}


def test_plugin_usage_error_and_unreachable(project: Path) -> None:
    from tests.live import free_port

    done = _pytest(project, "--parity-base-url", "http://127.0.0.1:9/v1", "--parity-only", "nope")
    assert done.returncode == 4  # pytest's usage error
    assert "unknown area 'nope'" in done.stderr
    done = _pytest(
        project, "--parity-base-url", f"http://127.0.0.1:{free_port()}/v1", "-m", "parity"
    )
    assert done.returncode == 2
    assert "cannot reach" in done.stdout + done.stderr
