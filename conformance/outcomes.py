"""One check, run once: what it returned or raised becomes its :class:`CheckResult`.

A check that returns passed; ``CheckFailed``/``CheckWarning``/``CheckSkipped`` give their
outcome; running past its time limit is a failure that names the limit (``--check-timeout``);
any other exception is reported as a failure that names the exception, because it means the
response surprised the check (an honest "failed", never a silent pass). A verdict whose evidence
got no answer at all (a timeout, a broken connection) says so first, whatever the check wrote:
"refused: None" is no description of a target that never answered. A check that did not pass
because its endpoint is not served at all (:mod:`conformance.routes`: a 404 on the route
itself, for a capability nothing promised) is skipped with that reason instead. A check skipped with ``--skip``
or needing a capability the target does not offer is not run at all.

Must not: choose which checks run (``selection``) or hold a run's state (``session``).
"""

from __future__ import annotations

import asyncio
import time
import traceback
from collections.abc import Collection
from typing import TYPE_CHECKING

from conformance.errors import CheckFailed, CheckSkipped, CheckWarning
from conformance.results import CheckResult

if TYPE_CHECKING:
    from conformance.context import CheckContext
    from conformance.exchange import Exchange
    from conformance.registry import CheckSpec
    from conformance.routes import ServedRoutes
    from conformance.vocabulary import Capability, Outcome, SkipKind

__all__ = ["not_offered", "run_one"]


def not_offered(capability: Capability, *, declined: bool = False) -> str:
    """Why a check needing ``capability`` is skipped, and how to pin a model for it."""
    if declined:
        return f"{capability} marked as not offered with --model {capability}=none"
    return (
        f"the target offers no {capability} model (none found in /v1/models or /api/models); "
        f"pin one with --model {capability}=MODEL"
    )


def _failure_message(exc: BaseException) -> str:
    frame = traceback.extract_tb(exc.__traceback__)[-1:]
    where = f" at {frame[0].filename.rsplit('/', 1)[-1]}:{frame[0].lineno}" if frame else ""
    return (
        f"the check raised {type(exc).__name__}: {exc}{where} (an unexpected response, or a "
        "bug in the check)"
    )


async def run_one(
    spec: CheckSpec,
    context: CheckContext,
    *,
    skip: Collection[str],
    timeout: float,
    routes: ServedRoutes | None = None,
    declined: Collection[Capability] = (),
) -> CheckResult:
    """Run ``spec`` in ``context`` within ``timeout`` seconds; never raises for the check's sake.

    ``routes`` learns which endpoints the target does not serve; ``declined`` are the
    capabilities the run's options marked as not offered (``--model CAP=none``).
    """

    def result(
        outcome: Outcome,
        message: str,
        evidence: Exchange | None = None,
        skipped: SkipKind | None = None,
    ) -> CheckResult:
        if evidence is not None and evidence.status is None and evidence.error:
            message = f"the target did not answer ({evidence.error}); the check said: {message}"
        return CheckResult(
            id=spec.id,
            area=spec.area,
            endpoint=spec.endpoint,
            outcome=outcome,
            message=message,
            source=spec.source,
            evidence=evidence,
            level=spec.level,
            asserts=spec.asserts,
            duration=round(time.perf_counter() - start, 3),
            skip=(skipped or "check") if outcome == "skipped" else None,
        )

    def unserved(evidence: Exchange | None) -> CheckResult | None:
        """A skipped result when the check's endpoint turned out not to be served."""
        if routes is None:
            return None
        reason = routes.learn(evidence, context.target.models) or routes.reason(spec.capability)
        return None if reason is None else result("skipped", reason, skipped="not_served")

    start = time.perf_counter()
    if spec.id in skip:
        return result("skipped", "skipped with --skip", skipped="requested")
    if spec.capability is not None and not context.target.models.get(spec.capability):
        if spec.capability in declined:
            reason = not_offered(spec.capability, declined=True)
            return result("skipped", reason, skipped="requested")
        return result("skipped", not_offered(spec.capability), skipped="not_offered")
    known = unserved(None)
    if known is not None:
        return known
    try:
        async with asyncio.timeout(timeout):
            await spec.func(context)
    except CheckFailed as exc:
        return unserved(exc.evidence) or result("failed", exc.message, exc.evidence)
    except CheckWarning as exc:
        return unserved(exc.evidence) or result("warning", exc.message, exc.evidence)
    except CheckSkipped as exc:
        return result("skipped", exc.reason, skipped=exc.kind)
    except TimeoutError:
        return result(
            "failed",
            f"the check did not finish within its time limit of {timeout:g} s "
            "(--check-timeout): the target stopped answering or answers more slowly than that; "
            "raise --check-timeout to judge a slow target",
        )
    except Exception as exc:  # noqa: BLE001 - becomes a failed result naming the exception
        return unserved(None) or result("failed", _failure_message(exc))
    return result("passed", "")
