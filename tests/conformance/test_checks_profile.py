"""Gateway profile checks: the breadth fake passes them, and the special verdict paths
(each broken and legal variant is run by test_every_check_proven.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.profiles import MONDAY, OPENAI, ProfileError, load_profile
from tests.conformance.fakes.breadth_run import (
    breadth_origin,  # noqa: F401 - session fixture
    run_variant,
)
from tests.conformance.fakes.promises_fake import PROMISE_IDS

AREAS = ("profile",)


def test_profile_checks_pass_on_correct_fake(breadth_origin: str) -> None:  # noqa: F811
    # The promise checks need a key API: test_checks_promises.py runs them on a fake with one.
    results = run_variant(breadth_origin, "ok", AREAS)
    judged = {i: r.outcome for i, r in results.items() if i not in PROMISE_IDS}
    assert judged
    assert {i: o for i, o in judged.items() if o != "passed"} == {}


def test_profile_checks_skip_under_the_strict_openai_profile(breadth_origin: str) -> None:  # noqa: F811
    results = run_variant(breadth_origin, "ok", AREAS, profile=OPENAI)
    assert {r.outcome for r in results.values()} == {"skipped"}


def test_profile_default_model_may_be_answered_as_the_resolved_model(
    breadth_origin: str,  # noqa: F811
) -> None:
    results = run_variant(breadth_origin, "resolved_model", AREAS)
    assert results["profile.default_model.served"].outcome == "passed"


def test_profile_credits_consistent_fails_a_gateway_metering_nothing(
    breadth_origin: str,  # noqa: F811
) -> None:
    """0 tokens and 0 credits for every request: consistent, but usage counts nothing."""
    results = run_variant(breadth_origin, "usage_zero", AREAS)
    result = results["profile.credits.consistent"]
    assert result.outcome == "failed", result
    assert "must count its prompt and its non-empty answer" in result.message


def test_profile_builtins_load_by_name() -> None:
    assert load_profile("openai") is OPENAI
    monday = load_profile("monday")
    assert monday is MONDAY
    assert monday.aliases == ("monday-fast", "monday-standard", "monday-powerful")
    assert monday.default_model == "monday-standard"
    assert monday.credits_header == "x-monday-credits-used"
    assert monday.images_b64_only
    assert monday.auth_error_shape
    assert OPENAI.auth_error_shape is None
    assert not OPENAI.images_b64_only


def test_profile_file_overrides_a_builtin(tmp_path: Path) -> None:
    path = tmp_path / "acme.yaml"
    path.write_text(
        "extends: monday\naliases: [acme-small, acme-large]\ndefault_model: acme-small\n"
        "rate_limit_headers: true\nexhausted_key_env: ACME_SPENT_KEY\n"
    )
    profile = load_profile(str(path), environ={"ACME_SPENT_KEY": "sk-acme-spent"})
    assert profile.aliases == ("acme-small", "acme-large")
    assert profile.credits_header == "x-monday-credits-used"  # from monday
    assert profile.rate_limit_headers
    assert profile.exhausted_key == "sk-acme-spent"
    assert "sk-acme-spent" not in repr(profile)


def test_profile_file_declares_documented_features_unsupported(tmp_path: Path) -> None:
    path = tmp_path / "tts-lite.yaml"
    path.write_text("unsupported: [speech.format.opus, speech.format.aac, videos.content]\n")
    profile = load_profile(str(path))
    assert profile.unsupported == ("speech.format.opus", "speech.format.aac", "videos.content")
    assert OPENAI.unsupported == ()


def test_profile_file_name_defaults_to_the_file_stem(tmp_path: Path) -> None:
    path = tmp_path / "gateway-x.yaml"
    path.write_text("credits_header: x-credits\n")
    profile = load_profile(str(path))
    assert (profile.name, profile.credits_header, profile.aliases) == ("gateway-x", "x-credits", ())


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("alias: [a]\n", "'alias'"),
        ("aliases: monday-fast\n", "'aliases'"),
        ("images_b64_only: yes please\n", "'images_b64_only'"),
        ("credits_header: 7\n", "'credits_header'"),
        ("extends: anthropic\n", "'extends'"),
        ("exhausted_key_env: PARITY_NOT_SET_ANYWHERE\n", "'exhausted_key_env'"),
        ("- just\n- a list\n", "mapping"),
        ("aliases: [unclosed\n", "not valid YAML"),
        ("unsupported: [speech.format.midi]\n", "'unsupported'.*'speech.format.midi'.*chat.n"),
    ],
    ids=[
        "unknown",
        "aliases-type",
        "bool-type",
        "string-type",
        "extends",
        "env",
        "list",
        "yaml",
        "unsupported",
    ],
)
def test_profile_file_errors_name_the_bad_field(tmp_path: Path, text: str, named: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ProfileError, match=named):
        load_profile(str(path), environ={})


def test_profile_unknown_name_lists_the_builtins() -> None:
    with pytest.raises(ProfileError, match="monday, openai"):
        load_profile("no-such-profile")
