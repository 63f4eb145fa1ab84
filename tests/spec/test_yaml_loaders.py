"""Every spec/ document loads with pure-Python PyYAML, and reads the same as with libyaml.

parity runs wherever PyYAML does, including where it has no C extension (``yaml.CSafeLoader``
missing): the pure-Python ``yaml.SafeLoader`` is stricter about plain scalars in flow
collections (a ``?`` inside ``{...}`` starts a complex key there), so a document libyaml
accepts may not load at all without it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.spec.conftest import SPEC

YAML_DOCUMENTS = sorted(p for p in SPEC.rglob("*") if p.suffix in (".yaml", ".yml"))


def test_spec_has_yaml_documents_to_load() -> None:
    assert {"openai.yaml", "catalog.yaml", "admin.yaml"} <= {p.name for p in YAML_DOCUMENTS}


@pytest.mark.parametrize("path", YAML_DOCUMENTS, ids=[p.name for p in YAML_DOCUMENTS])
def test_spec_document_loads_with_pure_python_pyyaml(path: Path) -> None:
    with path.open(encoding="utf-8") as f:
        loaded = yaml.load(f, Loader=yaml.SafeLoader)
    assert isinstance(loaded, dict), path.name
    c_loader = getattr(yaml, "CSafeLoader", None)
    if c_loader is not None:
        # The same data either way: a quoted scalar must not change what libyaml read.
        assert yaml.load(path.read_text(encoding="utf-8"), Loader=c_loader) == loaded


def test_pure_python_pyyaml_rejects_a_question_mark_in_a_flow_mapping() -> None:
    # The shape that broke spec/openai.yaml: the loader this file tests really is the strict one.
    with pytest.raises(yaml.YAMLError):
        yaml.load("messages: [{role: user, content: Why?}]", Loader=yaml.SafeLoader)


def test_fuzz_document_loads_without_libyaml(monkeypatch: pytest.MonkeyPatch) -> None:
    from conformance.fuzz.document import load_document

    monkeypatch.delattr(yaml, "CSafeLoader", raising=False)
    assert "paths" in load_document("openai.yaml")
