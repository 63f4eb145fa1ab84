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
from load.metrics import RequestRecord, summarize
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
) -> int:
    """Summarize, judge and write ``summary.json``, ``requests.jsonl`` and ``report.html``."""
    stats = summarize(records, goodput_limits=goodput_limits(list(slos)))
    client = reporting.assess_client(
        monitors, max_cpu=args.max_client_cpu, max_lag_p99_ms=args.max_loop_lag_ms
    )
    summary: dict[str, Any] = {
        **meta,
        **stats,
        "client": client,
        **extra,
        "definitions": reporting.DEFINITIONS,
    }
    verdicts = evaluate(list(slos), summary)
    summary["slo"] = [
        {"expression": str(v.slo), "value": v.value, "passed": v.passed, "verdict": str(v)}
        for v in verdicts
    ]
    if stats["successes"] == 0:
        code, why = 2, f"every request failed ({stats['failures']})"
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
    reporting.write_html(report_dir, summary, records)
    print(reporting.text_summary(summary))
    print(
        f"parity load: {why}; summary {report_dir / 'summary.json'}; report "
        f"{report_dir / 'report.html'}"
    )
    return code
