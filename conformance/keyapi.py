"""A gateway's key API described as data, and the keys a run holds by role.

The promise checks need keys a gateway's users hold but a conformance run is not given: one
whose budget is spent, one with a tiny rate limit, one without the consume scope (:data:`ROLES`).
A profile's ``key_api`` section says how to mint them through the gateway's own admin API and
revoke them afterwards, as data a user writes for their gateway (the built-in ``reference``
profile describes parity's own admin API this way)::

    key_api:
      mint: {method: POST, url: "{origin}/admin/keys"}
      secret: key                  # the response field holding the new secret (dotted path)
      id: id                       # the response field that names the key for revocation
      revoke: {method: DELETE, url: "{origin}/admin/keys/{id}"}
      admin_header: {name: Authorization, value: "Bearer {admin_key}"}   # the default
      roles:                       # the mint request's JSON body, per role
        spent: {name: "parity-spent-{run}", owner: parity, budget_credits: 0}
        limited: {name: "parity-limited-{run}", owner: parity, rpm: 1}
        unscoped: {name: "parity-unscoped-{run}", owner: parity, scopes: []}

Strings in URLs, bodies and the header may hold placeholders: ``{origin}`` (the target's
``scheme://host:port``), ``{base_url}``, ``{run}`` (random, one per run), ``{role}``,
``{admin_key}`` (the header only), and for revocation ``{id}`` and ``{secret}``. A role the
section does not name is not minted (its promise is then reported as not judged).

Must not: do I/O (``conformance.keyring`` mints and revokes), or show a secret in a repr or a
message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from conformance.errors import ProfileError

__all__ = [
    "ROLES",
    "HttpCall",
    "KeyApi",
    "Role",
    "RoleKeys",
    "fill",
    "key_api_from_mapping",
]

Role = Literal["spent", "limited", "unscoped"]
# What each role is, as the run's notes and skips say it.
ROLES: Mapping[Role, str] = {
    "spent": "a key whose budget is spent",
    "limited": "a key with a rate limit of a few requests",
    "unscoped": "a key without the consume scope",
}
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_PLACEHOLDER = re.compile(r"\{(origin|base_url|run|role|admin_key|id|secret)\}")
_SECTION = frozenset({"mint", "secret", "id", "revoke", "admin_header", "roles"})


@dataclass(frozen=True, slots=True)
class HttpCall:
    """One request of the key API: method, URL template and optional JSON body template."""

    method: str
    url: str
    body: Any = None


@dataclass(frozen=True, slots=True)
class KeyApi:
    """How to mint and revoke keys on a gateway (see the module docstring)."""

    mint: HttpCall
    secret_field: str
    roles: Mapping[Role, Any]
    id_field: str | None = None
    revoke: HttpCall | None = None
    admin_header: tuple[str, str] = ("Authorization", "Bearer {admin_key}")


@dataclass(frozen=True, slots=True)
class RoleKeys:
    """The keys of a run by role, and why a role has none (for the skips and the notes)."""

    keys: Mapping[str, str] = field(default_factory=dict, repr=False)
    missing: Mapping[str, str] = field(default_factory=dict)

    def why(self, role: Role) -> str:
        """Why ``role`` has no key, and the flag that would give it one."""
        reason = self.missing.get(role, f"no {ROLES[role].removeprefix('a ')} was given")
        return (
            f"{reason}: pass --admin-key (or PARITY_ADMIN_KEY) with a profile whose key_api "
            f"mints one, or --key {role}=KEY"
        )


def fill(template: Any, values: Mapping[str, str]) -> Any:
    """``template`` with its placeholders replaced, in every string of nested lists and maps."""
    if isinstance(template, str):
        return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)
    if isinstance(template, list):
        return [fill(item, values) for item in template]
    if isinstance(template, dict):
        return {key: fill(value, values) for key, value in template.items()}
    return template


def _fail(origin: str, where: str, value: object, expected: str) -> ProfileError:
    return ProfileError(f"{origin}: key_api.{where} is {value!r:.120}; expected {expected}")


def _call(origin: str, where: str, raw: object) -> HttpCall:
    if not isinstance(raw, Mapping) or set(raw) - {"method", "url", "body"}:
        raise _fail(origin, where, raw, "a mapping of method, url and an optional body")
    method = str(raw.get("method", "")).upper()
    if method not in _METHODS:
        raise _fail(origin, f"{where}.method", raw.get("method"), f"one of {list(_METHODS)}")
    url = raw.get("url")
    if not isinstance(url, str) or not (url.startswith(("{origin}", "{base_url}", "http"))):
        raise _fail(
            origin, f"{where}.url", url, "a URL starting with {origin}, {base_url} or http(s)"
        )
    return HttpCall(method, url, raw.get("body"))


def _field_name(origin: str, where: str, raw: object) -> str:
    if not isinstance(raw, str) or not raw or raw.startswith(".") or raw.endswith("."):
        raise _fail(origin, where, raw, "a response field name, dotted for nested ones (data.key)")
    return raw


def key_api_from_mapping(raw: object, origin: str = "profile") -> KeyApi:
    """Validate a profile's ``key_api`` section; :class:`ProfileError` names the bad field."""
    if not isinstance(raw, Mapping):
        raise ProfileError(f"{origin}: key_api must be a mapping, got {raw!r:.80}")
    unknown = sorted(set(raw) - _SECTION)
    if unknown:
        raise ProfileError(
            f"{origin}: key_api has unknown field(s) {unknown}; valid: {sorted(_SECTION)}"
        )
    roles_raw = raw.get("roles")
    if not isinstance(roles_raw, Mapping) or not roles_raw or set(roles_raw) - set(ROLES):
        raise _fail(origin, "roles", roles_raw, f"a mapping of role ({', '.join(ROLES)}) to body")
    roles: dict[Role, Any] = {}
    for role in ROLES:
        if role in roles_raw:
            if not isinstance(roles_raw[role], Mapping):
                raise _fail(origin, f"roles.{role}", roles_raw[role], "a JSON object (the body)")
            roles[role] = dict(roles_raw[role])
    header = raw.get("admin_header", {"name": "Authorization", "value": "Bearer {admin_key}"})
    if (
        not isinstance(header, Mapping)
        or not isinstance(header.get("name"), str)
        or not isinstance(header.get("value"), str)
        or "{admin_key}" not in header["value"]
    ):
        raise _fail(origin, "admin_header", header, "{name, value} with {admin_key} in the value")
    revoke = raw.get("revoke")
    return KeyApi(
        mint=_call(origin, "mint", raw.get("mint")),
        secret_field=_field_name(origin, "secret", raw.get("secret")),
        roles=roles,
        id_field=None if raw.get("id") is None else _field_name(origin, "id", raw.get("id")),
        revoke=None if revoke is None else _call(origin, "revoke", revoke),
        admin_header=(header["name"], header["value"]),
    )
