"""The end of a run: figures from the raw records, the judgement, the exit status, the reports.

Exit status: 0 ok, 1 an SLO failed, 2 every request failed, 3 the client saturated (its figures
are not to be trusted, so the run is invalid whatever the SLOs say). The verdict line says which,
first in the console and first in ``report.html``.

Must not: talk to the target, import locust, or write secrets (records carry key labels only).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from load import reporting
from load.client_health import assess_client
from load.metrics import RequestRecord, summarize
from load.overhead import overhead_section
from load.report_html import write_html
from load.sections import kinds_section
from load.slo import Slo, evaluate, goodput_limits

__all__ = ["finish"]


def finish(
    args: argparse.Namespace,
    report_dir: Path,
    *,
    records: Sequence[RequestRecord],
    monitors: Sequence[dict[str, Any]],
    slos: Sequence[Slo],
    extra: Mapping[str, Any],
    meta: Mapping[str, Any],
    overhead_rounds: int | None = None,
) -> int:
    """Summarize, judge and write ``summary.json``, ``requests.jsonl`` and ``report.html``.

    An overhead run (``overhead_rounds`` set) is summarized on its gateway side; its direct and
    A/A sides feed the ``added`` figures and the ``overhead`` section."""
    main = [r for r in records if r.get("side", "gateway") == "gateway"]
    stats = summarize(main, goodput_limits=goodput_limits(list(slos)))
    client = assess_client(
        monitors, max_cpu=args.max_client_cpu, max_lag_p99_ms=args.max_loop_lag_ms
    )
    sections = dict(extra)
    sections["kinds"] = kinds_section(main)
    if overhead_rounds is not None:
        sections.update(overhead_section(records, overhead_rounds))
    summary: dict[str, Any] = {
        **meta,
        **stats,
        "client": client,
        **sections,
        "definitions": reporting.DEFINITIONS,
    }
    verdicts = evaluate(list(slos), summary)
    summary["slo"] = [
        {"expression": str(v.slo), "value": v.value, "passed": v.passed, "verdict": str(v)}
        for v in verdicts
    ]
    direct = (summary.get("overhead") or {}).get("sides", {}).get("direct")
    if stats["successes"] == 0:
        code, why = 2, f"every request failed ({stats['failures']})"
    elif direct is not None and direct["requests"] == direct["failures"]:
        code, why = 2, f"every direct request failed ({direct['failures']} of {direct['requests']})"
    elif client["saturated"]:
        code, why = 3, "the client saturated: " + "; ".join(client["reasons"])
    elif not all(v.passed for v in verdicts):
        code, why = 1, "SLO breached: " + ", ".join(str(v) for v in verdicts if not v.passed)
    else:
        code, why = 0, "ok"
    summary["valid"] = not client["saturated"]
    summary["exit_code"] = code
    summary["verdict"] = why
    with (report_dir / "requests.jsonl").open("w", encoding="utf-8") as out:
        out.writelines(json.dumps(r, separators=(",", ":")) + "\n" for r in records)
    for part in report_dir.glob("requests-*.jsonl"):
        part.unlink()
    reporting.write_summary(report_dir, summary)
    write_html(report_dir, summary, records)
    print(reporting.text_summary(summary))
    print(
        f"parity load: {why}; summary {report_dir / 'summary.json'}; report "
        f"{report_dir / 'report.html'}"
    )
    return code
