"""Running a Hypothesis property against a target from inside an async check.

:func:`hold` draws examples from a strategy with Hypothesis (seeded, bounded by the profile's
``max_examples``) in a worker thread, and runs the async property for each one on the check's
event loop. Hypothesis is the generator only: the first failure is recorded as it happens and
reported with its example and seed, and the remaining draws send nothing. No shrinking and no
replay, so a property never spends a request a paid target did not need to see.

Must not: block the event loop, or hide a skip (a spent request budget, a capability the
target does not offer) behind a failure.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from hypothesis import given
from hypothesis import seed as with_seed

from conformance.hypothesis_profiles import property_settings
from conformance.registry import CheckFailed, CheckSkipped, CheckWarning
from conformance.seeds import replay_hint
from conformance.seeds import seed_of as run_seed

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

    from conformance.context import CheckContext

__all__ = ["PROFILE", "hold", "seed_of"]

T = TypeVar("T")

# The hypothesis profile properties run with (see conformance.hypothesis_profiles).
PROFILE = "ci"
# A property's example runs for at most this long (several requests, a stream).
_EXAMPLE_TIMEOUT = 120.0


def seed_of(ctx: CheckContext) -> int:
    """The run's seed (``--seed N``), else the fixed default: the same examples every run."""
    return run_seed(ctx.target)


def _show(example: Any) -> str:
    try:
        text = json.dumps(example, default=repr)
    except (TypeError, ValueError):
        text = repr(example)
    return text if len(text) <= 600 else f"{text[:600]}..."


async def hold(
    ctx: CheckContext,
    strategy: SearchStrategy[T],
    prop: Callable[[T], Coroutine[Any, Any, None]],
    *,
    max_examples: int | None = None,
) -> None:
    """Check ``prop`` on examples of ``strategy``; raise the first outcome that is not a pass.

    A failure becomes ``CheckFailed`` naming the example and the seed; a warning is raised after
    every example ran (a failure elsewhere wins over it); a skip stops the property at once.
    """
    loop = asyncio.get_running_loop()
    seed = seed_of(ctx)
    outcomes: list[tuple[BaseException, Any]] = []
    ran = 0

    def run_one(example: T) -> None:
        nonlocal ran
        if any(not isinstance(exc, CheckWarning) for exc, _ in outcomes):
            return  # a failure or skip is in: draw on, send nothing
        future = asyncio.run_coroutine_threadsafe(prop(example), loop)
        try:
            future.result(timeout=_EXAMPLE_TIMEOUT)
        except (CheckFailed, CheckWarning, CheckSkipped) as exc:
            outcomes.append((exc, example))
        except TimeoutError:
            future.cancel()
            outcomes.append((CheckFailed(f"no answer within {_EXAMPLE_TIMEOUT:g} s"), example))
        ran += 1

    test = with_seed(seed)(
        property_settings(PROFILE, max_examples=max_examples)(given(strategy)(run_one))
    )
    await asyncio.to_thread(test)
    replay = f"({ran} example(s) sent; regenerate: {replay_hint(seed)})"
    for kind in (CheckSkipped, CheckFailed, CheckWarning):
        for exc, example in outcomes:
            if not isinstance(exc, kind):
                continue
            if isinstance(exc, CheckSkipped):
                raise exc
            message = f"{exc.message}\n  example: {_show(example)}\n  {replay}"
            if isinstance(exc, CheckFailed):
                raise CheckFailed(message, evidence=exc.evidence)
            if isinstance(exc, CheckWarning):
                raise CheckWarning(message, evidence=exc.evidence)
