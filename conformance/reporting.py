"""Report writers: a run's results as ``report.json``, ``junit.xml`` and ``report.html``.

Owns: the report data (target without its key, summary, one entry per check with the redacted
evidence of failures and warnings), the JUnit XML rendering, the report directory (default
``reports/<utc-timestamp>/``) and the ``reports/latest`` link.

Every writer redacts: evidence goes through :mod:`conformance.evidence`, and each rendered file
is scrubbed of the run's secrets once more before it is written.

Must not: run checks or make requests; judge outcomes (they arrive decided).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TypedDict

from conformance.evidence import REDACTED, EvidenceDict, Redactor, render_evidence
from conformance.runner import CheckResult, RunResult

__all__ = [
    "CheckDict",
    "ReportDict",
    "build_report",
    "default_report_dir",
    "link_latest",
    "secrets_of",
    "write_reports",
]


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
    """The run's secrets: its key and every key-like string field of its profile."""
    found = [result.target.api_key]
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


# XML 1.0 forbids most control characters; a body excerpt may hold them.
_XML_INVALID = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml(value: object) -> str:
    return _XML_INVALID.sub("\N{REPLACEMENT CHARACTER}", str(value))


def _details(check: CheckDict) -> str:
    lines = [
        check.get("message", ""),
        "",
        f"endpoint: {check['endpoint']}",
        f"asserts: {check['asserts']}",
        f"source: {check['source']}",
    ]
    evidence = check.get("evidence")
    if evidence is not None:
        lines += [
            f"request: {evidence['request']['method']} {evidence['request']['url']}",
            f"status: {evidence['status']}",
        ]
        if evidence["error"]:
            lines.append(f"transport error: {evidence['error']}")
        lines += [f"body: {evidence['body_excerpt'][:1000]}", f"reproduce: {evidence['curl']}"]
    return "\n".join(lines)


def render_junit(report: ReportDict) -> str:
    """JUnit XML: one testcase per check; warnings pass and say so in system-out."""
    summary = report["summary"]
    suites = ET.Element(
        "testsuites",
        name="parity",
        tests=str(summary["total"]),
        failures=str(summary["failed"]),
        skipped=str(summary["skipped"]),
        errors="0",
        time=str(summary["duration_s"]),
    )
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=f"parity conformance: {report['target']['base_url']}",
        tests=str(summary["total"]),
        failures=str(summary["failed"]),
        skipped=str(summary["skipped"]),
        errors="0",
        time=str(summary["duration_s"]),
        timestamp=report["generated_at"],
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in report["target"].items():
        ET.SubElement(properties, "property", name=name, value=_xml(json.dumps(value)))
    for check in report["checks"]:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"parity.{check['area']}",
            name=check["id"],
            time=str(check["duration_s"]),
        )
        outcome = check["outcome"]
        if outcome == "failed":
            failure = ET.SubElement(case, "failure", message=_xml(check["message"]), type="failed")
            failure.text = _xml(_details(check))
        elif outcome == "skipped":
            ET.SubElement(case, "skipped", message=_xml(check["message"]))
        elif outcome == "warning":
            out = ET.SubElement(case, "system-out")
            out.text = _xml(f"WARNING: {_details(check)}")
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def default_report_dir(root: Path | str = "reports", now: datetime | None = None) -> Path:
    """``reports/<utc-timestamp>/`` (a suffix keeps two runs in one second apart)."""
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    candidate = Path(root) / stamp
    n = 1
    while candidate.exists():
        n += 1
        candidate = Path(root) / f"{stamp}-{n}"
    return candidate


def link_latest(directory: Path) -> Path:
    """Point ``<parent>/latest`` at ``directory`` (relative link, replaced atomically)."""
    link = directory.parent / "latest"
    temporary = directory.parent / f".latest-{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    temporary.symlink_to(directory.name, target_is_directory=True)
    os.replace(temporary, link)
    return link


def _scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text


def write_reports(
    result: RunResult, directory: Path | str, *, latest: bool = False
) -> dict[str, Path]:
    """Write the three reports into ``directory``; returns ``{"json"|"junit"|"html": path}``."""
    from conformance.reporting_html import render_html

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    report = build_report(result)
    secrets = secrets_of(result)
    rendered = {
        "json": ("report.json", json.dumps(report, indent=2, ensure_ascii=False) + "\n"),
        "junit": ("junit.xml", render_junit(report)),
        "html": ("report.html", render_html(report)),
    }
    paths: dict[str, Path] = {}
    for kind, (name, text) in rendered.items():
        path = directory / name
        path.write_text(_scrub(text, secrets), encoding="utf-8")
        paths[kind] = path
    if latest:
        link_latest(directory)
    return paths
