"""Every drill passes against the reference gateway in passthrough mode over two upstreams."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from reference_server.app import create_app
from reference_server.config import settings_from_mapping
from tests.drills.conftest import Upstreams, drill_profile, messages, outcomes, run
from tests.live import serve

CONFIG = Path(__file__).resolve().parents[2] / "reference_server/configs/drill-gateway.yaml"


@pytest.fixture(scope="module")
def gateway(upstreams: Upstreams, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    raw = yaml.safe_load(CONFIG.read_text())
    raw["providers"]["primary"]["base_url"] = f"{upstreams.primary}/v1"
    raw["providers"]["fallback"]["base_url"] = f"{upstreams.fallback}/v1"
    raw["controls"]["store"]["path"] = str(tmp_path_factory.mktemp("drill") / "controls.db")
    previous = os.environ.get("PARITY_UPSTREAM_KEY")
    os.environ["PARITY_UPSTREAM_KEY"] = "sk-parity-demo"
    try:
        settings = settings_from_mapping(raw)
    finally:
        if previous is None:
            del os.environ["PARITY_UPSTREAM_KEY"]
        else:
            os.environ["PARITY_UPSTREAM_KEY"] = previous
    with serve(create_app(settings)) as origin:
        yield origin


def test_reference_gateway_passes_every_drill(gateway: str, upstreams: Upstreams) -> None:
    profile = drill_profile(f"{gateway}/admin/spend?key_id=drill")
    result = run(gateway, upstreams, profile)
    found = outcomes(result)
    assert len(found) == 19
    # An OpenAI-dialect primary: nothing is translated, so the translation drills say so.
    translation = {i for i in found if i.startswith("drills.translation.")}
    assert {found[i] for i in translation} == {"skipped"}, messages(result)
    assert {o for i, o in found.items() if i not in translation} == {"passed"}, messages(result)
    skipped = [r.message for r in result.results if r.id in translation]
    assert all("speaks OpenAI's API" in m for m in skipped), skipped
    assert result.exit_status == 0


def test_parity_drill_command_writes_reports_without_secrets(
    gateway: str,
    upstreams: Upstreams,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from conformance.cli import main
    from tests.drills.conftest import CONTROL_KEY, DRILL_KEY, PROFILE_FILE

    raw = yaml.safe_load(PROFILE_FILE.read_text())
    raw["metering"]["spend"]["url"] = f"{gateway}/admin/spend?key_id=drill"
    profile = tmp_path / "profile.yaml"
    profile.write_text(yaml.safe_dump(raw))
    monkeypatch.setenv("PARITY_UPSTREAM_CONTROL_KEY", CONTROL_KEY)
    argv = ["drill", "--base-url", f"{gateway}/v1", "--api-key", DRILL_KEY]
    argv += ["--upstream-control", upstreams.primary, "--upstream-control", upstreams.fallback]
    argv += ["--profile", str(profile), "--only", "drills.metering", "--report-dir", str(tmp_path)]
    assert main(argv) == 0
    assert "drills" in capsys.readouterr().out
    report = (tmp_path / "report.json").read_text()
    assert '"drills.metering.partial_stream"' in report
    for secret in (CONTROL_KEY, DRILL_KEY, "sk-parity-drill-admin"):
        for name in ("report.json", "junit.xml", "report.html"):
            assert secret not in (tmp_path / name).read_text()
