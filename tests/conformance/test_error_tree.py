"""conformance.errors: the tree drawn in the docstring is the tree in the code."""

from __future__ import annotations

import re

import pytest

from conformance import errors

_BRANCH = re.compile(r"[├└]── (\w+)")


def _drawn_parents() -> dict[str, str]:
    """Each class drawn in the docstring's tree, with the class it hangs from."""
    doc = errors.__doc__ or ""
    tree = doc.split("```")[1]
    parents: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    for line in tree.splitlines():
        match = _BRANCH.search(line)
        root = re.match(r"^(\w+)$", line.strip()) if match is None else None
        if root is not None:
            stack = [(0, root.group(1))]
            continue
        if match is None:
            continue  # a continued description
        depth = match.start(1)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents[match.group(1)] = stack[-1][1]
        stack.append((depth, match.group(1)))
    return parents


def test_error_tree_draws_every_class_once_under_its_base() -> None:
    drawn = _drawn_parents()
    assert set(drawn) == set(errors.__all__)
    for name, parent in drawn.items():
        assert getattr(errors, name).__bases__[0].__name__ == parent, name


@pytest.mark.parametrize(
    ("name", "also"),
    [
        ("ProfileError", ValueError),
        ("DrillProfileError", ValueError),
        ("LaunchError", RuntimeError),
    ],
    ids=["profile", "drill-profile", "launch"],
)
def test_error_tree_keeps_the_builtin_bases_callers_catch(name: str, also: type) -> None:
    assert issubclass(getattr(errors, name), also)


def test_error_tree_has_one_usage_error_for_the_package() -> None:
    from conformance import profiles
    from conformance.commands import check, drill
    from conformance.drills import profile

    assert check.UsageError is drill.UsageError is errors.UsageError
    assert issubclass(profiles.ProfileError, errors.UsageError)
    assert issubclass(profile.DrillProfileError, errors.UsageError)
    assert not issubclass(errors.CheckFailed, errors.ParityError)
