"""Each translation drill fails a translating gateway broken in exactly its way; the
defect-free gateway and its legal variants pass every one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from conformance.drills.profile import DrillProfile, profile_from_mapping
from tests.drills.conftest import Upstreams, messages, outcomes, run
from tests.drills.translating import anthropic_upstreams, translating_gateway
from tests.live import serve

PROFILE = Path(__file__).resolve().parents[2] / "conformance/drills/profiles/anthropic.yaml"
TRANSLATION = (
    "drills.translation.system_prompt",
    "drills.translation.tool_call",
    "drills.translation.stop_reason",
    "drills.translation.usage",
    "drills.translation.metering",
)
CASES = {
    "drop_system": "drills.translation.system_prompt",
    "system_as_user": "drills.translation.system_prompt",
    "args_object": "drills.translation.tool_call",
    "args_cumulative": "drills.translation.tool_call",
    "length_as_stop": "drills.translation.stop_reason",
    "finish_passthrough": "drills.translation.stop_reason",
    "default_max_tokens": "drills.translation.stop_reason",
    "usage_input_only": "drills.translation.usage",
    "bill_cache_twice": "drills.translation.metering",
}


@pytest.fixture(scope="module")
def ends() -> Iterator[Upstreams]:
    with anthropic_upstreams() as (primary, fallback):
        yield Upstreams(primary, fallback)


def anthropic_profile(spend_url: str | None) -> DrillProfile:
    raw = yaml.safe_load(PROFILE.read_text())
    raw["rate_limit"]["periods"] = 2
    if spend_url is None:
        del raw["metering"]["spend"]
    else:
        raw["metering"]["spend"]["url"] = spend_url
    return profile_from_mapping(raw, {})


def _run(ends: Upstreams, tmp_path: Path, defect: str | None) -> dict[str, str]:
    app = translating_gateway(ends.primary, ends.fallback, tmp_path / "controls.db", defect)
    with serve(app) as origin:
        result = run(origin, ends, anthropic_profile(None), TRANSLATION)
    found = outcomes(result)
    found["_messages"] = messages(result)
    return found


@pytest.mark.parametrize("variant", [None, "rewrite_tool_ids", "compact_arguments"], ids=str)
def test_translating_gateway_passes_every_translation_drill(
    ends: Upstreams, tmp_path: Path, variant: str | None
) -> None:
    found = _run(ends, tmp_path, variant)
    text = found.pop("_messages")
    assert found == dict.fromkeys(TRANSLATION, "passed"), text


@pytest.mark.parametrize(("defect", "drill"), list(CASES.items()), ids=list(CASES))
def test_broken_translation_fails_exactly_its_drill(
    ends: Upstreams, tmp_path: Path, defect: str, drill: str
) -> None:
    found = _run(ends, tmp_path, defect)
    text = found.pop("_messages")
    failed = {i for i, outcome in found.items() if outcome == "failed"}
    assert failed == {drill}, text
