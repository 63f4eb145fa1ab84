"""The spend ledger's records: one row per request, and spend totals grouped for the admin API.

A row is written exactly once, inside the settlement's store transaction (request id is the
primary key: a second settlement of the same request changes nothing), so a response whose final
bytes left the server is in the ledger even after ``kill -9``. Credits are integer micro-credits
(see ``metering``). Storage lives in ``reference_server.controls.stores``; this module owns only the shapes
and the pure grouping used by stores that cannot group in SQL.

Must not: do I/O.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, NamedTuple, TypedDict

from reference_server.controls.metering import MICRO

__all__ = [
    "GROUP_BYS",
    "GroupBy",
    "LedgerRow",
    "SpendGroup",
    "SpendGroupJSON",
    "day_of",
    "group_rows",
]

GroupBy = Literal["model", "deployment", "day", "key", "owner"]
GROUP_BYS: tuple[GroupBy, ...] = ("model", "deployment", "day", "key", "owner")


class LedgerRow(NamedTuple):
    request_id: str
    key_id: str
    owner: str
    endpoint: str
    model_asked: str
    deployment: str
    model_served: str
    prompt_tokens: int
    completion_tokens: int
    units: float
    credits_micro: int
    outcome: str
    streaming: bool
    started_at: float
    first_byte_at: float | None
    finished_at: float
    settled_at: float

    def group(self, by: GroupBy | None) -> str:
        if by is None:
            return "total"
        if by == "model":
            return self.model_asked
        if by == "deployment":
            return self.deployment
        if by == "key":
            return self.key_id
        if by == "owner":
            return self.owner
        return day_of(self.settled_at)


def day_of(timestamp: float) -> str:
    """UTC calendar day of settlement, ``YYYY-MM-DD`` (the ``day`` grouping; budgets use UTC too)."""
    return time.strftime("%Y-%m-%d", time.gmtime(timestamp))


class SpendGroupJSON(TypedDict):
    group: str
    credits: float
    requests: int
    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True, slots=True)
class SpendGroup:
    group: str
    credits_micro: int
    requests: int
    prompt_tokens: int
    completion_tokens: int

    def to_json(self) -> SpendGroupJSON:
        return {
            "group": self.group,
            "credits": self.credits_micro / MICRO,
            "requests": self.requests,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
        }


def group_rows(rows: Iterable[LedgerRow], by: GroupBy | None) -> list[SpendGroup]:
    totals: dict[str, list[int]] = {}
    for row in rows:
        acc = totals.setdefault(row.group(by), [0, 0, 0, 0])
        acc[0] += row.credits_micro
        acc[1] += 1
        acc[2] += row.prompt_tokens
        acc[3] += row.completion_tokens
    return [SpendGroup(name, *acc) for name, acc in sorted(totals.items())]
