"""The pytest plugin (``pytest11`` entry point ``parity``): the suite's checks as pytest items.

``pytest --parity-base-url URL --parity-api-key KEY`` adds one item per selected check
(``parity::<check id>``, marker ``parity``) after the session's own tests; ``-m parity`` runs
only them, ``-k`` selects by id. A failed check fails its item with the check's message and a
``curl`` line reproducing it; a skipped one skips; a warning passes and shows in pytest's
warnings summary; a failure ``--parity-baseline`` already had is an expected failure (xfail).
Every message passes through the run's redactor first. ``--parity-report-dir DIR`` also writes the usual reports.

Inert unless ``--parity-base-url`` is given: only that option enables the plugin (no
environment variable does), so installing parity never changes anyone else's test run. The
entry point loads it whenever parity is installed; with plugin autoload disabled, load it with
``-p parity`` (the entry point's name) or ``-p conformance.plugin``.

Must not: import the runner or any check module at import time (pytest loads this module for
every session in an environment where parity is installed).
"""

from __future__ import annotations

import asyncio
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from conformance.errors import CheckItemFailure, ParityWarning

if TYPE_CHECKING:
    from conformance.baseline import Baseline
    from conformance.registry import CheckSpec
    from conformance.results import CheckResult
    from conformance.session import RunSession
    from conformance.settings import Settings

# ParityWarning is re-exported: it is the category to filter the checks' warnings by.
__all__ = ["CheckItem", "ParityWarning", "pytest_addoption", "pytest_configure"]

