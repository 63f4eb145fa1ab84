"""Settings: the YAML configuration read once, validated, into frozen objects.

The file is validated against ``spec/gateway-config.schema.json`` at start; errors name the bad
field and value. Sections missing from a file come from the embedded default
(``configs/default.yaml``): ``server`` merges key by key, every other section replaces the
default's as a whole. The ``controls`` section is kept as a raw mapping for the controls modules.

Must not: read the network, or the environment except for a provider's ``api_key_env``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal, NamedTuple, cast

import jsonschema
import yaml

from reference_server.errors import ConfigError

__all__ = [
    "PRICE_FIELDS",
    "AnthropicProviderSettings",
    "ConfigError",
    "Deployment",
    "FaultSettings",
    "KeySettings",
    "ModelEntry",
    "OpenAIProviderSettings",
    "Prices",
    "ProviderSettings",
    "ServerSettings",
    "Settings",
    "SyntheticProviderSettings",
    "load_settings",
    "settings_from_mapping",
]

_HERE = Path(__file__).resolve().parent
_DEFAULT_CONFIG = _HERE / "configs" / "default.yaml"
# The schema lives in spec/ (shared data); an installed wheel carries spec/ as conformance/_spec,
# which this module reads as a file (it never imports the conformance package).
_SCHEMA_CANDIDATES = (
    _HERE.parent / "spec" / "gateway-config.schema.json",
    _HERE.parent / "conformance" / "_spec" / "gateway-config.schema.json",
)

HealthStatus = Literal["healthy", "degraded", "unhealthy"]
ResponseModel = Literal["asked", "resolved"]


@dataclass(frozen=True, slots=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8000
    max_body_bytes: int = 25 * 1024 * 1024
    response_model: ResponseModel = "asked"
    circuit_failure_threshold: int = 5
    circuit_cooldown_s: float = 10.0


@dataclass(frozen=True, slots=True)
class KeySettings:
    id: str
    owner: str
    secret_sha256: str
    scopes: frozenset[str]


@dataclass(frozen=True, slots=True)
class FaultSettings:
    error_rate: float = 0.0
    rate_limit_rate: float = 0.0
    timeout_rate: float = 0.0
    reset_rate: float = 0.0
    midstream_disconnect_rate: float = 0.0
    slow_first_byte_ms: float = 0.0
    timeout_ms: float = 1000.0
    seed: int = 0

    @property
    def any(self) -> bool:
        return any(
            (
                self.error_rate,
                self.rate_limit_rate,
                self.timeout_rate,
                self.reset_rate,
                self.midstream_disconnect_rate,
                self.slow_first_byte_ms,
            )
        )


@dataclass(frozen=True, slots=True)
class SyntheticProviderSettings:
    name: str
    ttft_ms: float = 0.0
    itl_ms: float = 0.0
    tokens_per_chunk: int = 1
    output_tokens: int = 24
    faults: FaultSettings = field(default_factory=FaultSettings)
    type: Literal["synthetic"] = "synthetic"


@dataclass(frozen=True, slots=True)
class OpenAIProviderSettings:
    name: str
    base_url: str
    api_key: str | None = field(default=None, repr=False)
    timeout_s: float = 60.0
    connect_timeout_s: float = 5.0
    max_connections: int = 512
    type: Literal["openai"] = "openai"


@dataclass(frozen=True, slots=True)
class AnthropicProviderSettings:
    name: str
    base_url: str = "https://api.anthropic.com"
    api_key: str | None = field(default=None, repr=False)
    anthropic_version: str = "2023-06-01"
    max_tokens: int | None = None  # sent when the client asks for no limit (None: the model's)
    prompt_caching: bool = False
    timeout_s: float = 60.0
    connect_timeout_s: float = 5.0
    max_connections: int = 512
    type: Literal["anthropic"] = "anthropic"


ProviderSettings = SyntheticProviderSettings | OpenAIProviderSettings | AnthropicProviderSettings


# The price fields of a model or deployment, each named after its unit (USD per million tokens,
# per second of audio or video, per character of speech input, per image by size).
PRICE_FIELDS = ("input_per_mtok", "output_per_mtok", "per_second", "per_character", "per_image")


class Prices(NamedTuple):
    """List prices in USD as configured; ``None``: the field was not given (no price in that
    unit). ``per_image`` maps an image size (``auto``: none named) to the price of one image."""

    input_per_mtok: float | None = None
    output_per_mtok: float | None = None
    per_second: float | None = None
    per_character: float | None = None
    per_image: Mapping[str, float] | None = None


@dataclass(frozen=True, slots=True)
class Deployment:
    name: str
    provider: str
    model: str
    input_per_mtok: float
    output_per_mtok: float
    # Every price, the deployment's own over its model's (what it is billed at when it serves).
    prices: Prices = field(default_factory=Prices)


@dataclass(frozen=True, slots=True)
class ModelEntry:
    """One catalog entry. Prices are USD: per million tokens (``*_per_mtok``), or per unit for
    models priced by another unit (``per_character``, ``per_second``, ``per_image``; None when
    the model is not priced by that unit)."""

    name: str
    category: str
    supports: tuple[str, ...]
    alias: bool
    input_per_mtok: float
    output_per_mtok: float
    health_status: HealthStatus | None
    deployments: tuple[Deployment, ...]
    prices: Prices = field(default_factory=Prices)


@dataclass(frozen=True, slots=True)
class Settings:
    server: ServerSettings
    keys: tuple[KeySettings, ...]
    providers: Mapping[str, ProviderSettings]
    models: tuple[ModelEntry, ...]
    default_model: str
    controls: Mapping[str, Any] = field(default_factory=dict)
    _by_name: Mapping[str, ModelEntry] = field(init=False, repr=False, compare=False)
    _prices: Mapping[str, Prices] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {entry.name: entry for entry in self.models})
        object.__setattr__(self, "_prices", _price_index(self.models))

    def model(self, name: str) -> ModelEntry | None:
        return self._by_name.get(name)

    def price(self, name: str) -> Prices:
        """The list prices of a deployment or model name (KeyError when unknown)."""
        index = self._prices
        if name not in index:
            raise KeyError(f"no price for {name!r}; known: {sorted(index)}")
        return index[name]

    def is_alias(self, name: str) -> bool:
        entry = self.model(name)
        return entry is not None and entry.alias


def _price_index(models: tuple[ModelEntry, ...]) -> dict[str, Prices]:
    index: dict[str, Prices] = {}
    for entry in models:
        for deployment in entry.deployments:
            index[deployment.name] = deployment.prices
    for entry in models:
        index[entry.name] = entry.prices
    return index


_UNPRICED = Prices()


def _prices(item: Mapping[str, Any], inherited: Prices = _UNPRICED) -> Prices:
    """The price fields ``item`` gives, over ``inherited`` (a deployment inherits its model's)."""
    given = {name: item[name] for name in PRICE_FIELDS if item.get(name) is not None}
    if "per_image" in given:
        given["per_image"] = {str(k): float(v) for k, v in given["per_image"].items()}
    for name in PRICE_FIELDS[:4]:
        if name in given:
            given[name] = float(given[name])
    return inherited._replace(**given)


@cache
def _schema() -> dict[str, Any]:
    import json

    for candidate in _SCHEMA_CANDIDATES:
        if candidate.is_file():
            return cast(dict[str, Any], json.loads(candidate.read_text("utf-8")))
    raise ConfigError(f"gateway-config.schema.json not found in {_SCHEMA_CANDIDATES!r}")


def _default_mapping() -> dict[str, Any]:
    return cast(dict[str, Any], yaml.safe_load(_DEFAULT_CONFIG.read_text("utf-8")))


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    """Read the YAML file at ``path`` (or only the embedded default) into :class:`Settings`."""
    if path is None:
        return settings_from_mapping({})
    file = Path(path)
    try:
        raw = yaml.safe_load(file.read_text("utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read config file {str(file)!r}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {str(file)!r} is not valid YAML: {exc}") from exc
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"config file {str(file)!r} must hold a mapping, got {raw!r:.80}")
    return settings_from_mapping(raw)


def _where(error: jsonschema.ValidationError) -> str:
    return ".".join(str(part) for part in error.absolute_path) or "(top level)"


def _validate(raw: Mapping[str, Any], label: str) -> None:
    validator = jsonschema.Draft202012Validator(_schema())
    errors = sorted(validator.iter_errors(raw), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        lines = [f"{label}: {_where(e)}: {e.message}" for e in errors[:10]]
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines))


