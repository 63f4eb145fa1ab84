"""A run's verdicts: one :class:`CheckResult` per check and the :class:`RunResult` around them.

Owns: the result records the runner produces and the writers, the terminal and the plugin
consume, with the summary counts and the exit status they imply. Writers import these from
here, never from the runner.

Must not: run checks, render reports, or perform I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from conformance.exchange import Exchange
from conformance.target import Target
from conformance.usage import TokenCount
from conformance.vocabulary import SKIP_KINDS, Level, Outcome, SkipKind

__all__ = ["NOT_JUDGED_BECAUSE", "CheckResult", "RunResult"]

# What each kind of skip means for a reader of a run that could not judge every check.
NOT_JUDGED_BECAUSE: Mapping[SkipKind, str] = {
    "requested": "skipped as asked (--skip, --model CAP=none)",
    "budget": "with the request budget spent (--max-requests)",
    "not_offered": "with no model for their capability (--model CAP=MODEL pins one)",
    "not_served": "whose endpoint is not served (404 on its route)",
    "not_fetched": "needing a URL on another host (--allow-fetch HOST)",
    "check": "for the check's own reason (given with each)",
}


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
    # The options the run was made with (no secret, no base URL), JSON-ready: for the report
    # and a baseline, so a later run can tell whether it is comparable.
    options: Mapping[str, object] = field(default_factory=dict)

    @property
    def summary(self) -> dict[str, int]:
        counts = {"passed": 0, "failed": 0, "skipped": 0, "warnings": 0, "accepted": 0}
        for result in self.results:
            counts["warnings" if result.outcome == "warning" else result.outcome] += 1
        return counts

    @property
    def not_judged(self) -> dict[SkipKind, int]:
        """Skipped checks by why, except those the options asked to skip; in SKIP_KINDS order."""
        counts = {kind: 0 for kind in SKIP_KINDS if kind != "requested"}
        for result in self.results:
            if result.outcome == "skipped" and result.skip != "requested":
                counts[result.skip or "check"] += 1
        return {kind: n for kind, n in counts.items() if n}

    @property
    def exit_status(self) -> int:
        """0 when no check failed, 1 otherwise (warnings and accepted failures do not count)."""
        return self.status()

    def status(self, *, fail_on_skip: bool = False) -> int:
        """The exit status; with ``fail_on_skip``, a check the run could not judge is 1 too."""
        failed = any(r.outcome == "failed" for r in self.results)
        return 1 if failed or (fail_on_skip and self.not_judged) else 0

    def by_id(self) -> dict[str, CheckResult]:
        return {result.id: result for result in self.results}
