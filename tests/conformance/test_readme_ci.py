"""README's "In CI" section works as written: its `parity` commands, run against the reference
server, write a baseline, gate on it, diff against it and leave the junit.xml the CI job
publishes. The commands are read from the README's code blocks, never copied here."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.launch import free_port, launched, reference_server_argv

README = Path(__file__).resolve().parents[2] / "README.md"


def _section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", _section("In CI"), re.DOTALL)


def _parity_lines(script: str) -> list[str]:
    return [line.strip() for line in script.splitlines() if line.strip().startswith("parity ")]


def _github() -> tuple[list[str], str]:
    """The workflow's parity commands, in order, and the junit.xml it publishes."""
    (workflow,) = [yaml.safe_load(b) for b in _blocks("yaml") if "runs-on:" in b]
    commands: list[str] = []
    junit = ""
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            commands += _parity_lines(step.get("run", ""))
            if step.get("uses", "").startswith("mikepenz/action-junit-report"):
                junit = step["with"]["report_paths"]
    return commands, junit


def _gitlab() -> tuple[list[str], str]:
    (pipeline,) = [yaml.safe_load(b) for b in _blocks("yaml") if "script:" in b]
    (job,) = pipeline.values()
    commands = [c for line in job["script"] + job["after_script"] for c in _parity_lines(line)]
    return commands, job["artifacts"]["reports"]["junit"]


@pytest.fixture(scope="module")
def reference_base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("server") / "server.log"
    with launched(reference_server_argv("--port", str(port)), f"{origin}/api/models", log=log):
        yield f"{origin}/v1"


def _shell(command: str, cwd: Path, base_url: str) -> subprocess.CompletedProcess[str]:
    bin_dir = str(Path(sys.executable).parent)
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("PARITY_", "OPENAI_"))}
    environ.update(
        PATH=f"{bin_dir}{os.pathsep}{environ.get('PATH', '')}",
        PARITY_BASE_URL=base_url,
        PARITY_API_KEY="sk-parity-demo",
    )
    return subprocess.run(
        ["bash", "-c", command],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_readme_ci_blocks_name_the_commands() -> None:
    (setup,) = _blocks("sh")
    assert any("--write-baseline" in line for line in _parity_lines(setup))
    for commands, junit in (_github(), _gitlab()):
        assert [c.split()[1] for c in commands] == ["check", "diff"]
        assert "--baseline parity-baseline.json" in commands[0]
        assert junit.endswith("junit.xml")


@pytest.mark.slow
@pytest.mark.parametrize("ci", [_github, _gitlab], ids=["github-actions", "gitlab-ci"])
def test_readme_ci_commands_run_against_the_reference_server(
    reference_base_url: str, tmp_path: Path, ci: Any
) -> None:
    (setup,) = _blocks("sh")
    for command in _parity_lines(setup):
        done = _shell(command, tmp_path, reference_base_url)
        # The first run has no baseline: its failures (if any) are what the baseline records.
        assert done.returncode in (0, 1), done.stderr
    assert (tmp_path / "parity-baseline.json").is_file()
    commands, junit = ci()
    for command in commands:
        done = _shell(command, tmp_path, reference_base_url)
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    suite = ET.parse(tmp_path / junit).getroot()
    assert suite.get("failures") == "0"
    assert int(suite.get("tests", "0")) > 50
