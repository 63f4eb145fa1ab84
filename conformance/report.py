"""The report as data: what ``report.json`` holds and every writer renders.

Owns: the report's shape (:class:`ReportDict`, one :class:`CheckDict` per check): the target
without its key, the summary, and the evidence of failures and warnings, every text through the
run's one redactor (:func:`conformance.evidence.redactor_for`).

Must not: write files or render a format (``reporting`` and ``reporting_html`` do), or judge
outcomes (they arrive decided in :mod:`conformance.results`).
"""

from __future__ import annotations

from datetime import UTC
from importlib import metadata
from typing import TypedDict

from conformance.evidence import EvidenceDict, Redactor, redactor_for, render_evidence, secrets_of
from conformance.results import NOT_JUDGED_BECAUSE, CheckResult, RunResult

# secrets_of is re-exported: the writers scrub each rendered file of the run's secrets once more.

__all__ = ["CheckDict", "ReportDict", "build_report", "parity_version", "secrets_of"]


class CheckDict(TypedDict, total=False):
    id: str
    area: str
    endpoint: str
    level: str
    outcome: str
    message: str
    source: str
    asserts: str
    duration_s: float
    # Why a skipped check was not judged (conformance.vocabulary.SKIP_KINDS).
    skip: str
    evidence: EvidenceDict


class ReportDict(TypedDict):
    parity: dict[str, str]
    generated_at: str
    target: dict[str, object]
    options: dict[str, object]
    notes: list[str]
    summary: dict[str, object]
    checks: list[CheckDict]


def parity_version() -> str:
    """The installed parity's version (``unknown`` when run from a source tree)."""
    try:
        return metadata.version("openai-parity")
    except metadata.PackageNotFoundError:
        return "unknown"


def _check(result: CheckResult, redactor: Redactor, api_key: str | None) -> CheckDict:
    entry: CheckDict = {
        "id": result.id,
        "area": result.area,
        "endpoint": result.endpoint,
        "level": result.level,
        "outcome": result.outcome,
        "message": redactor.text(result.message),
        "source": result.source,
        "asserts": result.asserts,
        "duration_s": result.duration,
    }
    if result.outcome == "skipped" and result.skip is not None:
        entry["skip"] = result.skip
    if result.evidence is not None and result.outcome in ("failed", "warning", "accepted"):
        entry["evidence"] = render_evidence(result.evidence, redactor, api_key)
    return entry


def build_report(result: RunResult) -> ReportDict:
    """The report as JSON-ready data (the shape ``report.json`` documents)."""
    redactor = redactor_for(result.target)
    target = result.target
    summary = result.summary
    not_judged = {str(kind): n for kind, n in result.not_judged.items()}
    return {
        "parity": {"version": parity_version(), "report_format": "1"},
        "generated_at": result.started_at.astimezone(UTC).isoformat(timespec="seconds"),
        "target": {
            "base_url": redactor.text(target.base_url),
            "models": {cap: redactor.text(model) for cap, model in target.models.items()},
            "level": target.level,
            "profile": target.profile.name,
            "max_requests": target.max_requests,
            "seed": target.seed,
        },
        "options": {
            name: redactor.text(value) if isinstance(value, str) else value
            for name, value in result.options.items()
        },
        "notes": [redactor.text(note) for note in result.notes],
        "summary": {
            **summary,
            "total": len(result.results),
            "requests": result.requests,
            "tokens": {
                "prompt": result.tokens.prompt,
                "completion": result.tokens.completion,
                "total": result.tokens.total,
            },
            "duration_s": result.duration,
            # Checks the run could not judge (skipped for any reason but being asked to), by why.
            "not_judged": {
                "total": sum(result.not_judged.values()),
                "by_reason": not_judged,
                "why": [f"{n} {NOT_JUDGED_BECAUSE[kind]}" for kind, n in result.not_judged.items()],
            },
        },
        "checks": [_check(r, redactor, target.api_key) for r in result.results],
    }
