"""The runner: runs selected checks against one target, a few at a time, into a RunResult.

Owns: :func:`run_checks` (bounded concurrency over a :class:`RunSession`, results in the order
of the selection) and :func:`run_check_ids` (a synchronous run of named checks, for tests and
scripts). The rest of a run lives beside it, one concept per module: which checks exist and
run (:mod:`conformance.selection`), one run's state and model discovery
(:mod:`conformance.session`), one check's outcome (:mod:`conformance.outcomes`); their public
names are re-exported here, so ``conformance.runner`` stays the one import for running checks.

Must not: print or write files (the command line and the report writers do), or import a check
module by name (checks are discovered from the ``conformance.checks`` package).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import TYPE_CHECKING

import httpx

from conformance import selection
from conformance.context import CATALOG_KEY, MODELS_LIST_KEY
from conformance.errors import CheckLoadError, TargetRefusedError, TargetUnreachableError
from conformance.profiles import OPENAI, Profile
from conformance.results import CheckResult, RunResult
from conformance.selection import CHECK_PACKAGES, load_checks, select_checks
from conformance.session import DEFAULT_CHECK_TIMEOUT, RunContext, RunSession
from conformance.target import Target

if TYPE_CHECKING:
    from conformance.registry import CheckSpec, Registry
    from conformance.vocabulary import Capability, Level

__all__ = [
    "CATALOG_KEY",
    "CHECK_PACKAGES",
    "DEFAULT_CHECK_TIMEOUT",
    "DEFAULT_CONCURRENCY",
    "MODELS_LIST_KEY",
    "CheckLoadError",
    "CheckResult",
    "RunContext",
    "RunResult",
    "RunSession",
    "TargetRefusedError",
    "TargetUnreachableError",
    "load_checks",
    "run_check_ids",
    "run_checks",
    "select_checks",
]

DEFAULT_CONCURRENCY = 4


async def run_checks(
    target: Target,
    specs: Iterable[CheckSpec],
    *,
    discover: bool = True,
    skip: Collection[str] = (),
    concurrency: int = DEFAULT_CONCURRENCY,
    check_timeout: float = DEFAULT_CHECK_TIMEOUT,
    request_timeout: float | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    on_result: Callable[[CheckResult], None] | None = None,
) -> RunResult:
    """Run ``specs`` (already selected) against ``target``; results keep the order of ``specs``.

    With ``discover``, the models are read from the target's listings and ``target.models``
    act as pins (a pin of ``""`` marks a capability as not offered). Raises
    :class:`TargetUnreachableError` when discovery gets no answer at all.
    """
    if concurrency < 1:
        raise ValueError(f"concurrency must be >= 1, got {concurrency!r}")
    specs = list(specs)
    async with RunSession(
        target,
        discover=discover,
        skip=skip,
        check_timeout=check_timeout,
        request_timeout=request_timeout,
        transport=transport,
    ) as session:
        await session.start()
        gate = asyncio.Semaphore(concurrency)

        async def guarded(spec: CheckSpec) -> CheckResult:
            async with gate:
                outcome = await session.run(spec)
            if on_result is not None:
                on_result(outcome)
            return outcome

        results = await asyncio.gather(*(guarded(spec) for spec in specs))
        await session.release_keys()  # before the result: a key left behind is in its notes
        return session.result(results)


def run_check_ids(
    base_url: str,
    api_key: str | None,
    ids: Iterable[str],
    *,
    level: Level = "deep",
    models: Mapping[Capability, str] | None = None,
    profile: Profile | None = None,
    checks: Registry | None = None,
    discover: bool = True,
    max_requests: int | None = None,
    check_timeout: float = 30.0,
    allow_fetch: Collection[str] = (),
) -> RunResult:
    """Run the named checks (those of ``level`` or below) synchronously: for tests and scripts.

    ``checks`` defaults to every registered check (``load_checks()``); an unknown id raises
    ``KeyError`` naming it.
    """
    source = selection.load_checks() if checks is None else checks
    wanted = list(ids)
    specs = [source.get(check_id) for check_id in wanted]
    target = Target(
        base_url=base_url,
        api_key=api_key,
        level=level,
        profile=profile or OPENAI,
        models=dict(models or {}),
        max_requests=max_requests,
        allow_fetch=tuple(allow_fetch),
    )
    return asyncio.run(
        run_checks(
            target,
            select_checks(specs, level=level),
            discover=discover,
            check_timeout=check_timeout,
        )
    )
