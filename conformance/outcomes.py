"""One check, run once: what it returned or raised becomes its :class:`CheckResult`.

A check that returns passed; ``CheckFailed``/``CheckWarning``/``CheckSkipped`` give their
outcome; running past its time limit is a failure that names the limit (``--check-timeout``);
any other exception is reported as a failure that names the exception, because it means the
response surprised the check (an honest "failed", never a silent pass). A verdict whose evidence
got no answer at all (a timeout, a broken connection) says so first, whatever the check wrote:
"refused: None" is no description of a target that never answered. A check skipped with ``--skip``
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
    from conformance.vocabulary import Capability, Outcome

__all__ = ["not_offered", "run_one"]


def not_offered(capability: Capability) -> str:
    """Why a check needing ``capability`` is skipped, and how to pin a model for it."""
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
    spec: CheckSpec, context: CheckContext, *, skip: Collection[str], timeout: float
) -> CheckResult:
    """Run ``spec`` in ``context`` within ``timeout`` seconds; never raises for the check's sake."""

    def result(outcome: Outcome, message: str, evidence: Exchange | None = None) -> CheckResult:
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
        )

    start = time.perf_counter()
    if spec.id in skip:
        return result("skipped", "skipped with --skip")
    if spec.capability is not None and not context.target.models.get(spec.capability):
        return result("skipped", not_offered(spec.capability))
    try:
        async with asyncio.timeout(timeout):
            await spec.func(context)
    except CheckFailed as exc:
        return result("failed", exc.message, exc.evidence)
    except CheckWarning as exc:
        return result("warning", exc.message, exc.evidence)
    except CheckSkipped as exc:
        return result("skipped", exc.reason)
    except TimeoutError:
        return result(
            "failed",
            f"the check did not finish within its time limit of {timeout:g} s "
            "(--check-timeout): the target stopped answering or answers more slowly than that; "
            "raise --check-timeout to judge a slow target",
        )
    except Exception as exc:  # noqa: BLE001 - becomes a failed result naming the exception
        return result("failed", _failure_message(exc))
    return result("passed", "")
