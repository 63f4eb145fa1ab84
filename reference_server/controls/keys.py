"""API keys: records (hashed secrets only), scopes, and minting of new secrets.

A key belongs to an owner (a user or an agent) and carries scopes: ``ai:consume`` for the model
endpoints (monday's Models API scope), ``admin`` for the admin API; a key may hold no scope at
all (it authenticates, and every endpoint answers it 403). Its optional budget and rate limits
ride on the record, and so does its owner's budget as the store read it with the key (one
lookup admits a request). Secrets exist in plain text only in the one response that creates
them (or rotates them: :func:`new_secret`); stores and logs see the SHA-256 digest
(``controls.base.hash_key``).

Must not: do I/O, or keep or log a secret.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Literal

from reference_server.controls.base import hash_key
from reference_server.controls.budgets import PERIODS, Period

__all__ = [
    "ADMIN_SCOPE",
    "CONSUME_SCOPE",
    "SCOPES",
    "KeyRecord",
    "Minted",
    "mint_key",
    "new_secret",
]

CONSUME_SCOPE = "ai:consume"
ADMIN_SCOPE = "admin"
SCOPES: tuple[str, ...] = (CONSUME_SCOPE, ADMIN_SCOPE)
# A SHA-256 hex digest as ``controls.base.hash_key`` writes it (one C-level match per record: records
# are built on key lookups, so this stays off the request path's profile).
_DIGEST = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class KeyRecord:
    id: str
    owner: str
    name: str
    key_sha256: str
    scopes: frozenset[str]
    budget_micro: int | None = None
    budget_period: Period = "total"
    rpm: int | None = None
    tpm: int | None = None
    created_at: float = 0.0
    source: Literal["config", "admin"] = "admin"
    # The owner's budget, as read with the key (never written with it: it is the owner's).
    owner_budget_micro: int | None = None
    owner_budget_period: Period = "total"

    def __post_init__(self) -> None:
        if _DIGEST.fullmatch(self.key_sha256) is None:
            raise ValueError(f"key {self.id!r}: secret_sha256 must be 64 lowercase hex digits")
        # Config keys may carry any scope strings (the gateway checks only the ones it knows);
        # the admin API restricts new keys to SCOPES.
        if self.budget_period not in PERIODS or self.owner_budget_period not in PERIODS:
            raise ValueError(
                f"key {self.id!r}: budget_period {self.budget_period!r} / owner budget period "
                f"{self.owner_budget_period!r} is not one of {PERIODS}"
            )
        for name in ("budget_micro", "rpm", "tpm", "owner_budget_micro"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"key {self.id!r}: {name} must be >= 0 or null, got {value!r}")


@dataclass(frozen=True, slots=True)
class Minted:
    """A freshly minted key: the record to store, and the secret to show exactly once."""

    record: KeyRecord
    secret: str


def mint_key(
    *,
    owner: str,
    name: str,
    scopes: frozenset[str],
    budget_micro: int | None,
    budget_period: Period,
    rpm: int | None,
    tpm: int | None,
    now: float,
) -> Minted:
    secret = new_secret()
    record = KeyRecord(
        id="key_" + secrets.token_hex(8),
        owner=owner,
        name=name,
        key_sha256=hash_key(secret),
        scopes=scopes,
        budget_micro=budget_micro,
        budget_period=budget_period,
        rpm=rpm,
        tpm=tpm,
        created_at=now,
        source="admin",
    )
    return Minted(record, secret)


def new_secret() -> str:
    """A fresh secret: 24 random bytes, URL-safe, with the ``sk-parity-`` prefix."""
    return "sk-parity-" + secrets.token_urlsafe(24)
