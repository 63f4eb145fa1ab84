"""The translating reference gateway (anthropic-gateway.yaml) in front of an Anthropic-dialect
primary and an OpenAI-dialect fallback: `parity check` finds nothing to fail in the chat, SSE,
errors, SDK and Responses areas, and every drill passes, through the translation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.cli import main
from tests.drills.conftest import Upstreams, messages, outcomes, run
from tests.drills.test_translation_drills import anthropic_profile
from tests.drills.translating import anthropic_upstreams, translating_gateway
from tests.live import serve

CHECK_PROFILE = (
    Path(__file__).resolve().parents[2]
    / "reference_server/configs/check-profiles/anthropic-gateway.yaml"
)


@pytest.fixture(scope="module")
def ends() -> Iterator[Upstreams]:
    with anthropic_upstreams() as (primary, fallback):
        yield Upstreams(primary, fallback)


@pytest.fixture(scope="module")
def gateway(ends: Upstreams, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    store = tmp_path_factory.mktemp("anthropic") / "controls.db"
    with serve(translating_gateway(ends.primary, ends.fallback, store)) as origin:
        yield origin


@pytest.mark.slow
def test_translating_gateway_passes_every_drill(gateway: str, ends: Upstreams) -> None:
    result = run(gateway, ends, anthropic_profile(f"{gateway}/admin/spend?key_id=drill"))
    found = outcomes(result)
    assert len(found) == 19
    assert set(found.values()) == {"passed"}, messages(result)


@pytest.mark.slow
def test_translating_gateway_passes_parity_check(gateway: str, tmp_path: Path) -> None:
    argv = ["check", "--base-url", f"{gateway}/v1", "--api-key", "sk-parity-demo"]
    argv += ["--profile", str(CHECK_PROFILE), "--level", "standard"]
    argv += ["--only", "chat,sse,errors,sdk,responses", "--report-dir", str(tmp_path)]
    status = main(argv)
    report = json.loads((tmp_path / "report.json").read_text())
    failed = [(c["id"], c.get("message")) for c in report["checks"] if c["outcome"] == "failed"]
    assert (status, failed) == (0, []), failed
    skipped = {c["id"]: c.get("message") for c in report["checks"] if c["outcome"] == "skipped"}
    assert "unsupported: [chat.n]" in str(skipped.get("chat.params.n")), skipped
