"""Metering: the credits a request costs, from catalog prices and the usage that was served.

Units and rounding (documented contract, also in ``spec/admin.yaml``):

* One credit is one US dollar of list price (the monday Models API's "AI tokens approximate the
  underlying provider cost").
* Every endpoint is priced by its natural unit (:data:`ENDPOINT_UNITS`), as OpenAI's pricing
  page prices them: tokens for chat, responses, embeddings and realtime (``input_per_mtok``,
  ``output_per_mtok``: USD per million tokens); characters of input for speech
  (``per_character``); seconds of audio for transcriptions and seconds of video for videos
  (``per_second``); images by size for images (``per_image``: size -> USD per image, ``auto``
  for a request naming no size; a size not listed costs the highest listed price, never less
  than it may have cost).
* Arithmetic is decimal, never binary floating point. A token-priced request costs
  ``(prompt_tokens x input_per_mtok + completion_tokens x output_per_mtok) / 1e6``, a unit-priced
  one ``units x unit price``; times ``1 + surcharge`` when a surcharge applies, rounded half-up
  to 1e-6 credit (one micro-credit).
* Stores keep integer micro-credits, so sums over the ledger are exact.
* Surcharge, as monday's pages state it: an alias carries none ("no extra surcharge on top of
  underlying usage when you use them, unlike direct vendor IDs"); a direct vendor model ID may
  ("may reflect a small additional cost"), on any endpoint. The pages give no figure, so the
  rate is configuration (``controls.metering.direct_id_surcharge``), default 0
  (spec/PROVENANCE.md, "Surcharges").

Must not: do I/O, know about stores, HTTP or keys.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from types import MappingProxyType
from typing import Literal

from reference_server.errors import GatewayError

__all__ = [
    "ENDPOINT_UNITS",
    "MICRO",
    "UNIT_FIELDS",
    "Price",
    "PriceLookup",
    "Tariff",
    "Unit",
    "UnpricedError",
    "credits_text",
    "micro_credits",
    "surcharge_applies",
    "unpriced_error",
]

MICRO = 1_000_000  # micro-credits per credit
_PER_MTOK = Decimal(1_000_000)
_ONE_MICRO = Decimal("0.000001")

Unit = Literal["tokens", "characters", "seconds", "images"]
# The unit each endpoint is billed by, after OpenAI's pricing page: text and embedding models
# per token, TTS per character, Whisper per minute of audio (we bill seconds), Sora per second
# of video, DALL·E per image by size.
ENDPOINT_UNITS: Mapping[str, Unit] = MappingProxyType(
    {
        "chat": "tokens",
        "responses": "tokens",
        "embeddings": "tokens",
        "realtime": "tokens",
        "speech": "characters",
        "transcriptions": "seconds",
        "videos": "seconds",
        "images": "images",
    }
)
# The price field that prices each unit (the config and the catalog use the same names).
UNIT_FIELDS: Mapping[Unit, tuple[str, ...]] = MappingProxyType(
    {
        "tokens": ("input_per_mtok", "output_per_mtok"),
        "characters": ("per_character",),
        "seconds": ("per_second",),
        "images": ("per_image",),
    }
)
_AUTO_SIZE = "auto"


class UnpricedError(ValueError):
    """A price has no figure for the unit its endpoint is billed by."""


def _check_amount(name: str, value: object) -> None:
    if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
        raise ValueError(f"{name} must be a finite Decimal >= 0, got {value!r}")


@dataclass(frozen=True, slots=True)
class Price:
    """List prices of one deployment or model, in credits (USD): per million tokens, and per
    unit for the endpoints priced by another unit (``None``: not priced in that unit)."""

    input_per_mtok: Decimal
    output_per_mtok: Decimal
    per_second: Decimal | None = None
    per_character: Decimal | None = None
    # (size, USD per image) pairs; ``auto`` prices a request that names no size.
    per_image: tuple[tuple[str, Decimal], ...] = ()

    def __post_init__(self) -> None:
        for name in ("input_per_mtok", "output_per_mtok"):
            _check_amount(name, getattr(self, name))
        for name in ("per_second", "per_character"):
            value = getattr(self, name)
            if value is not None:
                _check_amount(name, value)
        for size, value in self.per_image:
            _check_amount(f"per_image[{size!r}]", value)

    def unit_price(self, unit: Unit, variant: str = "") -> Decimal:
        """The price of one character, second or image (``variant``: the image size)."""
        if unit == "characters" and self.per_character is not None:
            return self.per_character
        if unit == "seconds" and self.per_second is not None:
            return self.per_second
        if unit == "images" and self.per_image:
            sizes = dict(self.per_image)
            found = sizes.get(variant or _AUTO_SIZE)
            return found if found is not None else max(sizes.values())
        raise UnpricedError(f"no price per {unit.rstrip('s')} ({UNIT_FIELDS[unit][0]})")


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
        endpoint: str = "chat",
        units: float = 0.0,
        variant: str = "",
    ) -> int:
        """Exact cost in micro-credits, rounded half-up to one micro-credit.

        A token-priced ``endpoint`` is billed for the tokens, a unit-priced one for ``units``
        (characters, seconds or images: :data:`ENDPOINT_UNITS`) at the price of ``variant``
        (an image size); raises :class:`UnpricedError` when ``price`` has no figure for it."""
        credits = self._credits(
            price,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            surcharge=surcharge,
            endpoint=endpoint,
            units=units,
            variant=variant,
        )
        return micro_credits(credits, ROUND_HALF_UP)

    def ceiling(
        self,
        price: Price,
        prompt_tokens: int,
        completion_tokens: int,
        *,
        surcharge: bool,
        endpoint: str = "chat",
        units: float = 0.0,
        variant: str = "",
    ) -> int:
        """An upper bound in micro-credits (rounded up): what a reservation must hold."""
        credits = self._credits(
            price,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            surcharge=surcharge,
            endpoint=endpoint,
            units=units,
            variant=variant,
        )
        return micro_credits(credits, ROUND_CEILING)

    def _credits(
        self,
        price: Price,
        *,
        prompt_tokens: int,
        completion_tokens: int,
        surcharge: bool,
        endpoint: str,
        units: float,
        variant: str,
    ) -> Decimal:
        if prompt_tokens < 0 or completion_tokens < 0 or units < 0:
            raise ValueError(
                f"usage must be >= 0, got prompt={prompt_tokens!r} "
                f"completion={completion_tokens!r} units={units!r}"
            )
        unit = ENDPOINT_UNITS.get(endpoint, "tokens")
        if unit == "tokens":
            base = (
                Decimal(prompt_tokens) * price.input_per_mtok
                + Decimal(completion_tokens) * price.output_per_mtok
            ) / _PER_MTOK
        else:
            base = Decimal(repr(float(units))) * price.unit_price(unit, variant)
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


def unpriced_error(model: str, endpoint: str, exc: UnpricedError) -> GatewayError:
    # The config check at start refuses a model its endpoints cannot price; this is the guard
    # behind it (a model must never be served for free by accident).
    return GatewayError(
        500,
        f"The model {model!r} has {exc} for the {endpoint} endpoint; the gateway's "
        "configuration must price it.",
        type="api_error",
        code="price_not_configured",
    )