_LEVELS = ("smoke", "standard", "deep")
# The options that become conformance.settings' options, read as --parity-<name>.
_OPTIONS = (
    "base_url",
    "api_key",
    "level",
    "model",
    "only",
    "skip",
    "profile",
    "report_dir",
    "max_requests",
    "seed",
    "fuzz_requests",
    "check_timeout",
    "request_timeout",
    "allow_fetch",
    "baseline",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("parity", "parity conformance suite (inert without --parity-base-url)")
    group.addoption(
        "--parity-base-url",
        default=None,
        metavar="URL",
        help="base URL of the target (e.g. http://127.0.0.1:8000/v1); enables the plugin",
    )
    group.addoption(
        "--parity-api-key",
        default=None,
        metavar="KEY",
        help="API key for the target (default: $PARITY_API_KEY, then $OPENAI_API_KEY)",
    )
    group.addoption(
        "--parity-level", default="standard", choices=_LEVELS, help="smoke, standard or deep"
    )
    group.addoption(
        "--parity-model",
        action="append",
        default=[],
        metavar="CAPABILITY=MODEL",
        help="pin the model for a capability (CAPABILITY=none: not offered); repeatable",
    )
    group.addoption(
        "--parity-only", action="append", default=[], metavar="AREA[,AREA]", help="only areas"
    )
    group.addoption(
        "--parity-skip", action="append", default=[], metavar="CHECK_ID", help="skip a check id"
    )
    group.addoption(
        "--parity-profile", default="openai", metavar="NAME|FILE", help="target profile"
    )
    group.addoption(
        "--parity-max-requests", type=int, default=None, metavar="N", help="request budget"
    )
    group.addoption(
        "--parity-seed", default=None, metavar="N|random", help="seed of generated cases"
    )
    group.addoption(
        "--parity-fuzz-requests",
        type=int,
        default=None,
        metavar="N",
        help="requests the deep level's fuzz run may send (default 400)",
    )
    group.addoption(
        "--parity-allow-fetch",
        action="append",
        default=[],
        metavar="HOST",
        help="also fetch URLs the target hands out from HOST (default: its own host only)",
    )
    group.addoption(
        "--parity-check-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="each check's time limit (default 120)",
    )
    group.addoption(
        "--parity-request-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="each request's limit for connecting, sending and between two reads (default 60)",
    )
    group.addoption(
        "--parity-baseline",
        default=None,
        metavar="FILE",
        help="an earlier report.json or baseline: failures it had are expected (xfail), "
        "new ones fail",
    )
    group.addoption(
        "--parity-report-dir",
        default=None,
        metavar="DIR",
        help="also write report.json, junit.xml and report.html there",
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("parity_base_url", default=None):
        config.addinivalue_line("markers", "parity: a check of the parity conformance suite")
        config.pluginmanager.register(_Suite(config), "parity-suite")


class CheckItem(pytest.Item):
    """One conformance check run as a pytest item."""

    def __init__(self, *, spec: CheckSpec, suite: _Suite, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec = spec
        self.suite = suite
        self.add_marker("parity")

    def runtest(self) -> None:
        result = self.suite.run(self.spec)
        if result.outcome == "failed":
            raise CheckItemFailure(self.suite.describe(result))
        if result.outcome == "skipped":
            pytest.skip(self.suite.redact(result.message))
        if result.outcome == "accepted":
            pytest.xfail(self.suite.redact(f"accepted (in the baseline): {result.message}"))
        if result.outcome == "warning":
            # Attributed to the check, not to this line, in pytest's warnings summary.
            warnings.warn_explicit(
                ParityWarning(self.suite.redact(result.message)),
                ParityWarning,
                filename=f"parity::{result.id}",
                lineno=0,
            )

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> str:
        if isinstance(excinfo.value, CheckItemFailure):
            return excinfo.value.text
        return str(super().repr_failure(excinfo, style=style))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"parity check {self.spec.id}"


class _Collector(pytest.Collector):
    def __init__(self, *, suite: _Suite, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.suite = suite

    def collect(self) -> Iterator[CheckItem]:
        for spec in self.suite.specs:
            yield CheckItem.from_parent(self, name=spec.id, spec=spec, suite=self.suite)


class _Suite:
    """The run behind the items: one event loop, client and context for the session."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.specs: list[CheckSpec] = []
        self.results: list[CheckResult] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._session: RunSession | None = None
        self._settings_read: Settings | None = None
        self._baseline: Baseline | None = None
        self.report_dir: Path | None = None

    def _settings(self) -> Settings:
        from conformance.errors import UsageError
        from conformance.settings import settings_from

        # The plugin's options are the command line's, prefixed: --parity-level is --level.
        options = {name: self.config.getoption(f"parity_{name}") for name in _OPTIONS}
        try:
            return settings_from({**options, "concurrency": 1}, os.environ)
        except UsageError as exc:
            raise pytest.UsageError(f"parity: {exc}") from None

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(
        self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        # tryfirst: our items must exist before -k and -m deselect.
        from conformance.baseline import read_baseline
        from conformance.errors import UsageError
        from conformance.session import RunSession
        from conformance.settings import plan

        settings = self._settings_read = self._settings()
        try:
            self.specs, profile = plan(settings)
            if settings.baseline is not None:
                self._baseline = read_baseline(settings.baseline, flag="--parity-baseline")
        except UsageError as exc:
            raise pytest.UsageError(f"parity: {exc}") from None
        self._session = RunSession(
            settings.target(profile),
            skip=settings.skip,
            check_timeout=settings.check_timeout,
            request_timeout=settings.request_timeout,
        )
        self.report_dir = settings.report_dir
        collector = _Collector.from_parent(session, name="parity", nodeid="parity", suite=self)
        items.extend(collector.collect())

    def run(self, spec: CheckSpec) -> CheckResult:
        from conformance.baseline import accept
        from conformance.errors import TargetUnreachableError

        assert self._session is not None
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        try:
            result = self._loop.run_until_complete(self._session.run(spec))
        except TargetUnreachableError as exc:
            pytest.exit(self.redact(f"parity: {exc}"), returncode=2)
        result = accept(result, self._baseline)
        self.results.append(result)
        return result

    def redact(self, text: str) -> str:
        """``text`` through the run's redactor: pytest prints what the target may have echoed."""
        from conformance.evidence import redactor_for

        assert self._session is not None
        return redactor_for(self._session.target).text(text)

    def describe(self, result: CheckResult) -> str:
        from conformance.evidence import redactor_for, render_evidence

        lines = [
            f"{result.id} failed: {result.message}",
            f"  asserts: {result.asserts}",
            f"  source:  {result.source}",
        ]
        if result.evidence is not None and self._session is not None:
            target = self._session.target
            evidence = render_evidence(result.evidence, redactor_for(target), target.api_key)
            lines += [
                f"  status:  {evidence['status']}",
                f"  body:    {evidence['body_excerpt'][:500]}",
                f"  curl:    {evidence['curl']}",
            ]
        return self.redact("\n".join(lines))

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self._session is None or self._loop is None:
            return
        if self.report_dir is not None and self.results:
            from dataclasses import replace

            from conformance.baseline import apply_baseline
            from conformance.reporting import write_reports

            assert self._settings_read is not None
            options = self._settings_read.options()
            run = replace(self._session.result(self.results), options=options)
            write_reports(apply_baseline(run, self._baseline), self.report_dir)
        self._loop.run_until_complete(self._session.close())
        self._loop.close()
        self._loop = None
