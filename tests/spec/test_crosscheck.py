"""spec/ agrees with OpenAI's official spec, except for the deviations PROVENANCE.md lists.

The rules are in tests/spec/crosscheck.py's docstring; the deviation list is the fenced
```yaml deviations``` block of spec/PROVENANCE.md. Against the packaged snapshot of the official
spec (CI), the ```yaml official-changes``` block says what changed in the official spec since.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from tests.spec.conftest import OFFICIAL, SPEC, load_yaml, packaged_official
from tests.spec.crosscheck import (
    Difference,
    Document,
    compare_component,
    compare_documents,
    documented_deviations,
    documented_official_changes,
)


def _found(ours: Document, official: Document, realtime: dict[str, Document]) -> list[Difference]:
    found = compare_documents(ours, official)
    for document in realtime.values():
        found.extend(compare_documents(document, official))
    return found


def _later(official_source: str) -> set[tuple[str, str]]:
    """What a comparison with the packaged snapshot may find or miss (empty for the newest)."""
    if official_source == "reference":
        return set()
    return set(documented_official_changes(SPEC / "PROVENANCE.md"))


def test_crosscheck_every_difference_is_documented(
    ours: Document, official: Document, realtime: dict[str, Document], official_source: str
) -> None:
    documented = set(documented_deviations(SPEC / "PROVENANCE.md")) | _later(official_source)
    undocumented = [
        f"{d.kind} {d.key}: {d.detail}"
        for d in _found(ours, official, realtime)
        if (d.key, d.kind) not in documented
    ]
    assert undocumented == [], (
        "differences from OpenAI's spec missing from spec/PROVENANCE.md's deviation list:\n"
        + "\n".join(undocumented)
    )


def test_crosscheck_every_documented_deviation_still_exists(
    ours: Document, official: Document, realtime: dict[str, Document], official_source: str
) -> None:
    found = {(d.key, d.kind) for d in _found(ours, official, realtime)} | _later(official_source)
    stale = sorted(
        pair for pair in documented_deviations(SPEC / "PROVENANCE.md") if pair not in found
    )
    assert stale == [], f"PROVENANCE.md lists deviations that no longer exist: {stale}"


def test_crosscheck_official_changes_are_exactly_what_the_snapshot_lacks(
    ours: Document, realtime: dict[str, Document]
) -> None:
    snapshot = packaged_official()
    if OFFICIAL is None or not OFFICIAL.is_file() or snapshot is None:
        pytest.skip(
            "needs a newer official spec (PARITY_OPENAI_SPEC=PATH) and the packaged snapshot"
        )
    newest = {
        (d.key, d.kind) for d in _found(ours, Document.openapi(load_yaml(OFFICIAL)), realtime)
    }
    dated = {(d.key, d.kind) for d in _found(ours, Document.openapi(load_yaml(snapshot)), realtime)}
    listed = set(documented_official_changes(SPEC / "PROVENANCE.md"))
    assert sorted(listed) == sorted(newest ^ dated)


def test_crosscheck_covers_every_component(ours: Document, official: Document) -> None:
    # No component of ours escapes the comparison by carrying a name OpenAI does not use.
    missing = [name for name in ours.components if name not in official.components]
    assert missing == []


def _with_component(document: Document, name: str, schema: object) -> Document:
    root = copy.deepcopy(dict(document.root))
    root["components"]["schemas"][name] = schema
    return Document.openapi(root)


def _embedding(ours: Document) -> dict[str, Any]:
    return copy.deepcopy(dict(ours.components["Embedding"]))


def test_crosscheck_flags_a_renamed_property(ours: Document, official: Document) -> None:
    wrong = _embedding(ours)
    wrong["properties"]["idx"] = wrong["properties"].pop("index")
    wrong["required"] = ["idx", "object", "embedding"]
    found = {
        (d.key, d.kind)
        for d in compare_component(_with_component(ours, "Embedding", wrong), official, "Embedding")
    }
    assert ("Embedding.idx", "property") in found
    assert ("Embedding.idx", "required") in found
    assert ("Embedding.index", "required") in found


def test_crosscheck_flags_an_enum_change(ours: Document, official: Document) -> None:
    wrong = _embedding(ours)
    wrong["properties"]["object"] = {"type": "string", "enum": ["embedding", "vector"]}
    found = compare_component(_with_component(ours, "Embedding", wrong), official, "Embedding")
    assert [(d.key, d.kind) for d in found if d.key == "Embedding.object"] == [
        ("Embedding.object", "enum")
    ]


def test_crosscheck_flags_an_opened_enum(ours: Document, official: Document) -> None:
    wrong = _embedding(ours)
    wrong["properties"]["object"] = {"type": "string"}
    found = compare_component(_with_component(ours, "Embedding", wrong), official, "Embedding")
    assert ("Embedding.object", "enum") in {(d.key, d.kind) for d in found}


@pytest.mark.parametrize(
    ("schema", "kind"),
    [
        ({"type": "integer"}, "type"),
        ({"type": ["integer", "null"]}, "type"),
        ({"type": "integer", "nullable": True}, "type"),
    ],
    ids=["integer", "nullable-type-list", "nullable-keyword"],
)
def test_crosscheck_flags_a_type_change(
    ours: Document, official: Document, schema: dict[str, object], kind: str
) -> None:
    wrong = copy.deepcopy(dict(ours.components["CreateEmbeddingResponse"]))
    wrong["properties"]["model"] = schema
    found = compare_component(
        _with_component(ours, "CreateEmbeddingResponse", wrong), official, "CreateEmbeddingResponse"
    )
    assert ("CreateEmbeddingResponse.model", kind) in {(d.key, d.kind) for d in found}


def test_crosscheck_flags_a_nested_difference(
    ours: Document, official: Document, official_source: str
) -> None:
    wrong = copy.deepcopy(dict(ours.components["CreateChatCompletionResponse"]))
    choice = wrong["properties"]["choices"]["items"]
    choice["properties"]["finish_reason"]["enum"] = ["stop", "length", "tool_calls", "error"]
    found = compare_component(
        _with_component(ours, "CreateChatCompletionResponse", wrong),
        official,
        "CreateChatCompletionResponse",
    )
    later = _later(official_source)  # the snapshot also lacks `fast` in service_tier
    assert [(d.key, d.kind) for d in found if (d.key, d.kind) not in later] == [
        ("CreateChatCompletionResponse.choices[].finish_reason", "enum")
    ]


def test_crosscheck_flags_a_dropped_nullability(ours: Document, official: Document) -> None:
    wrong = copy.deepcopy(dict(ours.components["Error"]))
    wrong["properties"]["code"] = {"type": "string"}
    found = compare_component(_with_component(ours, "Error", wrong), official, "Error")
    assert [(d.key, d.kind) for d in found] == [("Error.code", "type")]


def test_crosscheck_flags_an_unknown_component(ours: Document, official: Document) -> None:
    invented = _with_component(ours, "ChatCompletionWidget", {"type": "object"})
    found = compare_component(invented, official, "ChatCompletionWidget")
    assert [(d.key, d.kind) for d in found] == [("ChatCompletionWidget", "component")]


def test_crosscheck_flags_a_narrowed_union_behind_a_reference(
    ours: Document, official: Document
) -> None:
    # The official chat message union has six roles; dropping one more must show.
    wrong = copy.deepcopy(dict(ours.components["ChatCompletionRequestMessage"]))
    wrong["oneOf"] = [b for b in wrong["oneOf"] if not b["$ref"].endswith("ToolMessage")]
    found = compare_component(
        _with_component(ours, "ChatCompletionRequestMessage", wrong),
        official,
        "ChatCompletionRequestMessage",
    )
    roles = [d for d in found if d.key == "ChatCompletionRequestMessage.role"]
    assert roles
    assert "tool" in roles[0].detail


def test_crosscheck_agrees_with_itself(official: Document) -> None:
    # The official spec compared with itself has no differences: the normalisation is sound.
    for name in ("CreateChatCompletionRequest", "Response", "ResponseStreamEvent", "VideoResource"):
        assert compare_component(official, official, name) == [], name


def test_documented_deviations_reject_an_entry_without_reason(tmp_path: Path) -> None:
    bad = tmp_path / "PROVENANCE.md"
    bad.write_text("```yaml deviations\n- key: Model.x\n  kind: property\n```\n", encoding="utf-8")
    with pytest.raises(ValueError, match="gives no reason"):
        documented_deviations(bad)


def test_documented_deviations_reject_an_unknown_kind(tmp_path: Path) -> None:
    bad = tmp_path / "PROVENANCE.md"
    bad.write_text(
        "```yaml deviations\n- key: Model.x\n  kind: colour\n  reason: r\n```\n", encoding="utf-8"
    )
    with pytest.raises(ValueError, match="'colour'"):
        documented_deviations(bad)
