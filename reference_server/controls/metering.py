"""Metering: the credits a request costs, from catalog prices and the usage that was served.

Units and rounding (documented contract, also in ``spec/admin.yaml``):

* One credit is one US dollar of list price (the monday Models API's "AI tokens approximate the
  underlying provider cost"; our catalog prices are USD per million tokens).
* Arithmetic is decimal, never binary floating point. A request costs
  ``(prompt_tokens x input_per_mtok + completion_tokens x output_per_mtok) / 1e6``, times
  ``1 + surcharge_rate`` when a surcharge applies, rounded half-up to 1e-6 credit (one
  micro-credit).
* Stores keep integer micro-credits, so sums over the ledger are exact.
* Surcharge, as monday's pages state it: an alias carries none ("no extra surcharge on top of
  underlying usage when you use them, unlike direct vendor IDs"); a direct vendor model ID may
  ("may reflect a small additional cost"), on any endpoint. The pages give no figure, so the
  rate is configuration (``controls.metering.direct_id_surcharge``), default 0
  (spec/PROVENANCE.md, "Surcharges").

Must not: do I/O, know about stores, HTTP or keys.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

__all__ = [
    "MICRO",
    "Price",
    "PriceLookup",
    "Tariff",
    "credits_text",
    "micro_credits",
    "surcharge_applies",
]

MICRO = 1_000_000  # micro-credits per credit
_PER_MTOK = Decimal(1_000_000)
_ONE_MICRO = Decimal("0.000001")


@dataclass(frozen=True, slots=True)
class Price:
    """List price of one deployment or model, in credits (USD) per million tokens."""

    input_per_mtok: Decimal
    output_per_mtok: Decimal

    def __post_init__(self) -> None:
        for name in ("input_per_mtok", "output_per_mtok"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
                raise ValueError(f"{name} must be a finite Decimal >= 0, got {value!r}")


PriceLookup = Callable[[str], Price]
"""Price of a deployment or model by name (the server's catalog); raises KeyError if unknown."""


def surcharge_applies(model_is_alias: bool) -> bool:
    """An alias is billed at cost on every endpoint; a direct vendor model ID pays the rate."""
    return not model_is_alias


@dataclass(frozen=True, slots=True)
class Tariff:
    """How prices turn into micro-credits (the surcharge rate is configuration, default 0)."""

    surcharge_rate: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        if not self.surcharge_rate.is_finite() or self.surcharge_rate < 0:
            raise ValueError(f"surcharge_rate must be >= 0, got {self.surcharge_rate!r}")

    def cost(
        self,
        price: Price,
        prompt_tokens: int,
        completion_tokens: int,
        *,
        surcharge: bool,
    ) -> int:
        """Exact cost in micro-credits, rounded half-up to one micro-credit."""
        return micro_credits(
            self._credits(price, prompt_tokens, completion_tokens, surcharge), ROUND_HALF_UP
        )

    def ceiling(
        self,
        price: Price,
        prompt_tokens: int,
        completion_tokens: int,
        *,
        surcharge: bool,
    ) -> int:
        """An upper bound in micro-credits (rounded up): what a reservation must hold."""
        return micro_credits(
            self._credits(price, prompt_tokens, completion_tokens, surcharge), ROUND_CEILING
        )

    def _credits(
        self, price: Price, prompt_tokens: int, completion_tokens: int, surcharge: bool
    ) -> Decimal:
        if prompt_tokens < 0 or completion_tokens < 0:
            raise ValueError(
                f"token counts must be >= 0, got prompt={prompt_tokens!r} "
                f"completion={completion_tokens!r}"
            )
        base = (
            Decimal(prompt_tokens) * price.input_per_mtok
            + Decimal(completion_tokens) * price.output_per_mtok
        ) / _PER_MTOK
        if surcharge:
            base *= 1 + self.surcharge_rate
        return base


def micro_credits(credits: Decimal, rounding: str = ROUND_HALF_UP) -> int:
    """Credits (Decimal) to integer micro-credits with the given rounding."""
    return int(credits.quantize(_ONE_MICRO, rounding=rounding) * MICRO)


def credits_text(micro: int) -> str:
    """The credits header value: a plain decimal with six places (``"0.000150"``)."""
    sign = "-" if micro < 0 else ""
    whole, frac = divmod(abs(micro), MICRO)
    return f"{sign}{whole}.{frac:06d}"
