"""The key API as profile data, the run's keys by role, and how a run reports what it could not
mint, judge or revoke (never with a secret in the message)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
import yaml

from conformance.errors import UsageError
from conformance.keyapi import RoleKeys, fill, key_api_from_mapping
from conformance.keyring import mint_keys, revoke_keys
from conformance.profiles import ProfileError, load_profile, profile_from_mapping
from conformance.settings import settings_from
from conformance.target import Target
from tests.conformance.fakes.promises_fake import ADMIN_KEY, profile_mapping
from tests.conformance.fakes.promises_run import (
    promises_origin,  # noqa: F401 - session fixture
    run_promises,
)

README = Path(__file__).parents[2] / "README.md"


def test_keyapi_fill_replaces_only_known_placeholders_at_any_depth():
    values = {"origin": "http://gw", "run": "r1", "id": "k9"}
    template = {"url": "{origin}/keys/{id}", "tags": ["{run}", "{unknown}"], "n": 0}
    assert fill(template, values) == {
        "url": "http://gw/keys/k9",
        "tags": ["r1", "{unknown}"],
        "n": 0,
    }


@pytest.mark.parametrize(
    ("section", "fragment"),
    [
        ({"mint": {"method": "POST", "url": "/keys"}, "secret": "key", "roles": {"spent": {}}}, "key_api.mint.url"),
        ({"mint": {"method": "FETCH", "url": "{origin}/k"}, "secret": "key", "roles": {"spent": {}}}, "key_api.mint.method"),
        ({"mint": {"method": "POST", "url": "{origin}/k"}, "secret": "", "roles": {"spent": {}}}, "key_api.secret"),
        ({"mint": {"method": "POST", "url": "{origin}/k"}, "secret": "key", "roles": {"root": {}}}, "key_api.roles"),
        ({"mint": {"method": "POST", "url": "{origin}/k"}, "secret": "key", "roles": {"spent": 0}}, "key_api.roles.spent"),
        (
            {
                "mint": {"method": "POST", "url": "{origin}/k"},
                "secret": "key",
                "roles": {"spent": {}},
                "admin_header": {"name": "x-admin", "value": "static"},
            },
            "key_api.admin_header",
        ),
        ({"mint": {"method": "POST", "url": "{origin}/k"}, "secret": "key", "roles": {"spent": {}}, "colour": 1}, "unknown field"),
    ],
    ids=["relative-url", "bad-method", "empty-secret", "unknown-role", "body-not-object", "header-without-key", "unknown-field"],
)  # fmt: skip
def test_keyapi_errors_name_the_field_and_value(section, fragment):
    with pytest.raises(ProfileError, match=fragment):
        key_api_from_mapping(section, "acme.yaml")


def test_keyapi_the_readme_litellm_example_is_a_valid_profile(tmp_path):
    """README shows how one would describe LiteLLM's key API; it must at least parse."""
    text = README.read_text(encoding="utf-8")
    start = text.index("# litellm.yaml")
    block = text[start : text.index("```", start)]
    path = tmp_path / "litellm.yaml"
    path.write_text(block)
    profile = load_profile(str(path))
    assert profile.key_api is not None
    assert profile.key_api.mint.url == "{origin}/key/generate"
    assert profile.key_api.roles["spent"]["max_budget"] == 0
    assert profile.key_api.roles["limited"]["rpm_limit"] == 1
    assert yaml.safe_load(block)["extends"] == "openai"


def test_keyapi_builtin_reference_profile_describes_the_admin_api():
    profile = load_profile("reference")
    assert profile.key_api is not None
    assert profile.key_api.mint.url == "{origin}/admin/keys"
    assert set(profile.key_api.roles) == {"spent", "limited", "unscoped"}
    assert profile.catalog == "/api/models"
    assert profile.credits_per_usd == 1


def test_keyapi_role_keys_say_the_flag_that_would_judge(monkeypatch):
    assert "--key spent=KEY" in RoleKeys().why("spent")
    assert "--admin-key" in RoleKeys().why("limited")
    assert "answered 401" in RoleKeys(missing={"spent": "minting ... answered 401"}).why("spent")
    assert "sk-hidden" not in repr(RoleKeys(keys={"spent": "sk-hidden"}))


@pytest.mark.parametrize(
    "given", ["spent", "root=sk-abc-123", "spent="], ids=["no-equals", "bad-role", "empty-key"]
)
def test_keyapi_key_flag_refuses_bad_values_without_echoing_a_key(given):
    with pytest.raises(UsageError) as refused:
        settings_from({"base_url": "http://gw/v1", "key": [given]}, environ={})
    assert "sk-abc-123" not in str(refused.value)
    assert "spent, limited, unscoped" in str(refused.value)


