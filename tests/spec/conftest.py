"""Fixtures for the spec tests: the repository's spec/ documents and OpenAI's official spec.

The official document (about 3 MB) is read once per session with the C YAML loader; it is not
part of the project, so tests that need it skip with a message saying where it was looked for.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.spec.crosscheck import Document

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO / "spec"
OFFICIAL = REPO.parent / "shared" / "reference" / "openai-openapi.yaml"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)


@pytest.fixture(scope="session")
def official() -> Document:
    if not OFFICIAL.is_file():
        pytest.skip(
            f"OpenAI's official spec is not at {OFFICIAL} (../shared/reference/openai-openapi.yaml "
            "next to the repository); it is not part of the project, so the cross-check is skipped"
        )
    return Document.openapi(load_yaml(OFFICIAL))


@pytest.fixture(scope="session")
def ours() -> Document:
    return Document.openapi(load_yaml(SPEC / "openai.yaml"))


@pytest.fixture(scope="session")
def realtime() -> dict[str, Document]:
    return {
        name: Document.json_schema(json.loads((SPEC / "realtime" / name).read_text("utf-8")))
        for name in ("client-events.json", "server-events.json")
    }
