"""Metering by unit: characters, seconds and images by size, each at its own price field."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reference_server.controls import budgets
from reference_server.controls.config import price_from
from reference_server.controls.metering import ENDPOINT_UNITS, Price, Tariff, UnpricedError

TTS = price_from((None, None, None, 0.000015))
WHISPER = price_from((None, None, 0.0001))
DALL_E = price_from((None, None, None, None, {"auto": 0.04, "1024x1024": 0.04, "1792x1024": 0.08}))


@pytest.mark.parametrize(
    ("price", "endpoint", "units", "variant", "expected_micro"),
    [
        (TTS, "speech", 1000, "", 15_000),  # 1000 characters x $15 / 1M
        (WHISPER, "transcriptions", 60, "", 6_000),  # one minute: $0.006
        (WHISPER, "transcriptions", 1.5, "", 150),
        (WHISPER, "videos", 4, "", 400),
        (DALL_E, "images", 2, "1792x1024", 160_000),
        (DALL_E, "images", 1, "", 40_000),  # no size named: the `auto` price
        (DALL_E, "images", 1, "256x256", 80_000),  # a size not listed: the highest price
    ],
    ids=["chars", "minute", "seconds", "video", "size", "auto", "unlisted-size"],
)
def test_metering_units_golden_vectors(price, endpoint, units, variant, expected_micro):
    cost = Tariff().cost(
        price, 0, 0, surcharge=False, endpoint=endpoint, units=units, variant=variant
    )
    assert cost == expected_micro


def test_metering_units_ignore_tokens_and_take_the_surcharge():
    # Token counts never price a unit-priced endpoint; the surcharge applies to every unit.
    tariff = Tariff(Decimal("0.10"))
    cost = tariff.cost(TTS, 10**6, 10**6, surcharge=True, endpoint="speech", units=1000)
    assert cost == 16_500


@pytest.mark.parametrize(
    ("price", "endpoint"),
    [(TTS, "transcriptions"), (WHISPER, "speech"), (WHISPER, "images"), (TTS, "videos")],
    ids=["no-per-second", "no-per-character", "no-per-image", "video-no-per-second"],
)
def test_metering_unpriced_unit_raises_naming_the_field(price, endpoint):
    with pytest.raises(UnpricedError, match=r"per_(second|character|image)"):
        Tariff().cost(price, 0, 0, surcharge=False, endpoint=endpoint, units=1)


def test_metering_every_endpoint_has_a_unit():
    assert set(ENDPOINT_UNITS) == {
        "chat", "responses", "embeddings", "realtime", "speech", "transcriptions", "videos", "images"
    }  # fmt: skip


def test_metering_rejects_negative_unit_prices_and_units():
    with pytest.raises(ValueError, match="per_second"):
        Price(Decimal(0), Decimal(0), per_second=Decimal("-1"))
    with pytest.raises(ValueError, match=r"per_image\['1024x1024'\]"):
        Price(Decimal(0), Decimal(0), per_image=(("1024x1024", Decimal("-1")),))
    with pytest.raises(ValueError, match="units=-1"):
        Tariff().cost(TTS, 0, 0, surcharge=False, endpoint="speech", units=-1)


@given(st.floats(0, 10**5), st.booleans())
def test_metering_unit_reservation_holds_the_cost(units, surcharge):
    tariff = Tariff(Decimal("0.1"))
    held = budgets.reservation(
        tariff,
        [WHISPER, price_from((None, None, 0.0002))],
        input_tokens=5,
        max_output_tokens=None,
        default_max_output_tokens=4096,
        surcharge=surcharge,
        endpoint="transcriptions",
        units=units,
    )
    cost = tariff.cost(WHISPER, 5, 0, surcharge=surcharge, endpoint="transcriptions", units=units)
    assert held >= cost
