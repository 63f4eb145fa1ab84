"""A run's verdicts: one :class:`CheckResult` per check and the :class:`RunResult` around them.

Owns: the result records the runner produces and the writers, the terminal and the plugin
consume, with the summary counts and the exit status they imply. Writers import these from
here, never from the runner.

Must not: run checks, render reports, or perform I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from conformance.exchange import Exchange
from conformance.target import Target
from conformance.usage import TokenCount
from conformance.vocabulary import Level, Outcome, SkipKind

__all__ = ["CheckResult", "RunResult"]


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The verdict of one check, with the exchange that shows it (failures and warnings)."""

    id: str
    area: str
    endpoint: str
    outcome: Outcome
    message: str
    source: str
    evidence: Exchange | None = None
    level: Level = "smoke"
    asserts: str = ""
    duration: float = 0.0
    # Why it was skipped (set with outcome "skipped" only).
    skip: SkipKind | None = None


@dataclass(frozen=True, slots=True)
class RunResult:
    """Every result of a run, the target as run (with its models) and what the run cost."""

    target: Target
    results: list[CheckResult]
    requests: int = 0
    tokens: TokenCount = field(default_factory=TokenCount)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    duration: float = 0.0
    # Things the reader should know about the run itself (a listing that answered 401...).
    notes: tuple[str, ...] = ()

    @property
    def summary(self) -> dict[str, int]:
        counts = {"passed": 0, "failed": 0, "skipped": 0, "warnings": 0}
        for result in self.results:
            counts["warnings" if result.outcome == "warning" else result.outcome] += 1
        return counts

    @property
    def exit_status(self) -> int:
        """0 when no check failed, 1 otherwise (warnings do not change it)."""
        return 1 if any(r.outcome == "failed" for r in self.results) else 0

    def by_id(self) -> dict[str, CheckResult]:
        return {result.id: result for result in self.results}
