"""No model is free by accident: every endpoint a model serves must find a price in its unit.

Checked once, when the gateway is built with its controls on (``parity serve`` says so before
any worker starts): a model (and each of its deployments, which are billed at their own prices)
must give the price field of the unit each endpoint it serves is billed by
(``controls.metering.ENDPOINT_UNITS``): tokens (``input_per_mtok``, with ``output_per_mtok`` for
chat, responses and realtime), characters (``per_character``), seconds (``per_second``) or images
(``per_image``). ``0`` is a price, and allowed; a missing field is the accident this refuses.

Must not: do I/O, or price a request (``controls.metering`` does).
"""

from __future__ import annotations

from reference_server.config import Prices, Settings
from reference_server.controls.metering import ENDPOINT_UNITS, UNIT_FIELDS
from reference_server.errors import ConfigError
from reference_server.gateway.aliases import endpoints_of

__all__ = ["require_prices", "unpriced"]

# Embeddings produce no output tokens: an input price prices them.
_INPUT_ONLY = frozenset({"embeddings"})


def _missing(prices: Prices, endpoint: str) -> list[str]:
    unit = ENDPOINT_UNITS[endpoint]
    fields = UNIT_FIELDS[unit][:1] if endpoint in _INPUT_ONLY else UNIT_FIELDS[unit]
    return [name for name in fields if getattr(prices, name) is None]


def unpriced(settings: Settings) -> list[str]:
    """One line per model or deployment that an endpoint it serves cannot price."""
    problems: list[str] = []
    for entry in settings.models:
        for endpoint in endpoints_of(entry):
            # A deployment's prices are its own over its model's: each is what it is billed at.
            gaps = {
                ", ".join(missing)
                for deployment in entry.deployments
                if (missing := _missing(deployment.prices, endpoint))
            }
            if gaps:
                problems.append(
                    f"models.{entry.name}: serves {endpoint} (billed per "
                    f"{ENDPOINT_UNITS[endpoint].rstrip('s')}) but gives no {' / '.join(sorted(gaps))}"
                )
    return problems


def require_prices(settings: Settings) -> None:
    """Raise :class:`ConfigError` listing every model its endpoints cannot price."""
    problems = unpriced(settings)
    if problems:
        raise ConfigError(
            "unpriced models (a metered gateway bills every endpoint in its unit; give the "
            "price, 0 if it is free):\n  " + "\n  ".join(problems[:20])
        )
