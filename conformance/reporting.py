"""Report writers: a run's results as ``report.json``, ``junit.xml`` and ``report.html``.

Owns: writing the three files from the report data (:mod:`conformance.report`), the JUnit XML
rendering, the report directory (default ``reports/<utc-timestamp>/``) and the
``reports/latest`` link. The HTML page is :mod:`conformance.reporting_html`'s.

Every writer redacts: evidence goes through :mod:`conformance.evidence`, and each rendered file
is scrubbed of the run's secrets once more before it is written.

Must not: run checks or make requests; judge outcomes (they arrive decided).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

from conformance.evidence import redactor_for
from conformance.report import CheckDict, ReportDict, build_report, secrets_of
from conformance.reporting_html import render_html
from conformance.results import RunResult

# The report data's names are re-exported: writers and their callers import them from here.
__all__ = [
    "CheckDict",
    "ReportDict",
    "build_report",
    "default_report_dir",
    "link_latest",
    "secrets_of",
    "write_reports",
]


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
        if evidence.get("retried"):
            lines.append(f"sent again on a fresh connection after: {evidence['retried']}")
        lines += [f"body: {evidence['body_excerpt'][:1000]}", f"reproduce: {evidence['curl']}"]
    return "\n".join(lines)


def render_junit(report: ReportDict) -> str:
    """JUnit XML: one testcase per check; warnings pass and say so in system-out; an accepted
    failure (in the baseline) is reported as pytest reports an expected failure: skipped, with
    type ``accepted`` and the whole failure in its text, so CI shows it without failing."""
    summary = report["summary"]
    skipped = int(str(summary["skipped"])) + int(str(summary.get("accepted", 0)))
    suites = ET.Element(
        "testsuites",
        name="parity",
        tests=str(summary["total"]),
        failures=str(summary["failed"]),
        skipped=str(skipped),
        errors="0",
        time=str(summary["duration_s"]),
    )
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=f"parity conformance: {report['target']['base_url']}",
        tests=str(summary["total"]),
        failures=str(summary["failed"]),
        skipped=str(skipped),
        errors="0",
        time=str(summary["duration_s"]),
        timestamp=report["generated_at"],
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in report["target"].items():
        ET.SubElement(properties, "property", name=name, value=_xml(json.dumps(value)))
    for name, value in report.get("options", {}).items():
        ET.SubElement(properties, "property", name=f"option.{name}", value=_xml(json.dumps(value)))
    not_judged = summary.get("not_judged")
    if isinstance(not_judged, dict) and not_judged.get("total"):
        ET.SubElement(properties, "property", name="not_judged", value=json.dumps(not_judged))
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
        elif outcome == "accepted":
            message = f"accepted (failed in the baseline too): {check['message']}"
            accepted = ET.SubElement(case, "skipped", message=_xml(message), type="accepted")
            accepted.text = _xml(_details(check))
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


def write_reports(
    result: RunResult, directory: Path | str, *, latest: bool = False
) -> dict[str, Path]:
    """Write the three reports into ``directory``; returns ``{"json"|"junit"|"html": path}``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    report = build_report(result)
    redactor = redactor_for(result.target)
    rendered = {
        "json": ("report.json", json.dumps(report, indent=2, ensure_ascii=False) + "\n"),
        "junit": ("junit.xml", render_junit(report)),
        "html": ("report.html", render_html(report)),
    }
    paths: dict[str, Path] = {}
    for kind, (name, text) in rendered.items():
        path = directory / name
        path.write_text(redactor.scrub(text), encoding="utf-8")
        paths[kind] = path
    if latest:
        link_latest(directory)
    return paths