def test_keyapi_settings_read_admin_key_and_role_keys():
    settings = settings_from(
        {"base_url": "http://gw/v1", "key": ["Spent=sk-s", "limited=sk-l"]},
        environ={"PARITY_ADMIN_KEY": "sk-admin"},
    )
    assert settings.admin_key == "sk-admin"
    assert dict(settings.role_keys) == {"spent": "sk-s", "limited": "sk-l"}
    target = settings.target(load_profile("openai"))
    assert target.roles.keys == {"spent": "sk-s", "limited": "sk-l"}
    assert "sk-admin" not in repr(settings)
    assert "sk-s" not in repr(target)


def _target(origin: str, variant: str, **changes: object) -> Target:
    profile = profile_from_mapping({**profile_mapping(variant), **changes}, origin="fake")
    return Target(
        base_url=f"{origin}/{variant}/v1",
        api_key="sk-fake",
        level="standard",
        profile=profile,
        admin_key=ADMIN_KEY,
    )


def test_keyring_minting_failures_are_reasons_not_errors(promises_origin):  # noqa: F811
    wrong = replace(_target(promises_origin, "ok"), admin_key="sk-bad")
    roles, minted = asyncio.run(mint_keys(wrong))
    assert minted == []
    assert set(roles.missing) == {"spent", "limited", "unscoped"}
    assert "answered 401" in roles.missing["spent"]
    assert "sk-bad" not in str(roles.missing)
    assert "answered 401" in roles.why("spent")
    nowhere = _target("http://127.0.0.1:9", "ok")  # nothing listens on port 9
    roles, minted = asyncio.run(mint_keys(nowhere))
    assert minted == []
    assert "ConnectError" in roles.missing["limited"]


def test_keyring_keys_given_by_role_are_not_minted(promises_origin):  # noqa: F811
    given = replace(_target(promises_origin, "ok"), roles=RoleKeys({"spent": "sk-mine"}))
    roles, minted = asyncio.run(mint_keys(given))
    assert roles.keys["spent"] == "sk-mine"
    assert {m.role for m in minted} == {"limited", "unscoped"}
    assert asyncio.run(revoke_keys(given, minted)) == []


def test_keyring_a_key_left_behind_is_named_in_the_notes(promises_origin):  # noqa: F811
    broken_revoke = {"method": "POST", "url": "{origin}/ok/admin/nowhere"}
    section = {**profile_mapping("ok")["key_api"], "revoke": broken_revoke}
    result = run_promises(
        promises_origin,
        "ok",
        ("profile.scope.consume",),
        profile_changes={"key_api": section},
    )
    left = [n for n in result.notes if n.startswith("could not revoke")]
    assert len(left) == 3
    assert all("answered 404" in n and "revoke it by hand" in n for n in left)
    assert not any("sk-fake-minted" in n for n in result.notes)


def test_keyring_without_an_admin_key_every_promise_is_noted_with_its_flag(promises_origin):  # noqa: F811
    result = run_promises(promises_origin, "ok", admin_key=None)
    noted = [n for n in result.notes if n.startswith("not judged: ")]
    for check_id in (
        "profile.budget.exhausted",
        "profile.rate_limit.refusal",
        "profile.scope.consume",
    ):
        [note] = [n for n in noted if n.startswith(f"not judged: {check_id}:")]
        assert "--admin-key" in note
        assert "--key" in note
    assert result.by_id()["profile.credits.priced"].outcome == "passed"


def test_keyring_minted_keys_are_revoked_and_redacted(promises_origin, tmp_path):  # noqa: F811
    from conformance.reporting import write_reports

    result = run_promises(promises_origin, "ok")
    assert {r.outcome for r in result.results} == {"passed"}
    minted = list(result.target.roles.keys.values())
    assert len(minted) == 3
    probe = httpx.post(
        f"{promises_origin}/ok/v1/chat/completions",
        json={"model": "fake-chat", "messages": [{"role": "user", "content": "hi"}]},
        headers={"Authorization": f"Bearer {minted[0]}"},
    )
    assert probe.status_code == 401  # revoked
    write_reports(result, tmp_path, latest=False)
    for written in tmp_path.iterdir():
        text = written.read_text(errors="replace")
        assert ADMIN_KEY not in text
        assert not any(key in text for key in minted)


def test_keyring_keys_stay_out_of_a_failed_checks_evidence(promises_origin, tmp_path):  # noqa: F811
    from conformance.reporting import write_reports

    result = run_promises(promises_origin, "spent_transcriptions_free")
    failed = result.by_id()["profile.budget.exhausted"]
    assert failed.outcome == "failed"
    assert "transcription" in failed.message
    assert failed.evidence is not None
    minted = list(result.target.roles.keys.values())
    write_reports(result, tmp_path, latest=False)
    for written in tmp_path.iterdir():
        text = written.read_text(errors="replace")
        assert not any(key in text for key in minted), written.name
        assert ADMIN_KEY not in text
