from __future__ import annotations

import pytest

from conformance.registry import CheckSpec, Registry, check


async def _noop(ctx) -> None:
    return None


def test_registry_rejects_bad_ids() -> None:
    reg = Registry()
    with pytest.raises(ValueError, match=r"'Chat\.Bad'"):
        check(
            "Chat.Bad", area="chat", level="smoke", endpoint="x", asserts="x", source="x", into=reg
        )(_noop)


def test_registry_levels_nest() -> None:
    reg = Registry()
    check(
        "chat.demo.rule",
        area="chat",
        level="standard",
        endpoint="x",
        asserts="x",
        source="x",
        into=reg,
    )(_noop)
    spec: CheckSpec = reg.get("chat.demo.rule")
    assert not spec.runs_at("smoke")
    assert spec.runs_at("standard")
    assert spec.runs_at("deep")
