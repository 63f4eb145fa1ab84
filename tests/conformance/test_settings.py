"""conformance.settings: one reading of a run's options, from a mapping, for the CLI and plugin."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from conformance.commands.check import add_arguments, resolve
from conformance.errors import UsageError
from conformance.settings import OPTIONS, settings_from

BASE = {"base_url": "http://127.0.0.1:9/v1/"}


def test_settings_from_a_mapping_take_defaults_for_what_is_missing() -> None:
    settings = settings_from(BASE, {})
    assert settings.base_url == "http://127.0.0.1:9/v1"
    assert settings.api_key is None
    assert settings.level == "standard"
    assert settings.pins == {}
    assert settings.only == frozenset()
    assert settings.profile == "openai"
    assert settings.report_dir is None
    assert (settings.concurrency, settings.check_timeout) == (4, 120.0)
    assert settings.request_timeout == 60.0


def test_settings_from_a_mapping_read_lists_pins_and_environment() -> None:
    settings = settings_from(
        {
            **BASE,
            "level": "deep",
            "model": ["chat=m1", "image=none"],
            "only": ["chat,models", "sse"],
            "skip": ["a.b.c"],
            "report_dir": "out",
            "max_requests": 5,
            "seed": 0,
            "concurrency": 1,
        },
        {"OPENAI_API_KEY": "k-env"},
    )
    assert settings.level == "deep"
    assert settings.pins == {"chat": "m1", "image": ""}
    assert settings.only == {"chat", "models", "sse"}
    assert settings.skip == {"a.b.c"}
    assert settings.report_dir == Path("out")
    assert (settings.max_requests, settings.seed, settings.concurrency) == (5, 0, 1)
    assert settings.api_key == "k-env"


@pytest.mark.parametrize(
    ("options", "shown"),
    [
        ({"level": "fast"}, "'fast'"),
        ({"max_requests": 0}, "--max-requests must be at least 1, got 0"),
        ({"fuzz_requests": "many"}, "'many'"),
        ({"concurrency": True}, "--concurrency must be at least 1, got True"),
        ({"check_timeout": -1.0}, "-1.0"),
        ({"request_timeout": 0}, "--request-timeout must be positive seconds, got 0"),
        ({"seed": 1.5}, "--seed must be a whole number, got 1.5"),
        ({"model": [3]}, "[3]"),
        ({"profile": 7}, "got 7"),
    ],
    ids=[
        "level",
        "max-requests",
        "fuzz-requests",
        "concurrency",
        "timeout",
        "request-timeout",
        "seed",
        "model",
        "profile",
    ],
)
def test_settings_refuse_a_bad_value_and_show_it(options: dict[str, object], shown: str) -> None:
    with pytest.raises(UsageError) as info:
        settings_from({**BASE, **options}, {})
    assert shown in str(info.value)


def test_settings_name_an_unknown_option() -> None:
    with pytest.raises(TypeError, match="'levle'"):
        settings_from({**BASE, "levle": "deep"}, {})


def test_settings_read_the_command_line_as_the_plugin_does() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--base-url", "http://a/v1", "--model", "chat=m", "--level", "smoke"])
    from_cli = resolve(args, {})
    plugin_like = {name: getattr(args, name) for name in OPTIONS}
    assert settings_from(plugin_like, {}) == from_cli
    assert set(OPTIONS) <= set(vars(args))
