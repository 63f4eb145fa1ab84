"""The seam between the request path and the gateway's promises (auth, budgets, limits, metering).

The request flow (``gateway/flow.py``) calls a :class:`Controls` object at four points:

1. ``authenticate`` the bearer key for a scope (401 / 403); a session that will make several
   requests (Realtime) also asks ``require_quota`` before it starts (429 when a budget of the
   caller has nothing left);
2. ``admit`` the request: rate limits, then a budget *reservation* of its maximum cost (429);
3. ``settle`` with what was really served (only the deployment that answered is billed, for
   what was delivered), or ``release`` when nothing was served;
4. ``headers`` to add to the response (``x-ratelimit-*``, the credits header) ride on the
   :class:`Ticket` and the :class:`Settlement`.

The app calls ``aclose`` once, at shutdown.

Implementations own their state; this module owns only the contract and a minimal
implementation (:class:`StaticControls`: hashed static keys, no limits, nothing metered).

Must not: know about HTTP requests or providers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal, NamedTuple, Protocol

from reference_server.errors import GatewayError

__all__ = [
    "Admission",
    "Controls",
    "EndpointName",
    "Outcome",
    "Principal",
    "Served",
    "Settlement",
    "StaticControls",
    "Ticket",
    "hash_key",
]


def hash_key(secret: str) -> str:
    """Keys are stored and compared as SHA-256 hex digests, never in plain text."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


# Per-request records are NamedTuples, not frozen dataclasses: why in providers/base.py.
_NO_HEADERS: Mapping[str, str] = MappingProxyType({})


class Principal(NamedTuple):
    """Who is calling: a key (by id, never the secret) and its owner (a user or an agent)."""

    key_id: str
    owner: str
    scopes: frozenset[str]


# The endpoints a request is admitted (and billed) for.
EndpointName = Literal[
    "chat", "embeddings", "images", "speech", "transcriptions", "videos", "responses", "realtime"
]


class Admission(NamedTuple):
    """What is known of a request before any upstream is called."""

    request_id: str
    endpoint: EndpointName
    model_asked: str
    # Candidate models in fallback order; the reservation uses the most expensive one.
    candidates: tuple[str, ...]
    input_tokens: int
    max_output_tokens: int | None
    streaming: bool
    # A unit-priced request's most units (characters, seconds, images: metering.ENDPOINT_UNITS)
    # and the variant that prices them (an image size).
    units: float = 0.0
    variant: str = ""


class Ticket(NamedTuple):
    """An admitted request: its principal and whatever the implementation reserved."""

    principal: Principal
    admission: Admission
    reserved_credits: float = 0.0
    headers: Mapping[str, str] = _NO_HEADERS


Outcome = Literal["ok", "partial", "error", "client_disconnected"]


class Served(NamedTuple):
    """What a deployment really served (partial streams: what was delivered)."""

    deployment: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    outcome: Outcome
    started_at: float
    first_byte_at: float | None
    finished_at: float
    units: float = 0.0  # non-token work: images, seconds of audio, characters of speech


class Settlement(NamedTuple):
    credits: float
    headers: Mapping[str, str] = _NO_HEADERS


class Controls(Protocol):
    async def authenticate(self, authorization: str | None, scope: str) -> Principal:
        """Raise ``GatewayError`` 401 (missing/invalid key) or 403 (scope not granted)."""
        ...

    async def require_quota(self, principal: Principal) -> None:
        """Raise ``GatewayError`` 429 insufficient_quota when a budget of the caller (its key's
        or its owner's) has nothing left; admits and holds nothing."""
        ...

    async def admit(self, principal: Principal, admission: Admission) -> Ticket:
        """Raise ``GatewayError`` 429 (rate limit, or insufficient_quota) to refuse."""
        ...

    async def settle(self, ticket: Ticket, served: Served) -> Settlement:
        """Bill what was served, once; release the rest of the reservation."""
        ...

    async def release(self, ticket: Ticket) -> None:
        """Nothing was served: release the reservation, bill nothing."""
        ...

    async def aclose(self) -> None:
        """The app is shutting down: let settlements in flight finish, close the store."""
        ...


_BEARER = "bearer "


def bearer_token(authorization: str | None) -> str | None:
    if not authorization or not authorization.lower().startswith(_BEARER):
        return None
    token = authorization[len(_BEARER) :].strip()
    return token or None


@dataclass(frozen=True, slots=True)
class _StaticKey:
    key_id: str
    owner: str
    scopes: frozenset[str]


class StaticControls:
    """Static keys (stored hashed), no limits, nothing metered."""

    def __init__(self, keys: Iterable[tuple[str, str, str, Iterable[str]]]) -> None:
        """``keys``: (key id, owner, sha256 hex of the secret, scopes)."""
        self._by_hash = {
            digest: _StaticKey(key_id, owner, frozenset(scopes))
            for key_id, owner, digest, scopes in keys
        }

    async def authenticate(self, authorization: str | None, scope: str) -> Principal:
        token = bearer_token(authorization)
        if token is None:
            raise GatewayError(
                401,
                "You didn't provide an API key. Provide it as a bearer token in the "
                "Authorization header (Authorization: Bearer YOUR_KEY).",
                type="invalid_request_error",
                code="missing_api_key",
            )
        key = self._by_hash.get(hash_key(token))
        if key is None:
            raise GatewayError(
                401,
                "Incorrect API key provided.",
                type="invalid_request_error",
                code="invalid_api_key",
            )
        if scope not in key.scopes:
            raise GatewayError(
                403,
                f"This key lacks the {scope!r} scope.",
                type="permission_error",
                code="insufficient_permissions",
            )
        return Principal(key.key_id, key.owner, key.scopes)

    async def require_quota(self, principal: Principal) -> None:
        return None

    async def admit(self, principal: Principal, admission: Admission) -> Ticket:
        return Ticket(principal=principal, admission=admission)

    async def settle(self, ticket: Ticket, served: Served) -> Settlement:
        return Settlement(credits=0.0)

    async def release(self, ticket: Ticket) -> None:
        return None

    async def aclose(self) -> None:
        return None
