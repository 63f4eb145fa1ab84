"""The suite's layout keeps its promises: small modules, no import cycles, no outside citations."""

from __future__ import annotations

import re
from pathlib import Path

import grimp
import pytest

import conformance

ROOT = Path(conformance.__file__).resolve().parent
MODULES = sorted(ROOT.rglob("*.py"))
NAMES = [str(path.relative_to(ROOT)) for path in MODULES]
# A citation must point at something a reader of the repository can open: the OpenAI spec, docs
# or SDK, or a file in the repository (spec/PROVENANCE.md). Project issue numbers and notes kept
# outside the repository are not.
OUTSIDE = re.compile(r"\bissue \d+|shared/|anchors|research|seeds/", re.IGNORECASE)


@pytest.mark.parametrize("path", MODULES, ids=NAMES)
def test_layout_modules_stay_under_400_lines(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= 400, f"{path.relative_to(ROOT)} has {lines} lines: split it by concept"


@pytest.mark.parametrize("path", MODULES, ids=NAMES)
def test_layout_cites_nothing_outside_the_repository(path: Path) -> None:
    found = [
        f"{number}: {line.strip()}"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert found == [], f"{path.relative_to(ROOT)} cites outside the repository: {found}"


def test_layout_package_has_no_import_cycles() -> None:
    graph = grimp.build_graph("conformance", include_external_packages=False)
    cycles = sorted(
        f"{a} <-> {b}"
        for a in graph.modules
        for b in graph.find_modules_directly_imported_by(a)
        if a < b and graph.chain_exists(importer=b, imported=a)
    )
    assert cycles == []
