"""The ``controls`` section of the gateway config: parsed once into frozen settings, and the
factory that builds :class:`MeteredControls` from it.

Shape (every field optional; defaults shown)::

    controls:
      enabled: true                  # false: StaticControls (keys only, nothing metered)
      store:
        backend: sqlite              # sqlite | redis
        path: .parity/controls.db    # sqlite; env PARITY_CONTROLS_DB overrides
        synchronous: normal          # sqlite: normal (survives kill -9) | full (also power loss)
        url: redis://127.0.0.1:6379/0  # redis; env PARITY_REDIS_URL overrides
        timeout_s: 2.0               # bound on any store wait (fail closed past it)
        max_connections: 64          # redis: connections per worker; more requests queue
      admin_key_sha256: null         # or admin_key: <secret>; env PARITY_ADMIN_KEY wins
      credits_header: x-monday-credits-used
      metering:
        direct_id_surcharge: 0       # rate on requests naming a direct vendor ID; never aliases
      default_max_output_tokens: 4096  # reservation/TPM estimate when max_tokens is absent
      rate_limit_period_s: 60        # "per minute"; shorter only for tests and drills
      hold_ttl_s: 600                # a crashed worker's holds are released after this
      defaults: {rpm: null, tpm: null}   # for keys without their own limits
      owners:                        # budgets on owners (users or agents)
        demo-user: {budget_credits: 5.0, budget_period: total}   # total | day | month
      key_limits:                    # budgets/limits on keys from the top-level `keys` list
        demo: {budget_credits: null, budget_period: total, rpm: null, tpm: null}

Must not: read files other than via the store it builds; touch the network at import.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any, Literal, cast

from reference_server.controls.base import Controls, StaticControls, hash_key
from reference_server.controls.budgets import PERIODS, OwnerBudget, Period
from reference_server.controls.keys import KeyRecord
from reference_server.controls.metered import ControlsSettings, MeteredControls
from reference_server.controls.metering import Price, micro_credits
from reference_server.controls.stores import ControlsStore
from reference_server.errors import ControlsConfigError

__all__ = [
    "ControlsConfigError",
    "StoreSettings",
    "build_controls",
    "parse_controls",
    "price_from",
]

_TOP = frozenset(
    {
        "enabled",
        "store",
        "admin_key",
        "admin_key_sha256",
        "credits_header",
        "metering",
        "default_max_output_tokens",
        "rate_limit_period_s",
        "hold_ttl_s",
        "defaults",
        "owners",
        "key_limits",
    }
)
_STORE = frozenset({"backend", "path", "synchronous", "url", "timeout_s", "max_connections"})
_METERING = frozenset({"direct_id_surcharge"})
_LIMITS = frozenset({"budget_credits", "budget_period", "rpm", "tpm"})


_DEFAULT_DB = ".parity/controls.db"
_DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
_DEFAULT_POOL = 64  # Redis connections per worker


@dataclass(frozen=True, slots=True)
class StoreSettings:
    backend: Literal["sqlite", "redis"] = "sqlite"
    path: str = _DEFAULT_DB
    synchronous: Literal["normal", "full"] = "normal"
    url: str = _DEFAULT_REDIS
    timeout_s: float = 2.0
    max_connections: int = _DEFAULT_POOL


@dataclass(frozen=True, slots=True)
class _KeyLimits:
    budget_micro: int | None
    budget_period: Period
    rpm: int | None
    tpm: int | None


@dataclass(frozen=True, slots=True)
class ParsedControls:
    enabled: bool
    store: StoreSettings
    settings: ControlsSettings
    key_limits: Mapping[str, _KeyLimits]


def _fail(field: str, value: object, expected: str) -> ControlsConfigError:
    return ControlsConfigError(f"controls.{field}: {value!r} is invalid; expected {expected}")


def _mapping(raw: object, field: str, allowed: frozenset[str]) -> Mapping[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise _fail(field or "(section)", raw, "a mapping")
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ControlsConfigError(
            f"controls{'.' + field if field else ''}: unknown field(s) {unknown!r}; "
            f"valid: {sorted(allowed)}"
        )
    return raw


def _int(raw: object, field: str, *, minimum: int, nullable: bool) -> int | None:
    if raw is None and nullable:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < minimum:
        raise _fail(field, raw, f"an integer >= {minimum}" + (" or null" if nullable else ""))
    return raw


def _number(raw: object, field: str, *, positive: bool) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise _fail(field, raw, "a number")
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise _fail(field, raw, "a number") from None
    if not value.is_finite() or value < 0 or (positive and value == 0):
        raise _fail(field, raw, "a number > 0" if positive else "a number >= 0")
    return value


def _credits(raw: object, field: str) -> int | None:
    if raw is None:
        return None
    return micro_credits(_number(raw, field, positive=False))


def _period(raw: object, field: str) -> Period:
    if raw is None:
        return "total"
    if raw not in PERIODS:
        raise _fail(field, raw, f"one of {list(PERIODS)}")
    return raw


def _limits(raw: object, field: str) -> _KeyLimits:
    section = _mapping(raw, field, _LIMITS)
    return _KeyLimits(
        budget_micro=_credits(section.get("budget_credits"), f"{field}.budget_credits"),
        budget_period=_period(section.get("budget_period"), f"{field}.budget_period"),
        rpm=_int(section.get("rpm"), f"{field}.rpm", minimum=1, nullable=True),
        tpm=_int(section.get("tpm"), f"{field}.tpm", minimum=1, nullable=True),
    )


def parse_controls(raw: Mapping[str, Any] | None, environ: Mapping[str, str]) -> ParsedControls:
    """Validate the raw section; environment variables override the file (``PARITY_*``)."""
    top = _mapping(raw, "", _TOP)
    store_raw = _mapping(top.get("store"), "store", _STORE)
    backend = store_raw.get("backend", "sqlite")
    if backend not in ("sqlite", "redis"):
        raise _fail("store.backend", backend, "'sqlite' or 'redis'")
    synchronous = store_raw.get("synchronous", "normal")
    if synchronous not in ("normal", "full"):
        raise _fail("store.synchronous", synchronous, "'normal' or 'full'")
    for name in ("path", "url"):
        if name in store_raw and not isinstance(store_raw[name], str):
            raise _fail(f"store.{name}", store_raw[name], "a string")
    store = StoreSettings(
        backend=backend,
        path=environ.get("PARITY_CONTROLS_DB") or store_raw.get("path", _DEFAULT_DB),
        synchronous=synchronous,
        url=environ.get("PARITY_REDIS_URL") or store_raw.get("url", _DEFAULT_REDIS),
        timeout_s=float(_number(store_raw.get("timeout_s", 2.0), "store.timeout_s", positive=True)),
        max_connections=cast(
            int,
            _int(
                store_raw.get("max_connections", _DEFAULT_POOL),
                "store.max_connections",
                minimum=1,
                nullable=False,
            ),
        ),
    )

    admin_digest: str | None = None
    if environ.get("PARITY_ADMIN_KEY"):
        admin_digest = hash_key(environ["PARITY_ADMIN_KEY"])
    elif top.get("admin_key") is not None:
        if not isinstance(top["admin_key"], str) or not top["admin_key"]:
            raise ControlsConfigError("controls.admin_key: expected a non-empty string")
        admin_digest = hash_key(top["admin_key"])
    elif top.get("admin_key_sha256") is not None:
        digest = top["admin_key_sha256"]
        if not isinstance(digest, str) or len(digest) != 64:
            raise _fail("admin_key_sha256", "<redacted>", "64 lowercase hex digits")
        admin_digest = digest.lower()

    header = top.get("credits_header", "x-monday-credits-used")
    if not isinstance(header, str) or not header or not header.isascii() or " " in header:
        raise _fail("credits_header", header, "an HTTP header name")
    defaults = _limits(top.get("defaults"), "defaults")
    owners_raw = top.get("owners") or {}
    if not isinstance(owners_raw, Mapping):
        raise _fail("owners", owners_raw, "a mapping of owner -> {budget_credits, budget_period}")
    owners: dict[str, OwnerBudget] = {}
    for owner, spec in owners_raw.items():
        limits = _limits(spec, f"owners.{owner}")
        if limits.budget_micro is not None:
            owners[str(owner)] = OwnerBudget(
                str(owner), limits.budget_micro, limits.budget_period, "config"
            )
    key_limits_raw = top.get("key_limits") or {}
    if not isinstance(key_limits_raw, Mapping):
        raise _fail("key_limits", key_limits_raw, "a mapping of key id -> limits")
    metering = _mapping(top.get("metering"), "metering", _METERING)
    settings = ControlsSettings(
        credits_header=header.lower(),
        # monday's pages state no figure for the direct-ID surcharge: none unless configured.
        direct_id_surcharge=_number(
            metering.get("direct_id_surcharge", 0),
            "metering.direct_id_surcharge",
            positive=False,
        ),
        default_max_output_tokens=cast(
            int,
            _int(
                top.get("default_max_output_tokens", 4096),
                "default_max_output_tokens",
                minimum=1,
                nullable=False,
            ),
        ),
        rate_limit_period_s=float(
            _number(top.get("rate_limit_period_s", 60), "rate_limit_period_s", positive=True)
        ),
        hold_ttl_s=float(_number(top.get("hold_ttl_s", 600), "hold_ttl_s", positive=True)),
        default_rpm=defaults.rpm,
        default_tpm=defaults.tpm,
        admin_key_sha256=admin_digest,
        owner_budgets=owners,
    )
    enabled = top.get("enabled", True)
    if not isinstance(enabled, bool):
        raise _fail("enabled", enabled, "true or false")
    return ParsedControls(
        enabled=enabled,
        store=store,
        settings=settings,
        key_limits={str(k): _limits(v, f"key_limits.{k}") for k, v in key_limits_raw.items()},
    )


def _decimal(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def price_from(given: Sequence[Any]) -> Price:
    """``(input_per_mtok, output_per_mtok[, per_second, per_character, per_image])`` -> Price."""
    per_second, per_character, per_image = (*given[2:5], None, None, None)[:3]
    sizes = tuple((str(size), Decimal(str(value))) for size, value in dict(per_image or {}).items())
    # A price not given is no price in that unit: 0 per token (a token-priced endpoint's model
    # without one is refused at start), None per unit (refused at use: UnpricedError).
    return Price(
        Decimal(str(given[0] or 0)),
        Decimal(str(given[1] or 0)),
        per_second=_decimal(per_second),
        per_character=_decimal(per_character),
        per_image=sizes,
    )


def open_store(settings: StoreSettings) -> ControlsStore:
    if settings.backend == "redis":
        from reference_server.controls.stores.redis import RedisStore

        return RedisStore(
            settings.url, timeout_s=settings.timeout_s, max_connections=settings.max_connections
        )
    from reference_server.controls.stores.sqlite import SqliteStore

    return SqliteStore(
        settings.path, busy_timeout_s=settings.timeout_s, synchronous=settings.synchronous
    )


def build_controls(
    raw: Mapping[str, Any] | None,
    *,
    keys: Iterable[tuple[str, str, str, Iterable[str]]],
    price: Callable[[str], Sequence[Any]],
    is_alias: Callable[[str], bool],
    environ: Mapping[str, str] | None = None,
) -> Controls:
    """The controls for a config: MeteredControls, or StaticControls when ``enabled: false``.

    ``keys``: (id, owner, sha256 of secret, scopes) from the top-level ``keys`` list;
    ``price(name)``: the list prices of a deployment or model name, raising KeyError when
    unknown: ``(input_per_mtok, output_per_mtok[, per_second, per_character, per_image])``,
    USD (per million tokens; per second, character, or image by size: a mapping, or None);
    ``is_alias(model)``: the name is an alias (never surcharged).
    """
    parsed = parse_controls(raw, os.environ if environ is None else environ)
    key_list = [(k, o, d, frozenset(s)) for k, o, d, s in keys]
    if not parsed.enabled:
        return StaticControls(key_list)
    unknown = sorted(set(parsed.key_limits) - {k for k, *_ in key_list})
    if unknown:
        raise ControlsConfigError(
            f"controls.key_limits names unknown key id(s) {unknown!r}; "
            f"known: {sorted(k for k, *_ in key_list)}"
        )
    seed = []
    for key_id, owner, digest, scopes in key_list:
        limits = parsed.key_limits.get(key_id)
        seed.append(
            KeyRecord(
                id=key_id,
                owner=owner,
                name=key_id,
                key_sha256=digest,
                scopes=scopes,
                budget_micro=limits.budget_micro if limits else None,
                budget_period=limits.budget_period if limits else "total",
                rpm=limits.rpm if limits else None,
                tpm=limits.tpm if limits else None,
                source="config",
            )
        )

    @cache
    def prices(name: str) -> Price:
        return price_from(price(name))

    return MeteredControls(
        open_store(parsed.store),
        parsed.settings,
        prices=prices,
        is_alias=is_alias,
        seed=seed,
    )
