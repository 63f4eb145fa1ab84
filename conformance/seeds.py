"""The seed of generated cases (fuzzing and properties): a fixed default, or one drawn on request.

A CI gate needs the same verdicts from the same target, parity version and options, so every
generated case derives from one seed, and that seed is fixed unless the caller asks otherwise:
``--seed N`` replays (the default is :data:`DEFAULT_SEED`), ``--seed random`` explores by
drawing one, which the run prints and the report records so that run can be replayed too.
Schemathesis takes it as its ``seed`` setting and Hypothesis through ``@seed``; both then draw
the same cases in the same order (their example databases are off, see
:mod:`conformance.hypothesis_profiles` and :func:`conformance.fuzz.settings.schemathesis_config`).

Must not: read the environment or the clock; draw a seed unless ``random`` was asked for.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Protocol

__all__ = ["DEFAULT_SEED", "MAX_SEED", "RANDOM", "parse_seed", "replay_hint", "seed_of"]

DEFAULT_SEED = 0
RANDOM = "random"
# Hypothesis and schemathesis accept any integer; a seed that fits 32 bits stays easy to copy.
MAX_SEED = 2**32 - 1


class _Seeded(Protocol):
    @property
    def seed(self) -> int | None: ...


def parse_seed(value: str | int | None, *, draw: Callable[[int], int] = secrets.randbelow) -> int:
    """The seed ``--seed`` asks for: ``None`` is the default, ``"random"`` draws one.

    Raises ``ValueError`` naming the value and the accepted forms.
    """
    if value is None:
        return DEFAULT_SEED
    if isinstance(value, str) and value.strip().lower() == RANDOM:
        return draw(MAX_SEED + 1)
    try:
        seed = int(value)
    except (TypeError, ValueError):
        seed = -1
    if isinstance(value, bool) or not 0 <= seed <= MAX_SEED:
        raise ValueError(
            f"seed {value!r} is not valid: give an integer from 0 to {MAX_SEED} to replay a run "
            f"(default {DEFAULT_SEED}), or {RANDOM!r} to draw a new one"
        )
    return seed


def seed_of(target: _Seeded) -> int:
    """The run's seed: the target's (``--seed``), else the fixed default."""
    seed = target.seed
    return DEFAULT_SEED if seed is None else seed


def replay_hint(seed: int) -> str:
    """The option that replays a run with ``seed`` (for report lines)."""
    return f"parity check --level deep --seed {seed}"
