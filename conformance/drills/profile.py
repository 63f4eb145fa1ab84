"""The drill profile: what the gateway under drill says it is configured to do.

Read once from YAML, validated against ``spec/drill-profile.schema.json`` (errors name the field
and the bad value), keys resolved from the environment, into frozen objects. A profile name
without a path (``reference``) is one of the files shipped in ``conformance/drills/profiles/``.

Must not: touch the network.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from conformance.errors import DrillProfileError
from conformance.schemas import spec_dir

__all__ = [
    "BudgetDrill",
    "Circuit",
    "DrillProfile",
    "DrillProfileError",
    "Metering",
    "RateDrill",
    "Route",
    "SpendEndpoint",
    "Timeouts",
    "load_drill_profile",
    "profile_from_mapping",
]

_BUILTIN = Path(__file__).resolve().parent / "profiles"


@dataclass(frozen=True, slots=True)
class Route:
    upstream: str
    input_per_mtok: Decimal
    output_per_mtok: Decimal
    # Prompt-cache reads and writes, when the gateway prices them apart (None: input price).
    cache_read_per_mtok: Decimal | None = None
    cache_write_per_mtok: Decimal | None = None


@dataclass(frozen=True, slots=True)
class SpendEndpoint:
    url: str
    value_field: str  # the JSON field of the spend endpoint's answer holding total credits
    admin_key: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class Metering:
    credits_header: str | None = "x-monday-credits-used"
    usage_field: str | None = "credits_used"
    surcharge_rate: Decimal = Decimal(0)
    tolerance: Decimal = Decimal("0.000001")
    spend: SpendEndpoint | None = None


@dataclass(frozen=True, slots=True)
class BudgetDrill:
    api_key: str = field(repr=False)
    credits: Decimal
    requests: int = 10
    max_tokens: int = 16


@dataclass(frozen=True, slots=True)
class RateDrill:
    api_key: str = field(repr=False)
    limit: int
    period_s: float
    periods: int = 3
    offered_factor: float = 3.0


@dataclass(frozen=True, slots=True)
class Timeouts:
    upstream_s: float
    fallback_added_s: float = 1.0
    all_down_s: float = 3.0


@dataclass(frozen=True, slots=True)
class Circuit:
    failure_threshold: int
    window_s: float


@dataclass(frozen=True, slots=True)
class DrillProfile:
    name: str
    model: str
    primary: Route
    fallback: Route
    timeouts: Timeouts
    metering: Metering = field(default_factory=Metering)
    budget: BudgetDrill | None = None
    rate_limit: RateDrill | None = None
    circuit: Circuit | None = None

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every key the profile holds (for redaction)."""
        found = [
            self.budget.api_key if self.budget else None,
            self.rate_limit.api_key if self.rate_limit else None,
            self.metering.spend.admin_key if self.metering.spend else None,
        ]
        return tuple(s for s in found if s)


def _schema() -> dict[str, Any]:
    with open(spec_dir() / "drill-profile.schema.json", encoding="utf-8") as handle:
        loaded: dict[str, Any] = json.load(handle)
    return loaded


def _secret(raw: Mapping[str, Any], where: str, environ: Mapping[str, str], key: str) -> str:
    if raw.get(key):
        return str(raw[key])
    env = raw.get(f"{key}_env")
    if env:
        value = environ.get(str(env))
        if not value:
            raise DrillProfileError(f"{where}.{key}_env: environment variable {env!r} is not set")
        return value
    raise DrillProfileError(f"{where}: give {key} or {key}_env")


def _price(raw: Mapping[str, Any], name: str) -> Decimal | None:
    return Decimal(str(raw[name])) if raw.get(name) is not None else None


def _route(raw: Mapping[str, Any]) -> Route:
    return Route(
        upstream=str(raw["upstream"]),
        input_per_mtok=Decimal(str(raw["input_per_mtok"])),
        output_per_mtok=Decimal(str(raw["output_per_mtok"])),
        cache_read_per_mtok=_price(raw, "cache_read_per_mtok"),
        cache_write_per_mtok=_price(raw, "cache_write_per_mtok"),
    )


