"""The store contract and the admission decision every backend applies atomically.

``decide_admission`` is pure: given the current TATs and budget counters it returns the verdicts
and, when admitted, the new state. SQLite runs it inside ``BEGIN IMMEDIATE``; the Redis Lua
script mirrors it line by line (tests compare both backends on the same sequences).

Must not: do I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

from reference_server.controls import budgets
from reference_server.controls.budgets import OwnerBudget
from reference_server.controls.keys import KeyRecord
from reference_server.controls.ledger import GroupBy, LedgerRow, SpendGroup
from reference_server.controls.ratelimits import Limit, Verdict, take
from reference_server.errors import BudgetExceededError, StoreUnavailableError

__all__ = [
    "AdmitOutcome",
    "AdmitRequest",
    "BudgetCharge",
    "ControlsStore",
    "Hold",
    "RateCharge",
    "StoreUnavailableError",
    "decide_admission",
]


@dataclass(frozen=True, slots=True)
class RateCharge:
    key: str  # state key, e.g. "key_ab12:requests"
    limit: Limit
    cost: int


@dataclass(frozen=True, slots=True)
class BudgetCharge:
    bucket: str
    limit_micro: int


@dataclass(frozen=True, slots=True)
class AdmitRequest:
    request_id: str
    key_id: str
    rates: tuple[RateCharge, ...]
    budgets: tuple[BudgetCharge, ...]
    amount: int  # micro-credits to hold on every budget
    now: float
    hold_ttl_s: float = 600.0


@dataclass(frozen=True, slots=True)
class Hold:
    """What an admitted request holds until it settles or is released."""

    request_id: str
    key_id: str
    buckets: tuple[str, ...]
    amount: int
    tokens_key: str | None
    tokens_interval: float
    tokens_reserved: int
    expires_at: float


@dataclass(frozen=True, slots=True)
class AdmitOutcome:
    status: Literal["ok", "rate_limited", "over_budget"]
    verdicts: tuple[tuple[RateCharge, Verdict], ...]
    refused_bucket: str | None = None
    retry_after_s: float | None = None

    @property
    def admitted(self) -> bool:
        return self.status == "ok"


def hold_for(request: AdmitRequest) -> Hold | None:
    tokens = next((r for r in request.rates if r.limit.dimension == "tokens"), None)
    if not request.budgets and tokens is None:
        return None
    return Hold(
        request_id=request.request_id,
        key_id=request.key_id,
        buckets=tuple(b.bucket for b in request.budgets),
        amount=request.amount if request.budgets else 0,
        tokens_key=tokens.key if tokens else None,
        tokens_interval=tokens.limit.interval if tokens else 0.0,
        tokens_reserved=tokens.cost if tokens else 0,
        expires_at=request.now + request.hold_ttl_s,
    )


def decide_admission(
    request: AdmitRequest,
    tats: Mapping[str, float | None],
    accounts: Mapping[str, budgets.Account],
) -> tuple[AdmitOutcome, dict[str, float], dict[str, budgets.Account]]:
    """All limits and budgets pass, or nothing changes (TensorZero's atomic tickets)."""
    verdicts = tuple(
        (rate, take(rate.limit, tats.get(rate.key), request.now, rate.cost))
        for rate in request.rates
    )
    refused = [v for _, v in verdicts if not v.allowed]
    if refused:
        waits = [v.retry_after_s for v in refused]
        retry = None if any(w is None for w in waits) else max(w for w in waits if w is not None)
        return AdmitOutcome("rate_limited", verdicts, retry_after_s=retry), {}, {}
    new_accounts: dict[str, budgets.Account] = {}
    for charge in request.budgets:
        account = accounts.get(charge.bucket, budgets.Account())
        try:
            new_accounts[charge.bucket] = budgets.reserve(
                account, charge.limit_micro, request.amount, charge.bucket
            )
        except BudgetExceededError:
            return AdmitOutcome("over_budget", verdicts, refused_bucket=charge.bucket), {}, {}
    new_tats = {rate.key: verdict.tat for rate, verdict in verdicts}
    return AdmitOutcome("ok", verdicts), new_tats, new_accounts


class ControlsStore(Protocol):
    async def admit(self, request: AdmitRequest) -> AdmitOutcome: ...

    async def settle(self, row: LedgerRow, tokens_used: int) -> bool:
        """Write the ledger row and settle the hold, atomically; False if already settled."""
        ...

    async def release(self, request_id: str, now: float) -> None: ...

    async def seed_keys(self, records: Iterable[KeyRecord]) -> None: ...

    async def put_key(self, record: KeyRecord) -> None: ...

    async def key_by_hash(self, digest: str) -> KeyRecord | None:
        """The key with this secret's digest, with its owner's budget; None if unknown."""
        ...

    async def key_by_id(self, key_id: str) -> KeyRecord | None: ...

    async def delete_key(self, key_id: str) -> bool: ...

    async def rotate_key(self, key_id: str, digest: str) -> bool:
        """Replace a key's secret digest (the old secret fails from the next request on every
        worker); False if there is no such key."""
        ...

    async def seed_owner_budgets(self, budgets_: Iterable[OwnerBudget]) -> None:
        """Make the config's owner budgets the stored ones (those set by the admin API stay)."""
        ...

    async def put_owner_budget(self, budget: OwnerBudget) -> None: ...

    async def owner_budget(self, owner: str) -> OwnerBudget | None: ...

    async def delete_owner_budget(self, owner: str) -> bool: ...

    async def key_usage(self, key_id: str) -> tuple[int, int]:
        """(micro-credits settled all time, micro-credits held now) for one key."""
        ...

    async def budget_account(self, bucket: str) -> budgets.Account: ...

    async def spend(
        self, *, key_id: str | None, owner: str | None, group_by: GroupBy | None
    ) -> list[SpendGroup]: ...

    async def close(self) -> None: ...
