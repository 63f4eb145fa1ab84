"""Budgets: reservation arithmetic that keeps concurrent requests from overspending.

A budget caps what a key or an owner (user or agent) may spend, in micro-credits, either in total
or per UTC calendar period (day or month). Admission *reserves* the request's maximum cost
before any upstream is called (what OpenRouter calls an "in-flight spending budget" and
LiteLLM's proxy a budget reservation): the reservation fits only if
``spent + reserved + amount <= limit``. Completion *settles* (reserved -> spent at the real cost);
failure or disconnect *releases* (reserved -> nothing). Because every admitted request holds its
maximum cost, the sum of concurrent settlements can never exceed the limit (proved by a
hypothesis property test), provided the real cost never exceeds the reservation.

The maximum cost is ``input estimate x input price + max output tokens x output price`` at the
most expensive candidate deployment, with surcharge, rounded up; when the request names no
``max_tokens`` a configured cap (``default_max_output_tokens``) stands in for it. A unit-priced
request (speech, transcriptions, images, videos) holds its units (characters, seconds, images)
at the most expensive candidate's unit price.

An exhausted budget (nothing left of it: ``spent >= limit``) refuses every request, even one
that would cost nothing, as OpenAI's ``insufficient_quota`` refuses every call of an account
past its quota.

Must not: do I/O. Stores apply these rules atomically (SQLite transaction, Redis Lua script).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from reference_server.controls.metering import Price, Tariff
from reference_server.errors import BudgetExceededError, GatewayError

__all__ = [
    "PERIODS",
    "Account",
    "Budget",
    "BudgetExceededError",
    "OwnerBudget",
    "Period",
    "Scope",
    "bucket_id",
    "quota_error",
    "release",
    "reservation",
    "reserve",
    "settle",
]

Period = Literal["total", "day", "month"]
Scope = Literal["key", "owner"]
PERIODS: tuple[Period, ...] = ("total", "day", "month")


@dataclass(frozen=True, slots=True)
class Budget:
    """A cap on one key's or one owner's spend."""

    scope: Scope
    subject: str  # key id or owner name
    limit_micro: int
    period: Period = "total"

    def __post_init__(self) -> None:
        if self.limit_micro < 0:
            raise ValueError(f"budget limit must be >= 0 micro-credits, got {self.limit_micro!r}")
        if self.period not in PERIODS:
            raise ValueError(f"budget period {self.period!r} is not one of {PERIODS}")

    def bucket(self, now: float) -> str:
        """The counter this budget draws on at time ``now`` (UTC periods)."""
        return bucket_id(self.scope, self.subject, self.period, now)


@dataclass(frozen=True, slots=True)
class OwnerBudget:
    """The budget of an owner (a user or an agent), across all its keys: set in the config's
    ``controls.owners`` (``source="config"``) or through the admin API (``"admin"``)."""

    owner: str
    limit_micro: int
    period: Period = "total"
    source: Literal["config", "admin"] = "admin"

    def __post_init__(self) -> None:
        if not self.owner:
            raise ValueError("an owner budget needs an owner name")
        Budget("owner", self.owner, self.limit_micro, self.period)  # validates limit and period


def bucket_id(scope: Scope, subject: str, period: Period, now: float) -> str:
    if period == "total":
        return f"{scope}:{subject}:total"
    stamp = time.gmtime(now)
    label = (
        f"{stamp.tm_year:04d}-{stamp.tm_mon:02d}-{stamp.tm_mday:02d}"
        if period == "day"
        else f"{stamp.tm_year:04d}-{stamp.tm_mon:02d}"
    )
    return f"{scope}:{subject}:{label}"


@dataclass(frozen=True, slots=True)
class Account:
    """One budget counter: micro-credits settled and micro-credits held by in-flight requests."""

    spent: int = 0
    reserved: int = 0


def reserve(account: Account, limit_micro: int, amount: int, bucket: str = "") -> Account:
    """Hold ``amount`` if it fits under the limit, else raise BudgetExceededError."""
    if amount < 0:
        raise ValueError(f"reservation must be >= 0, got {amount!r}")
    if account.spent >= limit_micro or account.spent + account.reserved + amount > limit_micro:
        raise BudgetExceededError(bucket, account.spent, account.reserved, limit_micro, amount)
    return Account(account.spent, account.reserved + amount)


def settle(account: Account, reserved: int, actual: int) -> Account:
    """Turn a held reservation into spend at the real cost."""
    if reserved < 0 or actual < 0:
        raise ValueError(
            f"settle needs reserved >= 0 and actual >= 0, got {reserved!r}, {actual!r}"
        )
    return Account(account.spent + actual, max(account.reserved - reserved, 0))


def release(account: Account, reserved: int) -> Account:
    """Give a reservation back: nothing was served."""
    if reserved < 0:
        raise ValueError(f"release needs reserved >= 0, got {reserved!r}")
    return Account(account.spent, max(account.reserved - reserved, 0))


def reservation(
    tariff: Tariff,
    prices: Iterable[Price],
    *,
    input_tokens: int,
    max_output_tokens: int | None,
    default_max_output_tokens: int,
    surcharge: bool,
    endpoint: str = "chat",
    units: float = 0.0,
    variant: str = "",
) -> int:
    """Maximum cost in micro-credits over the candidate prices (rounded up); ``units`` and
    ``variant``: a unit-priced request's most (characters, seconds, images) and image size."""
    output = default_max_output_tokens if max_output_tokens is None else max_output_tokens
    costs = [
        tariff.ceiling(
            price,
            max(input_tokens, 0),
            max(output, 0),
            surcharge=surcharge,
            endpoint=endpoint,
            units=max(units, 0.0),
            variant=variant,
        )
        for price in prices
    ]
    if not costs:
        raise ValueError("reservation needs at least one candidate price")
    return max(costs)


def quota_error(detail: str, headers: dict[str, str]) -> GatewayError:
    # OpenAI's words and code for an exhausted quota (error codes guide: 429 "You exceeded your
    # current quota, please check your plan and billing details"), with which budget and why.
    return GatewayError(
        429,
        "You exceeded your current quota, please check your plan and billing details. " + detail,
        type="insufficient_quota",
        code="insufficient_quota",
        headers=headers,
    )
