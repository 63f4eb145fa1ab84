"""The load harness's error tree: every class is drawn in ``load/errors.py``'s docstring and
descends from ``LoadError``, so ``parity load`` reports each in one line (exit 2)."""

from __future__ import annotations

import pytest

from load import errors


@pytest.mark.parametrize("name", errors.__all__, ids=errors.__all__)
def test_errors_each_class_is_drawn_and_is_a_load_error(name: str) -> None:
    cls = getattr(errors, name)
    assert issubclass(cls, errors.LoadError)
    assert name in (errors.__doc__ or "")


def test_errors_one_usage_error_for_every_bad_input() -> None:
    assert issubclass(errors.SloError, errors.UsageError)
    assert issubclass(errors.ScenarioError, errors.UsageError)
    assert not issubclass(errors.PreflightError, errors.UsageError)
