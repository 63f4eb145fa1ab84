"""No model is free by accident: the default catalog prices every endpoint in its unit, and a
metered gateway refuses to start with a model an endpoint it serves cannot price."""

from __future__ import annotations

from typing import Any

import pytest

from reference_server.app import create_app
from reference_server.cli import main
from reference_server.config import load_settings, settings_from_mapping
from reference_server.controls.metering import ENDPOINT_UNITS, UNIT_FIELDS
from reference_server.errors import ConfigError
from reference_server.gateway.aliases import endpoints_of
from reference_server.gateway.pricing import unpriced


def test_pricing_every_default_model_has_a_nonzero_price_in_each_unit_it_is_billed_by():
    settings = load_settings()
    served = set()
    for entry in settings.models:
        for endpoint in endpoints_of(entry):
            served.add(endpoint)
            unit = ENDPOINT_UNITS[endpoint]
            for deployment in entry.deployments:
                value = getattr(deployment.prices, UNIT_FIELDS[unit][0])
                assert value, f"{entry.name} ({deployment.name}) is free on {endpoint}"
                if unit == "images":
                    assert all(v > 0 for v in value.values()), entry.name
    assert served == set(ENDPOINT_UNITS)  # every metered endpoint is served, and priced
    assert unpriced(settings) == []


def _whisper(**prices: Any) -> dict[str, Any]:
    return {
        "providers": {"synthetic": {"type": "synthetic"}},
        "default_model": "chat",
        "models": [
            {
                "name": "chat",
                "category": "text",
                "input_per_mtok": 1,
                "output_per_mtok": 2,
                "deployments": [{"provider": "synthetic", "model": "chat"}],
            },
            {
                "name": "stt",
                "category": "audio",
                "supports": ["audio_transcription"],
                # a token price does not price seconds of audio
                "input_per_mtok": 1,
                "deployments": [{"provider": "synthetic", "model": "stt", **prices}],
            },
        ],
    }


def test_pricing_unpriced_model_is_refused_at_start(tmp_path):
    settings = settings_from_mapping(
        {**_whisper(), "controls": {"store": {"path": str(tmp_path / "c.db")}}}
    )
    with pytest.raises(ConfigError, match=r"models\.stt: serves transcriptions .* per_second"):
        create_app(settings)


def test_pricing_zero_is_a_price_and_unmetered_gateways_need_none(tmp_path):
    db = {"store": {"path": str(tmp_path / "c.db")}}
    assert unpriced(settings_from_mapping({**_whisper(per_second=0), "controls": db})) == []
    create_app(settings_from_mapping({**_whisper(), "controls": {"enabled": False}}))


def test_pricing_serve_refuses_an_unpriced_config_in_one_line(tmp_path, capsys, monkeypatch):
    import yaml

    monkeypatch.setenv("PARITY_CONFIG", "")  # restored afterwards: serve sets it
    config = tmp_path / "gateway.yaml"
    config.write_text(yaml.safe_dump(_whisper()))
    assert main(["serve", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "unpriced models" in err
    assert "models.stt" in err
    assert "Traceback" not in err
