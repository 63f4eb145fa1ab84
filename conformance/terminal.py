"""What a run shows in the terminal: live progress while checks run, then the summary.

Owns: the rich progress bar (on stderr, so stdout stays the summary), a line per failure as it
happens, the summary table by area, the failed checks with their messages, the requests and
tokens spent (a paid target costs money) and where the reports are. Every text that came from
the target or the run's options goes through the run's redactor first (a target may echo the
key in an error message).

Must not: decide outcomes or exit codes, or write files.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.progress import Progress as RichProgress
from rich.table import Table

from conformance.evidence import redactor_for
from conformance.results import NOT_JUDGED_BECAUSE

if TYPE_CHECKING:
    from conformance.results import CheckResult, RunResult
    from conformance.target import Target

__all__ = ["Progress", "print_summary"]

_STYLE = {
    "passed": "green",
    "failed": "bold red",
    "accepted": "magenta",
    "warning": "yellow",
    "skipped": "dim",
}


class Progress:
    """Live progress of a run; use as a context manager and pass :meth:`advance` as the
    runner's ``on_result``."""

    def __init__(
        self,
        total: int,
        target: Target,
        console: Console | None = None,
        *,
        check_timeout: float | None = None,
    ) -> None:
        self.console = console or Console(stderr=True)
        self.counts = {"passed": 0, "failed": 0, "accepted": 0, "warning": 0, "skipped": 0}
        self._bar = RichProgress(
            SpinnerColumn(),
            TextColumn("[bold]checks"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[counts]}"),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
        )
        self._task: TaskID | None = None
        self._total = total
        self._redactor = redactor_for(target)
        self.console.print(
            f"parity: checking [bold]{escape(self._redactor.text(target.base_url))}[/] at level "
            f"[bold]{target.level}[/] with profile [bold]{escape(target.profile.name)}[/] "
            f"({total} checks"
            + (f", each limited to {check_timeout:g} s" if check_timeout is not None else "")
            + ")"
        )

    def __enter__(self) -> Progress:
        self._bar.start()
        self._task = self._bar.add_task("checks", total=self._total, counts="")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._bar.stop()

    def advance(self, result: CheckResult) -> None:
        self.counts[result.outcome] += 1
        if result.outcome == "failed":
            self._bar.console.print(
                f"[bold red]FAILED[/] {escape(result.id)}: "
                f"{escape(_one_line(self._redactor.text(result.message)))}"
            )
        if self._task is not None:
            counts = " ".join(f"[{_STYLE[o]}]{n} {o}[/]" for o, n in self.counts.items() if n)
            self._bar.update(self._task, advance=1, counts=counts)


def _one_line(text: str, limit: int = 160) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def print_summary(
    result: RunResult, paths: Mapping[str, Path], console: Console | None = None
) -> None:
    """The summary table by area, the failures, what was not judged, the cost and the reports."""
    out = console or Console(soft_wrap=True)
    redact = redactor_for(result.target).text
    shown = [o for o in _STYLE if o != "accepted" or result.summary["accepted"]]
    areas: dict[str, dict[str, int]] = {}
    for r in result.results:
        areas.setdefault(r.area, dict.fromkeys(_STYLE, 0))[r.outcome] += 1
    table = Table(title="parity conformance summary", title_justify="left")
    table.add_column("area")
    for outcome in shown:
        table.add_column(outcome, justify="right", style=_STYLE[outcome])
    for area in sorted(areas):
        row = areas[area]
        table.add_row(area, *(str(row[o]) if row[o] else "" for o in shown))
    s = result.summary
    totals = [s["warnings" if o == "warning" else o] for o in shown]
    table.add_row("[bold]total", *map(str, totals), end_section=True)
    out.print(table)
    for outcome, label in (
        ("failed", "Failed"),
        ("accepted", "Accepted (failed in the baseline too)"),
        ("warning", "Warnings"),
    ):
        chosen = [r for r in result.results if r.outcome == outcome]
        if not chosen:
            continue
        out.print(f"[{_STYLE[outcome]}]{label}:[/]")
        for r in chosen:
            out.print(
                f"  [{_STYLE[outcome]}]{escape(r.id)}[/]: {escape(_one_line(redact(r.message)))}",
                soft_wrap=True,
            )
    not_judged = result.not_judged
    if not_judged:
        why = ", ".join(f"{n} {NOT_JUDGED_BECAUSE[kind]}" for kind, n in not_judged.items())
        out.print(
            f"[yellow]not judged:[/] {sum(not_judged.values())} of {len(result.results)} checks: "
            f"{escape(why)}. --fail-on-skip makes this fail the run"
        )
    for note in result.notes:
        out.print(f"[yellow]note:[/] {escape(redact(note))}")
    models = redact(", ".join(f"{cap}={model}" for cap, model in result.target.models.items()))
    out.print(f"models: {escape(models) or 'none'}")
    tokens = result.tokens
    out.print(
        f"{result.requests} requests made, {tokens.total} tokens used "
        f"({tokens.prompt} prompt, {tokens.completion} completion) in {result.duration:.1f} s"
    )
    html = paths.get("html")
    if html is not None:
        out.print(f"reports: {escape(str(html.parent))}/ (open {escape(str(html))})")
