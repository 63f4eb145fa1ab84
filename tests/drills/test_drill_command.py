"""``parity drill``'s command line and profile: usage errors say what to fix; the shipped
reference profile validates against spec/drill-profile.schema.json."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from conformance.commands.drill import UsageError, add_arguments, resolve, select
from conformance.drills import load_drills
from conformance.drills.profile import DrillProfileError, load_drill_profile, profile_from_mapping
from conformance.drills.upstreams import is_loopback_url


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(list(argv))


BASE = ("--base-url", "http://127.0.0.1:8100/v1")
UPS = ("--upstream-control", "http://127.0.0.1:8101", "--upstream-control", "http://[::1]:8102")


def test_resolve_reads_the_control_key_from_the_environment() -> None:
    settings = resolve(_args(*BASE, *UPS), {"PARITY_UPSTREAM_CONTROL_KEY": "k"})
    assert settings.control_key == "k"
    assert len(settings.controls) == 2


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        ((*BASE, "--upstream-control", "http://127.0.0.1:8101"), "primary and the fallback"),
        (
            (*BASE, "--upstream-control", "http://10.0.0.5:8101", *UPS[2:]),
            "'http://10.0.0.5:8101' is not a loopback address",
        ),
        ((*UPS,), "--base-url None"),
    ],
    ids=["one_upstream", "remote_upstream", "no_base_url"],
)
def test_usage_errors_say_what_to_fix(argv: tuple[str, ...], fragment: str) -> None:
    with pytest.raises(UsageError) as info:
        resolve(_args(*argv), {"PARITY_UPSTREAM_CONTROL_KEY": "k"})
    assert fragment in str(info.value)


def test_remote_upstream_needs_the_explicit_flag() -> None:
    argv = (*BASE, "--upstream-control", "http://10.0.0.5:8101", *UPS[2:])
    settings = resolve(
        _args(*argv, "--allow-remote-upstream"), {"PARITY_UPSTREAM_CONTROL_KEY": "k"}
    )
    assert settings.controls[0] == "http://10.0.0.5:8101"


def test_missing_control_key_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="PARITY_UPSTREAM_CONTROL_KEY"):
        resolve(_args(*BASE, *UPS), {})


def test_loopback_urls() -> None:
    assert is_loopback_url("http://localhost:1")
    assert is_loopback_url("http://127.0.0.2:1")
    assert not is_loopback_url("http://example.com")
    assert not is_loopback_url("http://10.0.0.1")


def test_only_selects_by_id_or_prefix_and_rejects_unknown() -> None:
    specs = list(load_drills())
    assert {s.id for s in select(specs, ["drills.metering"])} == {
        s.id for s in specs if s.id.startswith("drills.metering.")
    }
    with pytest.raises(UsageError, match="matches no drill"):
        select(specs, ["drills.nope"])


def test_every_drill_is_in_area_drills_and_absent_from_parity_check() -> None:
    from conformance.runner import load_checks

    drills = {s.id for s in load_drills()}
    assert len(drills) == 19
    assert all(i.startswith("drills.") for i in drills)
    assert not drills & {s.id for s in load_checks()}


def test_anthropic_profile_loads_with_optional_cache_prices() -> None:
    profile = load_drill_profile("anthropic")
    assert (profile.primary.upstream, profile.fallback.upstream) == ("primary", "fallback")
    assert profile.primary.cache_read_per_mtok is None
    raw = {
        "name": "x",
        "model": "m",
        "routes": {
            "primary": {
                "upstream": "a",
                "input_per_mtok": 3,
                "output_per_mtok": 15,
                "cache_read_per_mtok": 0.3,
                "cache_write_per_mtok": 3.75,
            },
            "fallback": {"upstream": "b", "input_per_mtok": 1, "output_per_mtok": 2},
        },
        "timeouts": {"upstream_s": 1},
    }
    routed = profile_from_mapping(raw, {}).primary
    assert (str(routed.cache_read_per_mtok), str(routed.cache_write_per_mtok)) == ("0.3", "3.75")
    raw["routes"]["primary"]["cache_read_per_mtok"] = -1  # type: ignore[index]
    with pytest.raises(DrillProfileError, match="cache_read_per_mtok"):
        profile_from_mapping(raw, {})


def test_reference_profile_loads_and_schema_errors_name_the_field() -> None:
    profile = load_drill_profile("reference")
    assert profile.primary.upstream == "primary"
    assert profile.budget is not None
    with pytest.raises(DrillProfileError, match="timeouts"):
        profile_from_mapping({"name": "x", "model": "m", "routes": {}}, {})
    with pytest.raises(DrillProfileError, match="no drill profile named 'nope'"):
        load_drill_profile("nope")


def test_profile_keys_from_the_environment() -> None:
    raw = json.loads(
        json.dumps(
            {
                "name": "x",
                "model": "m",
                "routes": {
                    "primary": {"upstream": "a", "input_per_mtok": 1, "output_per_mtok": 2},
                    "fallback": {"upstream": "b", "input_per_mtok": 1, "output_per_mtok": 2},
                },
                "timeouts": {"upstream_s": 1},
                "budget": {"api_key_env": "BUDGET_KEY", "credits": 0.5},
            }
        )
    )
    assert profile_from_mapping(raw, {"BUDGET_KEY": "s"}).secrets == ("s",)
    with pytest.raises(DrillProfileError, match="'BUDGET_KEY' is not set"):
        profile_from_mapping(raw, {})
    raw["routes"]["fallback"]["upstream"] = "a"
    with pytest.raises(DrillProfileError, match="two distinct upstreams"):
        profile_from_mapping(raw, {"BUDGET_KEY": "s"})


def test_schema_file_is_in_spec() -> None:
    root = Path(__file__).resolve().parents[2]
    schema = json.loads((root / "spec/drill-profile.schema.json").read_text())
    assert schema["title"] == "parity drill profile"


def test_public_api_is_pinned() -> None:
    import conformance.commands.drill as command
    import conformance.drills as drills
    import reference_server.upstream as upstream

    assert drills.__all__ == ["DRILLS", "DRILL_MODULES", "load_drills"]
    assert upstream.__all__ == ["create_upstream_app", "main"]
    assert command.__all__ == [
        "DrillSettings",
        "UsageError",
        "add_arguments",
        "resolve",
        "run",
        "run_drills",
    ]


def test_unreachable_upstream_control_exits_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from conformance.cli import main
    from tests.live import free_port

    monkeypatch.setenv("PARITY_UPSTREAM_CONTROL_KEY", "k")
    closed = [f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"]
    argv = ["drill", *BASE, "--upstream-control", closed[0], "--upstream-control", closed[1]]
    assert main(argv) == 2
    assert "cannot reach the upstream control API" in capsys.readouterr().err
