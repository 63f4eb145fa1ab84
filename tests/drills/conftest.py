"""Two live ``parity upstream`` instances per module, and a helper that runs drills."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.commands.drill import DrillSettings, run_drills
from conformance.drills.profile import DrillProfile, load_drill_profile, profile_from_mapping
from conformance.results import RunResult
from reference_server.upstream import create_upstream_app
from reference_server.upstream.command import UpstreamSettings
from tests.live import serve

CONTROL_KEY = "sk-parity-control-test"
DRILL_KEY = "sk-parity-drill"
PROFILE_FILE = Path(__file__).resolve().parents[2] / "conformance/drills/profiles/reference.yaml"


@dataclasses.dataclass(frozen=True)
class Upstreams:
    primary: str
    fallback: str


@pytest.fixture(scope="module")
def upstreams() -> Iterator[Upstreams]:
    primary = create_upstream_app(UpstreamSettings(name="primary", control_key=CONTROL_KEY))
    fallback = create_upstream_app(UpstreamSettings(name="fallback", control_key=CONTROL_KEY))
    with serve(primary.app) as one, serve(fallback.app) as two:
        yield Upstreams(one, two)


def drill_profile(spend_url: str | None, **changes: Any) -> DrillProfile:
    """The shipped reference profile, pointed at a test gateway, rate drill over 2 periods."""
    raw = yaml.safe_load(PROFILE_FILE.read_text())
    raw["rate_limit"]["periods"] = 2
    if spend_url is None:
        del raw["metering"]["spend"]
    else:
        raw["metering"]["spend"]["url"] = spend_url
    for key, value in changes.items():
        raw[key] = value
    return profile_from_mapping(raw, {})


def run(gateway: str, ups: Upstreams, profile: DrillProfile, only: Sequence[str] = ()) -> RunResult:
    settings = DrillSettings(
        base_url=f"{gateway}/v1",
        api_key=DRILL_KEY,
        controls=(ups.primary, ups.fallback),
        control_key=CONTROL_KEY,
        profile="unused",
        only=tuple(only),
        report_dir=None,
        check_timeout=60,
    )
    return asyncio.run(run_drills(settings, profile))


def outcomes(result: RunResult) -> dict[str, str]:
    return {r.id: r.outcome for r in result.results}


def messages(result: RunResult) -> str:
    return "\n".join(f"{r.id}: {r.outcome}: {r.message}" for r in result.results)


__all__ = [
    "CONTROL_KEY",
    "DRILL_KEY",
    "Upstreams",
    "drill_profile",
    "load_drill_profile",
    "messages",
    "outcomes",
    "run",
]