def settings_from_mapping(raw: Mapping[str, Any]) -> Settings:
    """Validate ``raw`` (already parsed YAML), fill it from the default, build :class:`Settings`."""
    _validate(raw, "config")
    merged = _default_mapping()
    for section, value in raw.items():
        if section == "server":
            merged["server"] = {**merged.get("server", {}), **value}
        else:
            merged[section] = value
    _validate(merged, "config (after defaults)")
    return _build(merged)


def _build(raw: Mapping[str, Any]) -> Settings:
    server = ServerSettings(**raw.get("server", {}))
    keys = tuple(_key(item) for item in raw.get("keys", []))
    providers = {name: _provider(name, spec) for name, spec in raw["providers"].items()}
    models = tuple(_model(item, providers) for item in raw["models"])
    names = [m.name for m in models]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"models: duplicate model names {duplicates!r}")
    deployment_names = [d.name for m in models for d in m.deployments]
    # A deployment name shared by identical deployments (same provider and model) is one
    # deployment listed under several models; a name reused for different ones is a mistake.
    seen: dict[str, tuple[str, str]] = {}
    for model in models:
        for d in model.deployments:
            previous = seen.setdefault(d.name, (d.provider, d.model))
            if previous != (d.provider, d.model):
                raise ConfigError(
                    f"models.{model.name}.deployments: name {d.name!r} already names "
                    f"{previous!r}; deployment names must be unique"
                )
    del deployment_names
    default_model = str(raw.get("default_model", "monday-standard"))
    if default_model not in names:
        raise ConfigError(f"default_model: {default_model!r} is not a model; choose from {names!r}")
    key_ids = [k.id for k in keys]
    if len(set(key_ids)) != len(key_ids):
        raise ConfigError(f"keys: duplicate key ids in {key_ids!r}")
    return Settings(
        server=server,
        keys=keys,
        providers=providers,
        models=models,
        default_model=default_model,
        controls=dict(raw.get("controls") or {}),
    )


