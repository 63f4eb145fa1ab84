"""Catalog checks: a catalog-breaking variant needs a server of its own (the catalog lives at
the origin, outside the variant's base URL)."""

from __future__ import annotations

from tests.conformance.fakes.breadth import create_breadth_app
from tests.conformance.fakes.breadth_run import failed, run_variant
from tests.live import serve

AREAS = ("catalog",)


def test_catalog_checks_pass_on_correct_fake() -> None:
    with serve(create_breadth_app()) as origin:
        results = run_variant(origin, "ok", AREAS)
    assert {i: r.outcome for i, r in results.items()} == dict.fromkeys(results, "passed")
    assert len(results) == 3


def test_catalog_discovery_run_passes_every_breadth_check() -> None:
    with serve(create_breadth_app()) as origin:
        results = run_variant(
            origin, "ok", (*AREAS, "embeddings", "images", "responses", "sdk"), discover=True
        )
    assert {i: r.message for i, r in results.items() if r.outcome != "passed"} == {}


def test_catalog_checks_skip_without_a_catalog() -> None:
    with serve(create_breadth_app(catalog_variant="catalog_absent")) as origin:
        results = run_variant(origin, "ok", AREAS)
    assert {r.outcome for r in results.values()} == {"skipped"}


def test_catalog_behind_auth_fails_as_not_public() -> None:
    with serve(create_breadth_app(catalog_variant="catalog_private")) as origin:
        results = run_variant(origin, "ok", ("catalog",), ids=("catalog.api_models.schema",))
    assert "public" in failed(results)["catalog.api_models.schema"]