def profile_from_mapping(raw: object, environ: Mapping[str, str] | None = None) -> DrillProfile:
    """A profile from its parsed YAML; raises :class:`DrillProfileError`."""
    env = os.environ if environ is None else environ
    errors = sorted(
        jsonschema.Draft202012Validator(_schema()).iter_errors(raw), key=lambda e: list(e.path)
    )
    if errors:
        first = errors[0]
        where = ".".join(str(p) for p in first.absolute_path) or "(profile)"
        raise DrillProfileError(f"{where}: {first.message}")
    assert isinstance(raw, Mapping)
    routes = raw["routes"]
    if routes["primary"]["upstream"] == routes["fallback"]["upstream"]:
        raise DrillProfileError(
            f"routes: primary and fallback both name upstream {routes['primary']['upstream']!r}; "
            "drills need two distinct upstreams"
        )
    metering_raw = raw.get("metering") or {}
    spend = None
    if metering_raw.get("spend"):
        spend_raw = metering_raw["spend"]
        admin = None
        if spend_raw.get("admin_key") or spend_raw.get("admin_key_env"):
            admin = _secret(spend_raw, "metering.spend", env, "admin_key")
        spend = SpendEndpoint(str(spend_raw["url"]), str(spend_raw["field"]), admin)
    metering = Metering(
        credits_header=(metering_raw.get("credits_header", "x-monday-credits-used") or None),
        usage_field=metering_raw.get("usage_field", "credits_used") or None,
        surcharge_rate=Decimal(str(metering_raw.get("surcharge_rate", 0))),
        tolerance=Decimal(str(metering_raw.get("tolerance", "0.000001"))),
        spend=spend,
    )
    if metering.credits_header is not None:
        metering = Metering(
            metering.credits_header.lower(),
            metering.usage_field,
            metering.surcharge_rate,
            metering.tolerance,
            metering.spend,
        )
    budget = None
    if raw.get("budget"):
        b = raw["budget"]
        budget = BudgetDrill(
            api_key=_secret(b, "budget", env, "api_key"),
            credits=Decimal(str(b["credits"])),
            requests=int(b.get("requests", 10)),
            max_tokens=int(b.get("max_tokens", 16)),
        )
    rate = None
    if raw.get("rate_limit"):
        r = raw["rate_limit"]
        rate = RateDrill(
            api_key=_secret(r, "rate_limit", env, "api_key"),
            limit=int(r["limit"]),
            period_s=float(r["period_s"]),
            periods=int(r.get("periods", 3)),
            offered_factor=float(r.get("offered_factor", 3.0)),
        )
    t = raw["timeouts"]
    circuit = None
    if raw.get("circuit"):
        circuit = Circuit(
            int(raw["circuit"]["failure_threshold"]), float(raw["circuit"]["window_s"])
        )
    return DrillProfile(
        name=str(raw["name"]),
        model=str(raw["model"]),
        primary=_route(routes["primary"]),
        fallback=_route(routes["fallback"]),
        timeouts=Timeouts(
            upstream_s=float(t["upstream_s"]),
            fallback_added_s=float(t.get("fallback_added_s", 1.0)),
            all_down_s=float(t.get("all_down_s", 3.0)),
        ),
        metering=metering,
        budget=budget,
        rate_limit=rate,
        circuit=circuit,
    )


def load_drill_profile(name_or_path: str, environ: Mapping[str, str] | None = None) -> DrillProfile:
    """A shipped profile by name, or a YAML file; raises :class:`DrillProfileError`."""
    path = Path(name_or_path)
    if not path.suffix and not path.exists():
        path = _BUILTIN / f"{name_or_path}.yaml"
        if not path.is_file():
            shipped = sorted(p.stem for p in _BUILTIN.glob("*.yaml"))
            raise DrillProfileError(
                f"no drill profile named {name_or_path!r}; shipped: {shipped}, or pass a YAML file"
            )
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DrillProfileError(f"cannot read {str(path)!r}: {exc}") from None
    except yaml.YAMLError as exc:
        raise DrillProfileError(f"{str(path)!r} is not valid YAML: {exc}") from None
    return profile_from_mapping(raw, environ)
