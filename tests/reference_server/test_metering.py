"""Metering: golden cost vectors, the direct-ID surcharge rule, rounding and header text."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reference_server.controls.metering import (
    MICRO,
    Price,
    Tariff,
    credits_text,
    micro_credits,
    surcharge_applies,
)

SONNET = Price(Decimal("3"), Decimal("15"))


@pytest.mark.parametrize(
    ("prompt", "completion", "surcharge", "expected_micro"),
    [
        (1_000_000, 0, False, 3_000_000),
        (0, 1_000_000, False, 15_000_000),
        (1000, 500, False, 10_500),  # 0.003 + 0.0075
        (1000, 500, True, 11_550),  # x 1.10
        (1, 0, False, 3),  # 0.000003 exactly
        (1, 1, True, 20),  # 0.0000198 -> rounds half-up to 0.000020
        (0, 0, True, 0),
    ],
    ids=["1m-in", "1m-out", "mixed", "mixed-surcharge", "one-token", "rounding", "zero"],
)
def test_metering_cost_golden_vectors(prompt, completion, surcharge, expected_micro):
    tariff = Tariff(Decimal("0.10"))
    assert tariff.cost(SONNET, prompt, completion, surcharge=surcharge) == expected_micro


def test_metering_surcharge_only_on_direct_ids():
    # monday's pages: no surcharge on aliases, unlike direct vendor IDs; nothing per endpoint.
    assert surcharge_applies(True) is False
    assert surcharge_applies(False) is True


def test_metering_surcharge_rate_defaults_to_zero():
    # The pages give no figure for the direct-ID surcharge: none unless configured.
    assert Tariff().cost(SONNET, 1000, 500, surcharge=True) == 10_500


def test_metering_half_up_rounding_at_half_micro():
    assert micro_credits(Decimal("0.0000005")) == 1
    assert micro_credits(Decimal("0.00000049")) == 0


@given(st.integers(0, 10**7), st.integers(0, 10**7), st.booleans())
def test_metering_ceiling_never_below_cost(prompt, completion, surcharge):
    tariff = Tariff(Decimal("0.1"))
    price = Price(Decimal("0.15"), Decimal("0.6"))
    cost = tariff.cost(price, prompt, completion, surcharge=surcharge)
    assert tariff.ceiling(price, prompt, completion, surcharge=surcharge) >= cost
    assert tariff.ceiling(price, prompt, completion, surcharge=surcharge) - cost <= 1


@pytest.mark.parametrize(
    ("micro", "text"),
    [(0, "0.000000"), (150, "0.000150"), (MICRO, "1.000000"), (12_345_678, "12.345678")],
    ids=["zero", "small", "one", "large"],
)
def test_metering_credits_text(micro, text):
    assert credits_text(micro) == text


def test_metering_rejects_negative_price():
    with pytest.raises(ValueError, match="input_per_mtok"):
        Price(Decimal("-1"), Decimal("1"))


def test_metering_rejects_negative_tokens():
    with pytest.raises(ValueError, match="prompt=-1"):
        Tariff().cost(SONNET, -1, 0, surcharge=False)
