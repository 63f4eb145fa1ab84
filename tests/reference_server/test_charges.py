"""What a client is charged, read from the credits header: an alias costs exactly its catalog
price x the usage its answer reports; a direct vendor ID costs that x (1 + the configured
``controls.metering.direct_id_surcharge``), by default 0; a per-character model costs its
``per_character`` price x the characters sent."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import httpx
import pytest

from reference_server.app import create_app
from reference_server.config import settings_from_mapping
from tests.live import serve

AUTH = {"authorization": "Bearer sk-parity-demo"}
MESSAGES = [{"role": "user", "content": "Tell me about rivers."}]
PRICES = {"monday-standard": ("3", "15"), "gpt-4o": ("2.5", "10")}  # the default catalog's


def _expected(model: str, usage: dict[str, int], rate: str) -> str:
    given_in, given_out = PRICES[model]
    cost = (
        Decimal(usage["prompt_tokens"]) * Decimal(given_in)
        + Decimal(usage["completion_tokens"]) * Decimal(given_out)
    ) / Decimal(1_000_000)
    cost *= 1 + Decimal(rate)
    return str(cost.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP))


@pytest.fixture(scope="module", params=["0", "0.05"], ids=["default", "five-percent"])
def gateway(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    rate: str = request.param
    controls: dict[str, object] = {
        "store": {"path": str(Path(tmp_path_factory.mktemp("charges")) / "c.db")}
    }
    if rate != "0":
        controls["metering"] = {"direct_id_surcharge": float(rate)}
    with serve(create_app(settings_from_mapping({"controls": controls}))) as origin:
        yield origin, rate


@pytest.mark.parametrize(
    ("model", "surcharged"),
    [("monday-standard", False), ("gpt-4o", True)],
    ids=["alias", "direct-id"],
)
def test_charges_price_times_usage_with_surcharge_on_direct_ids_only(
    gateway: tuple[str, str], model: str, surcharged: bool
) -> None:
    origin, rate = gateway
    response = httpx.post(
        f"{origin}/v1/chat/completions",
        json={"model": model, "messages": MESSAGES, "max_tokens": 40},
        headers=AUTH,
    )
    assert response.status_code == 200, response.text
    usage = response.json()["usage"]
    assert usage["prompt_tokens"] > 0
    assert usage["completion_tokens"] > 0
    charged = response.headers["x-monday-credits-used"]
    assert charged == _expected(model, usage, rate if surcharged else "0")


def test_charges_speech_per_character(gateway: tuple[str, str]) -> None:
    origin, rate = gateway
    text = "Hello there, this is a spoken sentence."
    response = httpx.post(
        f"{origin}/v1/audio/speech",
        json={"model": "tts-1", "input": text, "voice": "alloy"},
        headers=AUTH,
    )
    assert response.status_code == 200
    # tts-1 is a direct vendor ID: the configured surcharge applies to it as to any other.
    cost = len(text) * Decimal("0.000015") * (1 + Decimal(rate))
    expected = str(cost.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP))
    assert response.headers["x-monday-credits-used"] == expected
