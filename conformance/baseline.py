"""Baselines for CI: failures a team already knows about, and what changed between two runs.

Owns: reading the outcomes of an earlier run (its ``report.json``, or the minimal baseline
``--write-baseline`` writes: check ids and outcomes, the parity version and the run's options),
turning a failure the baseline already had (same check id, failed or accepted there) into
``accepted``, writing a baseline, and comparing two runs (new failures, fixed checks, other
changed outcomes) for ``parity diff``.

Must not: run checks, or judge anything itself (outcomes arrive decided in
:mod:`conformance.results`); print (the commands do).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from conformance.errors import UsageError
from conformance.report import parity_version
from conformance.results import CheckResult, RunResult
from conformance.vocabulary import OUTCOMES

__all__ = [
    "Baseline",
    "Change",
    "Comparison",
    "accept",
    "apply_baseline",
    "baseline_data",
    "compare",
    "read_baseline",
    "write_baseline",
]

BASELINE_FORMAT = "1"
# A check is failing in a run when it failed there, or failed and the run's baseline accepted it.
_FAILING = frozenset({"failed", "accepted"})
# Options that change which checks run or how they judge: a baseline made with others differs.
_COMPARABLE = ("level", "profile", "only", "skip", "models", "seed", "fuzz_requests")


@dataclass(frozen=True, slots=True)
class Baseline:
    """The outcome of every check of an earlier run, by id, and what that run was."""

    path: str
    outcomes: Mapping[str, str]
    version: str | None = None
    options: Mapping[str, object] | None = None
    messages: Mapping[str, str] | None = None

    def failing(self, check_id: str) -> bool:
        return self.outcomes.get(check_id) in _FAILING


def read_baseline(path: str | Path, *, flag: str = "--baseline") -> Baseline:
    """A ``report.json`` or a ``--write-baseline`` file; raises :class:`UsageError` naming
    ``flag`` and what is wrong."""
    where = f"{flag} {str(path)!r}"
    hint = "pass the report.json of an earlier run or a file written with --write-baseline"
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"{where}: cannot read it ({exc.strerror or exc}); {hint}") from None
    except ValueError as exc:
        raise UsageError(f"{where}: not JSON ({exc}); {hint}") from None
    checks = raw.get("checks") if isinstance(raw, dict) else None
    if not isinstance(checks, list):
        raise UsageError(f"{where}: no 'checks' list; {hint}")
    outcomes: dict[str, str] = {}
    messages: dict[str, str] = {}
    for entry in checks:
        check_id = entry.get("id") if isinstance(entry, dict) else None
        outcome = entry.get("outcome") if isinstance(entry, dict) else None
        if not isinstance(check_id, str) or outcome not in OUTCOMES:
            raise UsageError(
                f"{where}: a check entry needs an 'id' and an 'outcome' from {list(OUTCOMES)}, "
                f"got {entry!r:.200}; {hint}"
            )
        outcomes[check_id] = str(outcome)
        if isinstance(entry.get("message"), str):
            messages[check_id] = entry["message"]
    parity = raw.get("parity")
    version = parity.get("version") if isinstance(parity, dict) else None
    options = raw.get("options")
    return Baseline(
        path=str(path),
        outcomes=outcomes,
        version=version if isinstance(version, str) else None,
        options=options if isinstance(options, dict) else None,
        messages=messages,
    )


def accept(result: CheckResult, baseline: Baseline | None) -> CheckResult:
    """``result`` as ``accepted`` when it failed and the baseline failed it too."""
    if baseline is None or result.outcome != "failed" or not baseline.failing(result.id):
        return result
    return replace(result, outcome="accepted")


def apply_baseline(run: RunResult, baseline: Baseline | None) -> RunResult:
    """Every known failure accepted, with notes saying so and when the runs differ."""
    if baseline is None:
        return run
    results = [accept(result, baseline) for result in run.results]
    notes = list(run.notes)
    accepted = sum(result.outcome == "accepted" for result in results)
    notes.append(
        f"baseline {baseline.path}: {accepted} failure(s) it already had are accepted; "
        "only new failures fail the run"
    )
    differ = [
        f"{name} {baseline.options.get(name)!r} there, {run.options.get(name)!r} here"
        for name in _COMPARABLE
        if baseline.options is not None and baseline.options.get(name) != run.options.get(name)
    ]
    if differ:
        notes.append(f"the baseline was made with other options ({'; '.join(differ)})")
    version = parity_version()
    if baseline.version is not None and baseline.version != version:
        notes.append(f"the baseline was made by parity {baseline.version}; this is {version}")
    return replace(run, results=results, notes=tuple(notes))


def baseline_data(run: RunResult) -> dict[str, Any]:
    """The minimal baseline a team commits: check ids and outcomes, the version, the options."""
    return {
        "parity_baseline": BASELINE_FORMAT,
        "parity": {"version": parity_version()},
        "options": dict(run.options),
        # An accepted failure is still a failure: it stays accepted against this baseline.
        "checks": [
            {"id": r.id, "outcome": "failed" if r.outcome == "accepted" else r.outcome}
            for r in sorted(run.results, key=lambda r: r.id)
        ],
    }


def write_baseline(run: RunResult, path: str | Path) -> Path:
    """Write :func:`baseline_data` as JSON (stable order, one check per line)."""
    data = baseline_data(run)
    checks = ",\n".join(f"    {json.dumps(c)}" for c in data.pop("checks"))
    head = json.dumps(data, indent=2, sort_keys=True)[:-2]
    target = Path(path)
    target.write_text(f'{head},\n  "checks": [\n{checks}\n  ]\n}}\n', encoding="utf-8")
    return target


@dataclass(frozen=True, slots=True)
class Change:
    """One check whose outcome differs between two runs (``absent``: not in that run)."""

    id: str
    before: str
    after: str
    message: str = ""


@dataclass(frozen=True, slots=True)
class Comparison:
    """What changed from run A to run B."""

    new_failures: list[Change]
    fixed: list[Change]
    changed: list[Change]

    @property
    def exit_status(self) -> int:
        """1 when B fails a check A did not fail, else 0."""
        return 1 if self.new_failures else 0


def compare(a: Baseline, b: Baseline) -> Comparison:
    """New failures (failing in B, not in A), fixed (failing in A, passed in B), and every other
    change of outcome; an accepted failure counts as the failure it is."""
    new: list[Change] = []
    fixed: list[Change] = []
    changed: list[Change] = []
    for check_id in sorted({*a.outcomes, *b.outcomes}):
        before = a.outcomes.get(check_id, "absent")
        after = b.outcomes.get(check_id, "absent")
        change = Change(check_id, before, after, (b.messages or {}).get(check_id, ""))
        if after in _FAILING and before not in _FAILING:
            new.append(change)
        elif before in _FAILING and after == "passed":
            fixed.append(change)
        elif _plain(before) != _plain(after):
            changed.append(change)
    return Comparison(new, fixed, changed)


def _plain(outcome: str) -> str:
    return "failed" if outcome == "accepted" else outcome
