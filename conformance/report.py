"""The report as data: what ``report.json`` holds and every writer renders.

Owns: the report's shape (:class:`ReportDict`, one :class:`CheckDict` per check), the run's
secrets (its key and every key-like field of its profile) and the redaction that applies them:
the target without its key, the summary, and the redacted evidence of failures and warnings.

Must not: write files or render a format (``reporting`` and ``reporting_html`` do), or judge
outcomes (they arrive decided in :mod:`conformance.results`).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC
from importlib import metadata
from typing import TypedDict

from conformance.evidence import EvidenceDict, Redactor, render_evidence
from conformance.results import CheckResult, RunResult

__all__ = ["CheckDict", "ReportDict", "build_report", "secrets_of"]


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
    evidence: EvidenceDict


class ReportDict(TypedDict):
    parity: dict[str, str]
    generated_at: str
    target: dict[str, object]
    notes: list[str]
    summary: dict[str, object]
    checks: list[CheckDict]


def _version() -> str:
    try:
        return metadata.version("openai-parity")
    except metadata.PackageNotFoundError:
        return "unknown"


def secrets_of(result: RunResult) -> list[str]:
    """The run's secrets: its key, its admin key and role keys (given or minted), and every
    key-like string field of its profile."""
    found = [result.target.api_key, result.target.admin_key, *result.target.roles.keys.values()]
    for item in dataclasses.fields(result.target.profile):
        value = getattr(result.target.profile, item.name)
        if "key" in item.name and isinstance(value, str):
            found.append(value)
    return [s for s in found if s]


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
    if result.evidence is not None and result.outcome in ("failed", "warning"):
        entry["evidence"] = render_evidence(result.evidence, redactor, api_key)
    return entry


def build_report(result: RunResult) -> ReportDict:
    """The report as JSON-ready data (the shape ``report.json`` documents)."""
    redactor = Redactor(secrets_of(result))
    target = result.target
    summary = result.summary
    return {
        "parity": {"version": _version(), "report_format": "1"},
        "generated_at": result.started_at.astimezone(UTC).isoformat(timespec="seconds"),
        "target": {
            "base_url": redactor.text(target.base_url),
            "models": dict(target.models),
            "level": target.level,
            "profile": target.profile.name,
            "max_requests": target.max_requests,
            "seed": target.seed,
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
        },
        "checks": [_check(r, redactor, target.api_key) for r in result.results],
    }
