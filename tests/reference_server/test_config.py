"""Configuration: embedded default, validation errors that name field and value, merging."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from reference_server.config import ConfigError, load_settings, settings_from_mapping
from reference_server.gateway.pricing import unpriced


def test_config_default_is_the_monday_catalog() -> None:
    settings = load_settings()
    assert settings.default_model == "monday-standard"
    aliases = {m.name: m.deployments[0].model for m in settings.models if m.alias}
    assert aliases == {
        "monday-fast": "claude-haiku-4-5",
        "monday-standard": "claude-sonnet-4-6",
        "monday-powerful": "claude-opus-4-6",
        "gpt-4o-realtime": "gpt-realtime",  # the generic platform page's realtime model id
    }
    categories = {m.category for m in settings.models}
    assert {"text", "embedding", "image", "audio", "video", "realtime"} <= categories
    demo = next(k for k in settings.keys if k.id == "demo")
    assert demo.secret_sha256 == hashlib.sha256(b"sk-parity-demo").hexdigest()
    assert "ai:consume" in demo.scopes
    assert not settings.is_alias("gpt-4o")
    assert settings.is_alias("monday-fast")
    assert settings.price("anthropic/claude-sonnet-4-6")[:2] == (3.0, 15.0)


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ({"server": {"port": "eighty"}}, "server.port: 'eighty'"),
        ({"server": {"response_model": "alias"}}, "server.response_model: 'alias'"),
        ({"providers": {"p": {"type": "magic"}}}, "providers.p"),
        ({"keys": [{"id": "k", "scopes": []}]}, "keys.0"),
        ({"default_model": "nope"}, "default_model: 'nope'"),
        ({"surprise": 1}, "'surprise'"),
        (
            {
                "models": [
                    {
                        "name": "m",
                        "category": "text",
                        "deployments": [{"provider": "ghost", "model": "x"}],
                    }
                ]
            },
            "models.m.deployments.0.provider: 'ghost'",
        ),
    ],
    ids=[
        "port-type",
        "response-model",
        "provider-type",
        "key-secret",
        "default-model",
        "unknown-section",
        "provider-ref",
    ],
)
def test_config_errors_name_field_and_value(raw: dict, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from_mapping(raw)
    assert fragment in str(caught.value)


def test_config_file_server_section_merges_and_secret_is_hashed(tmp_path: Path) -> None:
    path = tmp_path / "gateway.yaml"
    path.write_text(
        "server:\n  port: 9001\nkeys:\n  - {id: mine, owner: me, secret: sk-my-own-secret, scopes: [ai:consume]}\n"
    )
    settings = load_settings(path)
    assert settings.server.port == 9001
    assert settings.server.host == "127.0.0.1"
    assert [k.id for k in settings.keys] == ["mine"]
    assert settings.keys[0].secret_sha256 == hashlib.sha256(b"sk-my-own-secret").hexdigest()
    assert "sk-my-own-secret" not in repr(settings)


def test_config_unreadable_or_invalid_yaml_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("server: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(bad)


def test_config_api_key_env_must_exist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PARITY_TEST_UPSTREAM_KEY", raising=False)
    raw = {
        "providers": {
            "up": {
                "type": "openai",
                "base_url": "http://127.0.0.1:1/v1",
                "api_key_env": "PARITY_TEST_UPSTREAM_KEY",
            }
        },
        "models": [
            {"name": "m", "category": "text", "deployments": [{"provider": "up", "model": "m"}]}
        ],
        "default_model": "m",
    }
    with pytest.raises(ConfigError, match="PARITY_TEST_UPSTREAM_KEY"):
        settings_from_mapping(raw)
    monkeypatch.setenv("PARITY_TEST_UPSTREAM_KEY", "sk-upstream")
    provider = settings_from_mapping(raw).providers["up"]
    assert provider.api_key == "sk-upstream"  # type: ignore[union-attr]
    assert "sk-upstream" not in repr(provider)


def test_config_shipped_examples_are_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARITY_UPSTREAM_KEY", "sk-test")
    folder = Path(load_settings.__code__.co_filename).parent / "configs"
    files = sorted(folder.glob("*.yaml"))
    assert len(files) >= 3
    for path in files:
        # ...and metered, each prices every endpoint its models serve (no model free by accident)
        assert unpriced(load_settings(path)) == [], path.name


def test_config_schema_is_a_valid_draft_2020_12_schema() -> None:
    import json

    import jsonschema

    schema_path = (
        Path(load_settings.__code__.co_filename).parents[1] / "spec" / "gateway-config.schema.json"
    )
    jsonschema.Draft202012Validator.check_schema(json.loads(schema_path.read_text()))
