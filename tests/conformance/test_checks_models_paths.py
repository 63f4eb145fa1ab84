from __future__ import annotations

from typing import Any

import pytest

from tests.conformance.fakes.base import API_KEY, Knobs


def entries(change: dict[str, Any]) -> Any:
    return lambda p: {**p, "data": [{**m, **change} for m in p["data"]]}


CASES = [
    ("models.list.shape", Knobs(mutate_models=lambda p: {**p, "object": "page"}), "'page'"),
    ("models.list.shape", Knobs(mutate_models=lambda p: p["data"]), "expected 'list'"),
    ("models.list.shape", Knobs(mutate_models=lambda p: {**p, "data": []}), "non-empty list"),
    ("models.list.shape", Knobs(mutate_models=lambda p: {**p, "data": ["x"]}), "a data entry"),
    ("models.list.shape", Knobs(mutate_models=entries({"object": "engine"})), "'engine'"),
    ("models.list.shape", Knobs(mutate_models=entries({"id": ""})), "id is ''"),
    ("models.list.created_seconds", Knobs(mutate_models=entries({"created": "1700000000"})), "str"),
    ("models.list.created_seconds", Knobs(mutate_models=entries({"created": 1.7e9})), "float"),
    (
        "models.list.created_seconds",
        Knobs(mutate_models=entries({"created": 9 * 10**10})),
        "future",
    ),
    ("models.retrieve.listed", Knobs(mutate_model=lambda m: {**m, "id": "other"}), "'other'"),
    ("models.retrieve.listed", Knobs(mutate_model=lambda m: {**m, "object": "x"}), "object 'x'"),
    ("models.retrieve.listed", Knobs(mutate_model=lambda m: [m]), "returned id"),
]


@pytest.mark.parametrize(
    ("check_id", "knobs", "fragment"), CASES, ids=[f"{c[0]}-{n}" for n, c in enumerate(CASES)]
)
def test_models_checks_report_each_way_of_failing(
    fake, run_ids, check_id: str, knobs: Knobs, fragment: str
) -> None:
    switch, origin = fake
    switch.use(knobs)
    result = run_ids(origin, [check_id], api_key=API_KEY, level="deep")[check_id]
    assert result.outcome == "failed", result
    assert fragment in result.message


def test_models_retrieve_is_capped_by_level_and_encodes_slashes(fake, run_ids) -> None:
    """Only the second listed id (``org/fake-chat-2:beta``) is broken: smoke retrieves one id,
    standard retrieves both (its ``/`` sent as %2F, as openai-python's path_template does)."""
    switch, origin = fake
    switch.use(Knobs(mutate_model=lambda m: {**m, "id": "x"} if "/" in m["id"] else m))
    check_id = "models.retrieve.listed"
    smoke = run_ids(origin, [check_id], api_key=API_KEY, level="smoke")[check_id]
    standard = run_ids(origin, [check_id], api_key=API_KEY, level="standard")[check_id]
    assert smoke.outcome == "passed", smoke
    assert standard.outcome == "failed", standard
    assert "/models/org%2Ffake-chat-2:beta" in standard.message