def _key(item: Mapping[str, Any]) -> KeySettings:
    if "secret" in item:
        digest = hashlib.sha256(str(item["secret"]).encode("utf-8")).hexdigest()
    else:
        digest = str(item["secret_sha256"])
    return KeySettings(
        id=str(item["id"]),
        owner=str(item.get("owner", item["id"])),
        secret_sha256=digest,
        scopes=frozenset(item["scopes"]),
    )


def _provider(name: str, spec: Mapping[str, Any]) -> ProviderSettings:
    options = {k: v for k, v in spec.items() if k != "type"}
    if spec["type"] == "synthetic":
        faults = FaultSettings(**options.pop("faults", {}) or {})
        return SyntheticProviderSettings(name=name, faults=faults, **options)
    env = options.pop("api_key_env", None)
    if env is not None and "api_key" not in options:
        value = os.environ.get(env)
        if value is None:
            raise ConfigError(
                f"providers.{name}.api_key_env: environment variable {env!r} is not set"
            )
        options["api_key"] = value
    if spec["type"] == "anthropic":
        return AnthropicProviderSettings(name=name, **options)
    return OpenAIProviderSettings(name=name, **options)


def _model(item: Mapping[str, Any], providers: Mapping[str, ProviderSettings]) -> ModelEntry:
    name = str(item["name"])
    input_price = float(item.get("input_per_mtok", 0.0))
    output_price = float(item.get("output_per_mtok", 0.0))
    prices = _prices(item)
    deployments = []
    for index, spec in enumerate(item["deployments"]):
        provider = str(spec["provider"])
        if provider not in providers:
            raise ConfigError(
                f"models.{name}.deployments.{index}.provider: {provider!r} is not a configured "
                f"provider; choose from {sorted(providers)!r}"
            )
        deployments.append(
            Deployment(
                name=str(spec.get("name", f"{provider}/{spec['model']}")),
                provider=provider,
                model=str(spec["model"]),
                input_per_mtok=float(spec.get("input_per_mtok", input_price)),
                output_per_mtok=float(spec.get("output_per_mtok", output_price)),
                prices=_prices(spec, prices),
            )
        )
    alias = item.get("alias")
    if alias is None:
        alias = all(d.model != name for d in deployments)
    return ModelEntry(
        name=name,
        category=str(item["category"]),
        supports=tuple(item.get("supports", ())),
        alias=bool(alias),
        input_per_mtok=input_price,
        output_per_mtok=output_price,
        health_status=item.get("health_status"),
        deployments=tuple(deployments),
        prices=prices,
    )
