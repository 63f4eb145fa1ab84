"""Gateway profiles: what a target promises beyond (or instead of) OpenAI's API.

A profile names documented, deliberate deviations (an auth error shape of its own, images only
as ``b64_json``) and gateway promises to verify (aliases, a default model, a metering header and
how credits relate to catalog prices, budgets, rate limits, the consume scope, a public
catalog), with the gateway's key API as data (``conformance.keyapi``) so that parity can mint
the keys those promises need. The built-in ``openai`` profile is strict: no deviations. The
built-in ``monday`` profile follows monday.com's public Models API documentation
(developer.monday.com/api-reference/docs/models-api-overview, getting-started-with-the-models-api,
models-api-supported-models). The built-in ``catalog`` profile is OpenAI's API plus the catalog
page's public catalog (``GET /api/models``, ``spec/catalog.yaml``); any profile file claims that
catalog with ``catalog: true``. The built-in ``reference`` profile (a file,
``gateway_profiles/reference.yaml``, written as a user would write one) describes parity's own
reference gateway: monday's promises, its admin API (``spec/admin.yaml``) as the key API, its
credits, rate-limit headers and the catalog page's public catalog.

A profile file is YAML with the same field names as :class:`Profile`; ``exhausted_key_env``
names an environment variable holding the exhausted key, so no secret sits in the file.

Must not: weaken a rule that is not named here; perform I/O except in :func:`load_profile`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml

from conformance.errors import ProfileError
from conformance.keyapi import KeyApi, key_api_from_mapping
from conformance.vocabulary import CAPABILITIES, Capability

__all__ = [
    "BUILTIN_FILES",
    "BUILTIN_PROFILES",
    "CATALOG",
    "CATALOG_PATH",
    "MONDAY",
    "OPENAI",
    "UNSUPPORTABLE",
    "Profile",
    "ProfileError",
    "load_profile",
    "profile_from_mapping",
]

# Documented features a profile may declare unsupported: a clean refusal of one is then
# `skipped` (citing the declaration) instead of `failed`. Named after what OpenAI documents:
# CreateChatCompletionRequest.n, FunctionObject.strict, CreateSpeechRequest.response_format,
# CreateTranscriptionRequest.response_format, GET /videos/{video_id}/content.
UNSUPPORTABLE: tuple[str, ...] = (
    "chat.n",
    "chat.tools.strict",
    *(f"speech.format.{f}" for f in ("mp3", "opus", "aac", "flac", "wav", "pcm")),
    *(f"transcriptions.format.{f}" for f in ("text", "srt", "vtt", "verbose_json")),
    "videos.content",
)


# The catalog page's path of the public catalog (spec/catalog.yaml).
CATALOG_PATH = "/api/models"


@dataclass(frozen=True, slots=True)
class Profile:
    """What the target promises. Defaults describe OpenAI itself."""

    name: str = "openai"
    # Aliases the gateway lists and serves, and the one used when `model` is omitted.
    aliases: tuple[str, ...] = ()
    default_model: str | None = None
    # Name of a response header carrying the request's metered cost, if any.
    credits_header: str | None = None
    # A key whose budget is spent (answers 429 insufficient_quota), if the profile provides one.
    exhausted_key: str | None = field(default=None, repr=False)
    # Whether the target sends OpenAI's x-ratelimit-* headers.
    rate_limit_headers: bool = False
    # Images only as b64_json (a `url` request is refused or answered with b64_json).
    images_b64_only: bool = False
    # Auth errors use a documented platform-specific body instead of the OpenAI error object;
    # the value names that shape for the report. None: the OpenAI error object is required.
    auth_error_shape: str | None = None
    # Documented features the target deliberately does not offer (names from UNSUPPORTABLE).
    unsupported: tuple[str, ...] = ()
    # The path of the catalog page's public catalog the target serves (spec/catalog.yaml; a
    # profile file says `catalog: true` for the page's GET /api/models, or names the path of a
    # gateway mounted under a prefix). None: the catalog area is not judged (OpenAI has no
    # /api/models). The catalog page's contract: GET /api/models as a
    # JSON array, its supports[] tags and category -> endpoint table, `category` on /v1/models.
    # False: the catalog area is not judged (OpenAI has no /api/models).
    catalog: str | None = None
    # How credits relate to the catalog's prices: credits charged per USD of list price (a
    # request through an alias costs catalog price x reported usage, no surcharge), and the
    # unit the credits are rounded to. None: the profile promises no such relation.
    credits_per_usd: float | None = None
    credits_rounding: float | None = None
    # How to mint the keys the promise checks need (None: only --key ROLE=KEY supplies them).
    key_api: KeyApi | None = None
    # Requests the rate-limit promise may send with the limited key before it must be refused.
    rate_limit_probe: int = 10
    # Where the profile's promises are documented (shown in reports).
    source: str = "OpenAI API reference (https://platform.openai.com/docs/api-reference)"
    # Capabilities the target promises to serve: a 404 on such an endpoint's route fails its
    # checks; an endpoint nothing promises that answers 404 on its route is skipped as not served.
    offers: tuple[Capability, ...] = ()


OPENAI = Profile()

# monday.com Models API. The docs say auth failures "use a platform-specific JSON shape
# instead of the OpenAI error object" but do not publish that shape, so this profile accepts
# any JSON body on a 401. Rate-limit headers are not documented publicly: not required.
MONDAY = Profile(
    name="monday",
    aliases=("monday-fast", "monday-standard", "monday-powerful"),
    default_model="monday-standard",
    credits_header="x-monday-credits-used",
    images_b64_only=True,
    auth_error_shape="any JSON body on 401 (monday documents a platform-specific shape "
    "without publishing it)",
    source="monday.com Models API docs "
    "(https://developer.monday.com/api-reference/docs/models-api-overview)",
)

# OpenAI's API as it is, plus the public catalog documented by the catalog page
# (spec/catalog.yaml; spec/PROVENANCE.md, "The catalog page").
CATALOG = Profile(
    name="catalog",
    catalog=CATALOG_PATH,
    source="spec/catalog.yaml and spec/PROVENANCE.md (the catalog page: GET /api/models, "
    "category -> endpoint)",
)

BUILTIN_PROFILES: Mapping[str, Profile] = {"openai": OPENAI, "monday": MONDAY, "catalog": CATALOG}
# Built-in profiles kept as files (read when named, never at import).
BUILTIN_FILES: Mapping[str, Path] = {
    "reference": Path(__file__).with_name("gateway_profiles") / "reference.yaml",
}

_FIELDS = {f.name for f in fields(Profile)}
_STRINGS = {"name", "default_model", "credits_header", "exhausted_key", "auth_error_shape"}
_BOOLS = {"rate_limit_headers", "images_b64_only"}
_NUMBERS = {"credits_per_usd", "credits_rounding"}


def load_profile(name_or_path: str, *, environ: Mapping[str, str] | None = None) -> Profile:
    """A built-in profile by name (``openai``, ``monday``, ``catalog``) or a YAML profile file.

    A file may start from a built-in with ``extends: monday`` and override fields. Raises
    :class:`ProfileError` naming the bad field and value, or listing the valid names.
    """
    if name_or_path in BUILTIN_PROFILES:
        return BUILTIN_PROFILES[name_or_path]
    path = BUILTIN_FILES.get(name_or_path) or Path(name_or_path)
    if not path.is_file():
        raise ProfileError(
            f"profile {name_or_path!r} is neither a built-in profile "
            f"({', '.join(sorted({*BUILTIN_PROFILES, *BUILTIN_FILES}))}) nor a readable YAML file"
        )
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ProfileError(f"profile file {str(path)!r} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ProfileError(
            f"profile file {str(path)!r} must hold a mapping of fields, got {type(raw).__name__}"
        )
    return profile_from_mapping(raw, origin=str(path), environ=environ)


def profile_from_mapping(
    raw: Mapping[str, Any], *, origin: str = "profile", environ: Mapping[str, str] | None = None
) -> Profile:
    """Validate a mapping of profile fields into a :class:`Profile`."""
    data = dict(raw)
    base = OPENAI
    extends = data.pop("extends", None)
    if extends is not None:
        if extends in BUILTIN_FILES and str(BUILTIN_FILES[extends]) != origin:
            base = load_profile(extends, environ=environ)
        elif extends in BUILTIN_PROFILES:
            base = BUILTIN_PROFILES[extends]
        else:
            valid = sorted({*BUILTIN_PROFILES, *BUILTIN_FILES})
            raise ProfileError(f"{origin}: field 'extends' is {extends!r}; valid: {valid}")
    key_env = data.pop("exhausted_key_env", None)
    if key_env is not None:
        if not isinstance(key_env, str) or not key_env:
            raise ProfileError(f"{origin}: field 'exhausted_key_env' must name a variable")
        env = os.environ if environ is None else environ
        if key_env not in env:
            raise ProfileError(
                f"{origin}: field 'exhausted_key_env' names {key_env!r}, which is not set"
            )
        data["exhausted_key"] = env[key_env]
    changes: dict[str, Any] = {}
    for key, value in data.items():
        if key not in _FIELDS:
            valid = sorted(_FIELDS | {"extends", "exhausted_key_env"})
            raise ProfileError(f"{origin}: unknown field {key!r}; valid fields: {valid}")
        changes[key] = _field_value(origin, key, value)
    if "name" not in changes and origin != "profile" and extends is None:
        changes["name"] = Path(origin).stem
    return replace(base, **changes)


def _field_value(origin: str, key: str, value: Any) -> Any:
    if key == "aliases":
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ProfileError(
                f"{origin}: field 'aliases' must be a list of model names, got {value!r}"
            )
        return tuple(value)
    if key == "offers":
        if not isinstance(value, list) or not all(v in CAPABILITIES for v in value):
            raise ProfileError(
                f"{origin}: field 'offers' must be a list of capabilities from "
                f"{list(CAPABILITIES)}, got {value!r}"
            )
        return tuple(value)
    if key == "unsupported":
        unknown = [v for v in value if v not in UNSUPPORTABLE] if isinstance(value, list) else value
        if unknown or not isinstance(value, list):
            raise ProfileError(
                f"{origin}: field 'unsupported' must list documented features; {unknown!r} is "
                f"not one of {list(UNSUPPORTABLE)}"
            )
        return tuple(value)
    if key == "key_api":
        return None if value is None else key_api_from_mapping(value, origin)
    if key in _NUMBERS:
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int | float) or value <= 0
        ):
            raise ProfileError(
                f"{origin}: field {key!r} must be a number > 0 or null, got {value!r}"
            )
        return None if value is None else float(value)
    if key == "rate_limit_probe":
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100:
            raise ProfileError(f"{origin}: field 'rate_limit_probe' must be 1..100, got {value!r}")
        return value
    if key == "catalog":
        if value is True:
            return CATALOG_PATH
        if value is False or value is None:
            return None
        if not isinstance(value, str) or not value.startswith("/"):
            raise ProfileError(
                f"{origin}: field 'catalog' must be true, false or a path starting with '/' "
                f"(e.g. {CATALOG_PATH!r}), got {value!r}"
            )
        return value
    if key in _BOOLS:
        if not isinstance(value, bool):
            raise ProfileError(f"{origin}: field {key!r} must be true or false, got {value!r}")
        return value
    if key in _STRINGS:
        if value is not None and (not isinstance(value, str) or not value):
            raise ProfileError(
                f"{origin}: field {key!r} must be a non-empty string or null, got {value!r}"
            )
        return value
    if key == "source":
        if not isinstance(value, str):
            raise ProfileError(f"{origin}: field 'source' must be a string, got {value!r}")
        return value
    raise ProfileError(f"{origin}: field {key!r} cannot be set from a file")  # pragma: no cover
