"""The settings of a conformance run, shared by ``parity check`` and the pytest plugin.

Owns: reading the options (a mapping: the command line's parsed arguments, or the plugin's
``--parity-*`` options under the same names) with the environment into one frozen
:class:`Settings` (command line > ``PARITY_*`` > ``OPENAI_*`` > default), validating every
value (the error shows it and says how to fix it), and :func:`plan`: the checks that run and
the profile they run under. The option names are :data:`OPTIONS`; a missing one takes its
default.

Must not: print, exit or parse a command line (the CLI and the plugin do), or touch the
network.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conformance import selection
from conformance.errors import CheckLoadError, ProfileError, UsageError
from conformance.keyapi import ROLES, RoleKeys
from conformance.target import Target
from conformance.vocabulary import CAPABILITIES, LEVELS, Capability, Level

if TYPE_CHECKING:
    from conformance.profiles import Profile
    from conformance.registry import CheckSpec

__all__ = [
    "DEFAULTS",
    "OPTIONS",
    "Settings",
    "api_key_from",
    "base_url_from",
    "parse_keys",
    "parse_models",
    "plan",
    "secrets_in",
    "settings_from",
]

# Option name -> default (the command line's flags without their dashes).
DEFAULTS: Mapping[str, Any] = {
    "base_url": None,
    "api_key": None,
    "level": "standard",
    "model": (),
    "only": (),
    "skip": (),
    "profile": "openai",
    "report_dir": None,
    "max_requests": None,
    "seed": None,
    "fuzz_requests": None,
    "concurrency": 4,
    "check_timeout": 120.0,
    "request_timeout": 60.0,
    "allow_fetch": (),
    "baseline": None,
    "write_baseline": None,
    "fail_on_skip": False,
    "admin_key": None,
    "key": (),
}
OPTIONS: tuple[str, ...] = tuple(DEFAULTS)
# Secrets a run may meet without sending them (a gateway's admin key, the drills' upstream keys):
# read from these variables, and from any PARITY_* variable whose name says key, token, secret
# or password, so a target that echoes one cannot put it in an output.
_SECRET_VARIABLES = (
    "PARITY_API_KEY",
    "OPENAI_API_KEY",
    "PARITY_ADMIN_KEY",
    "PARITY_UPSTREAM_CONTROL_KEY",
    "PARITY_UPSTREAM_API_KEY",
    "PARITY_UPSTREAM_KEY",
)
_SECRET_NAME = ("KEY", "TOKEN", "SECRET", "PASSWORD")


@dataclass(frozen=True, slots=True)
class Settings:
    """The options and the environment, read once and validated."""

    base_url: str
    api_key: str | None = field(repr=False)
    level: Level
    pins: Mapping[Capability, str]
    only: frozenset[str]
    skip: frozenset[str]
    profile: str
    report_dir: Path | None
    max_requests: int | None
    seed: int
    fuzz_requests: int | None
    concurrency: int
    check_timeout: float
    request_timeout: float
    allow_fetch: frozenset[str]
    baseline: Path | None
    write_baseline: Path | None
    fail_on_skip: bool
    # The environment's secrets (see secrets_in): redacted in every output, never sent.
    secrets: tuple[str, ...] = field(default=(), repr=False)
    # The gateway's admin key (mints the promise checks' keys) and keys given by role.
    admin_key: str | None = field(default=None, repr=False)
    role_keys: Mapping[str, str] = field(default_factory=dict, repr=False)

    def options(self) -> dict[str, object]:
        """The options as JSON-ready data for the report and a baseline: what decides which
        checks run and how they judge, without the base URL or any secret."""
        return {
            "level": self.level,
            "profile": self.profile,
            "only": sorted(self.only),
            "skip": sorted(self.skip),
            "models": {cap: model or "none" for cap, model in self.pins.items()},
            "max_requests": self.max_requests,
            "seed": self.seed,
            "fuzz_requests": self.fuzz_requests,
            "check_timeout": self.check_timeout,
            "request_timeout": self.request_timeout,
            "allow_fetch": sorted(self.allow_fetch),
            "baseline": str(self.baseline) if self.baseline else None,
            "fail_on_skip": self.fail_on_skip,
        }

    def target(self, profile: Profile) -> Target:
        """The target these settings name, judged against ``profile``."""
        return Target(
            admin_key=self.admin_key,
            roles=RoleKeys(keys=dict(self.role_keys)),
            base_url=self.base_url,
            api_key=self.api_key,
            level=self.level,
            profile=profile,
            models=self.pins,
            max_requests=self.max_requests,
            seed=self.seed,
            fuzz_requests=self.fuzz_requests,
            secrets=self.secrets,
            allow_fetch=tuple(sorted(self.allow_fetch)),
        )


def base_url_from(given: str | None, environ: Mapping[str, str]) -> str | None:
    """``--base-url`` > ``PARITY_BASE_URL`` > ``OPENAI_BASE_URL`` (the official SDK's variable)."""
    return given or environ.get("PARITY_BASE_URL") or environ.get("OPENAI_BASE_URL") or None


def api_key_from(given: str | None, environ: Mapping[str, str]) -> str | None:
    """``--api-key`` > ``PARITY_API_KEY`` > ``OPENAI_API_KEY`` (the official SDK's variable)."""
    return given or environ.get("PARITY_API_KEY") or environ.get("OPENAI_API_KEY") or None


def secrets_in(environ: Mapping[str, str]) -> tuple[str, ...]:
    """The values of the environment's secret variables (API, admin and upstream keys)."""
    names = [
        name
        for name in environ
        if name in _SECRET_VARIABLES
        or (name.startswith("PARITY_") and any(part in name for part in _SECRET_NAME))
    ]
    return tuple(dict.fromkeys(environ[name] for name in sorted(names) if environ[name]))


def parse_models(values: Sequence[str]) -> dict[Capability, str]:
    """``CAPABILITY=MODEL`` pins; ``CAPABILITY=none`` (or empty) marks it as not offered."""
    pins: dict[Capability, str] = {}
    for value in values:
        cap, sep, model = value.partition("=")
        cap = cap.strip().lower()
        if not sep or cap not in CAPABILITIES:
            raise UsageError(
                f"--model {value!r}: expected CAPABILITY=MODEL with CAPABILITY one of "
                f"{', '.join(CAPABILITIES)}"
            )
        model = model.strip()
        pins[cap] = "" if model.lower() == "none" else model
    return pins


def parse_keys(values: Sequence[str]) -> dict[str, str]:
    """``ROLE=KEY`` for the promise checks' keys (roles: :data:`conformance.keyapi.ROLES`)."""
    keys: dict[str, str] = {}
    for value in values:
        role, sep, key = value.partition("=")
        role = role.strip().lower()
        if not sep or role not in ROLES or not key.strip():
            # Never echo the value: it holds a key.
            raise UsageError(
                f"--key {role or '?'}=...: expected ROLE=KEY with ROLE one of "
                f"{', '.join(ROLES)} and a non-empty key"
            )
        keys[role] = key.strip()
    return keys


def _strings(name: str, value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence | frozenset | set) and all(isinstance(v, str) for v in value):
        return list(value)
    raise UsageError(f"--{name.replace('_', '-')} expects text values, got {value!r}")


def _split(name: str, value: object) -> frozenset[str]:
    parts = (part.strip() for item in _strings(name, value) for part in item.split(","))
    return frozenset(part for part in parts if part)


def _count(name: str, value: object) -> int | None:
    """An optional whole number of at least 1 (``None``: not set)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UsageError(f"--{name.replace('_', '-')} must be at least 1, got {value!r}")
    return value


def _hosts(value: object) -> frozenset[str]:
    hosts = _split("allow_fetch", value)
    for host in hosts:
        # A scheme, a path or a port is a mistake; an IPv6 address (::1, [::1]) is a host.
        if "/" in host or re.fullmatch(r"[^:]+:\d+|\[.*\]:\d+", host):
            raise UsageError(
                f"--allow-fetch {host!r}: pass a host name, like cdn.example.com (no scheme, "
                "path or port)"
            )
    return frozenset(host.lower().strip("[]") for host in hosts)


def _path(name: str, value: object) -> Path | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str | Path):
        raise UsageError(f"--{name.replace('_', '-')} expects a file path, got {value!r}")
    return Path(value)


def _flag(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise UsageError(f"--{name.replace('_', '-')} is on or off, got {value!r}")
    return value


def _seconds(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise UsageError(f"--{name.replace('_', '-')} must be positive seconds, got {value!r}")
    return float(value)


def _seed(value: object) -> int:
    """``--seed``: a whole number replays, ``random`` draws one, absent is the fixed default."""
    from conformance.seeds import parse_seed

    if value is not None and not isinstance(value, str | int):
        raise UsageError(f"--seed must be a whole number, got {value!r} (or 'random' to draw one)")
    try:
        return parse_seed(value)
    except ValueError as exc:
        raise UsageError(f"--seed: {exc}") from None


def settings_from(
    options: Mapping[str, object], environ: Mapping[str, str] | None = None
) -> Settings:
    """Options > environment > default, validated; raises :class:`UsageError`.

    ``options`` holds any of :data:`OPTIONS`; another key is a programming error
    (``TypeError`` naming it). ``environ`` defaults to ``os.environ``.
    """
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise TypeError(f"unknown settings {unknown!r}; valid: {', '.join(OPTIONS)}")
    env = os.environ if environ is None else environ
    given = {**DEFAULTS, **{k: v for k, v in options.items() if v is not None}}
    base_url = base_url_from(given["base_url"], env)
    if not base_url:
        raise UsageError(
            "no target: pass --base-url URL (e.g. http://127.0.0.1:8000/v1) or set "
            "PARITY_BASE_URL; to try parity locally, start the reference server with `parity serve`"
        )
    if not base_url.startswith(("http://", "https://")):
        raise UsageError(f"--base-url {base_url!r} must start with http:// or https://")
    level = given["level"]
    if level not in LEVELS:
        raise UsageError(f"--level {level!r} is not one of {', '.join(LEVELS)}")
    concurrency = _count("concurrency", given["concurrency"])
    profile = given["profile"]
    if not isinstance(profile, str | Path):
        raise UsageError(f"--profile must be a name or a file, got {profile!r}")
    report_dir = given["report_dir"]
    return Settings(
        base_url=base_url.rstrip("/"),
        api_key=api_key_from(given["api_key"], env),
        level=level,
        pins=parse_models(_strings("model", given["model"])),
        only=_split("only", given["only"]),
        skip=_split("skip", given["skip"]),
        profile=str(profile),
        report_dir=Path(report_dir) if report_dir else None,
        max_requests=_count("max_requests", given["max_requests"]),
        seed=_seed(given["seed"]),
        fuzz_requests=_count("fuzz_requests", given["fuzz_requests"]),
        concurrency=concurrency or DEFAULTS["concurrency"],
        check_timeout=_seconds("check_timeout", given["check_timeout"]),
        request_timeout=_seconds("request_timeout", given["request_timeout"]),
        allow_fetch=_hosts(given["allow_fetch"]),
        baseline=_path("baseline", given["baseline"]),
        write_baseline=_path("write_baseline", given["write_baseline"]),
        fail_on_skip=_flag("fail_on_skip", given["fail_on_skip"]),
        secrets=secrets_in(env),
        admin_key=_admin_key(given["admin_key"], env),
        role_keys=parse_keys(_strings("key", given["key"])),
    )


def _admin_key(given: object, environ: Mapping[str, str]) -> str | None:
    """``--admin-key`` > ``PARITY_ADMIN_KEY``: the gateway's admin key, for its key API only."""
    if given is not None and not isinstance(given, str):
        raise UsageError("--admin-key expects a key (text)")
    return given or environ.get("PARITY_ADMIN_KEY") or None


def _unknown(kind: str, given: frozenset[str], known: set[str], hint: str) -> None:
    unknown = sorted(given - known)
    if not unknown:
        return
    close = difflib.get_close_matches(unknown[0], sorted(known), n=3)
    maybe = f"; did you mean {', '.join(close)}?" if close else ""
    raise UsageError(f"unknown {kind} {', '.join(map(repr, unknown))}{maybe} ({hint})")


def plan(settings: Settings) -> tuple[list[CheckSpec], Profile]:
    """Load the checks and the profile, and select what runs; raises :class:`UsageError`."""
    from conformance.profiles import load_profile  # reads YAML: imported when a run is planned

    try:
        checks = selection.load_checks()
    except CheckLoadError as exc:
        raise UsageError(f"cannot load the checks: {exc}") from None
    areas = {spec.area for spec in checks}
    _unknown("area", settings.only, areas, f"valid areas: {', '.join(sorted(areas))}")
    ids = {spec.id for spec in checks}
    _unknown("check id", settings.skip, ids, "see `parity checks list`")
    try:
        profile = load_profile(settings.profile)
    except (ProfileError, OSError) as exc:
        raise UsageError(f"--profile {settings.profile!r}: {exc}") from None
    specs = selection.select_checks(checks, level=settings.level, only=settings.only)
    if not specs:
        # A run of nothing would "pass" in CI; say so instead.
        where = f" in areas {', '.join(sorted(settings.only))}" if settings.only else ""
        raise UsageError(
            f"no check runs at level {settings.level!r}{where}; try --level deep or other areas"
        )
    return specs, profile
