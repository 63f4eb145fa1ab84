"""The keys a run's promise checks use, minted through the gateway's key API and revoked after.

Owns: :func:`mint_keys`, one mint request per role the profile's ``key_api`` names
(``conformance.keyapi``) and no ``--key ROLE=KEY`` gave, authenticated with the run's admin key;
and :func:`revoke_keys`, one revocation per minted key when the run ends. Both are bounded (one
request per role, each with a timeout) and never raise for the gateway's answers: a role that
could not be minted has its reason in ``RoleKeys.missing`` (its promise is then reported as not
judged), a key that could not be revoked is named in the run's notes.

Must not: send the admin key anywhere but the key API's requests, or put a secret in a message
(a failure names the role, the method, the URL and the status; a key's id only when the key API
names keys by something other than their secret).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from conformance.keyapi import ROLES, KeyApi, Role, RoleKeys, fill

if TYPE_CHECKING:
    from conformance.target import Target

__all__ = ["Minted", "mint_keys", "revoke_keys"]

_TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class Minted:
    """A key this run minted: its role, its secret and what names it for revocation."""

    role: Role
    secret: str = field(repr=False)
    ident: str = field(repr=False)


def _values(target: Target, run: str) -> dict[str, str]:
    return {"origin": target.origin, "base_url": target.base_url, "run": run}


def _admin_headers(api: KeyApi, admin_key: str) -> dict[str, str]:
    name, value = api.admin_header
    return {name: fill(value, {"admin_key": admin_key})}


def _dig(payload: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(payload, Mapping):
            return None
        payload = payload.get(part)
    return payload


async def mint_keys(
    target: Target, *, transport: httpx.AsyncBaseTransport | None = None
) -> tuple[RoleKeys, list[Minted]]:
    """The target's role keys with those the profile's key API minted; and what was minted."""
    api, admin_key = target.profile.key_api, target.admin_key
    keys = dict(target.roles.keys)
    missing = dict(target.roles.missing)
    if api is None or admin_key is None:
        return RoleKeys(keys, missing), []
    values = _values(target, secrets.token_hex(4))
    minted: list[Minted] = []
    async with httpx.AsyncClient(
        transport=transport, timeout=_TIMEOUT_S, follow_redirects=False
    ) as http:
        for role, template in api.roles.items():
            if role in keys:
                continue
            url = fill(api.mint.url, {**values, "role": role})
            what = f"minting {ROLES[role]} ({api.mint.method} {url})"
            try:
                response = await http.request(
                    api.mint.method,
                    url,
                    json=fill(template, {**values, "role": role}),
                    headers=_admin_headers(api, admin_key),
                )
            except httpx.HTTPError as exc:
                missing[role] = f"{what} failed: {type(exc).__name__}"
                continue
            if not 200 <= response.status_code < 300:
                missing[role] = f"{what} answered {response.status_code}"
                continue
            try:
                payload = response.json()
            except ValueError:
                payload = None
            secret = _dig(payload, api.secret_field)
            if not isinstance(secret, str) or not secret:
                missing[role] = f"{what}: the answer has no secret at {api.secret_field!r}"
                continue
            ident = secret if api.id_field is None else _dig(payload, api.id_field)
            keys[role] = secret
            minted.append(Minted(role, secret, str(ident if ident is not None else secret)))
    return RoleKeys(keys, missing), minted


async def revoke_keys(
    target: Target,
    minted: list[Minted],
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> list[str]:
    """Revoke what :func:`mint_keys` minted; a note for each key that could not be revoked."""
    api, admin_key = target.profile.key_api, target.admin_key
    if not minted or api is None or admin_key is None:
        return []
    if api.revoke is None:
        return [f"the profile's key_api names no revocation: revoke the {len(minted)} minted "
                "key(s) named parity-*-<run> by hand"]  # fmt: skip
    notes: list[str] = []
    values = _values(target, "")
    async with httpx.AsyncClient(
        transport=transport, timeout=_TIMEOUT_S, follow_redirects=False
    ) as http:
        for made in minted:
            filled = {**values, "role": made.role, "id": made.ident, "secret": made.secret}
            url = fill(api.revoke.url, filled)
            try:
                response = await http.request(
                    api.revoke.method,
                    url,
                    json=fill(api.revoke.body, filled),
                    headers=_admin_headers(api, admin_key),
                )
                status: int | str = response.status_code
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            if not isinstance(status, int) or not 200 <= status < 300:
                named = "" if made.ident == made.secret else f" (id {made.ident})"
                notes.append(
                    f"could not revoke the minted {made.role} key{named}: "
                    f"{api.revoke.method} {fill(api.revoke.url, {**values, 'id': '<id>'})} "
                    f"answered {status}; revoke it by hand"
                )
    return notes
