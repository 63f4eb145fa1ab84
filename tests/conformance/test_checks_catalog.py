"""Catalog checks: a catalog-breaking variant needs a server of its own (the catalog lives at
the origin, outside the variant's base URL). The proofs of each check (one broken variant, the
legal ones) are in ``fakes/breadth_variants.py``; these tests pin what the proofs cannot: the
page-exact fake passes every check, the profile gate, and breaks that trip two checks at once."""

from __future__ import annotations

from dataclasses import replace

import pytest

from conformance.profiles import CATALOG, MONDAY, OPENAI, load_profile, profile_from_mapping
from conformance.runner import load_checks
from tests.conformance.fakes.breadth import create_breadth_app
from tests.conformance.fakes.breadth_run import failed, run_variant
from tests.live import serve

AREAS = ("catalog",)
IDS = tuple(spec.id for spec in load_checks() if spec.area == "catalog")


def test_catalog_page_exact_fake_passes_every_catalog_check() -> None:
    """Bare array, model_name the API form, the page's tags, video at /videos/generations."""
    with serve(create_breadth_app()) as origin:
        results = run_variant(origin, "ok", AREAS)
    assert {i: r.message for i, r in results.items() if r.outcome != "passed"} == {}
    assert set(results) == set(IDS)
    assert len(IDS) == 7


def test_catalog_discovery_run_passes_every_breadth_check() -> None:
    with serve(create_breadth_app()) as origin:
        results = run_variant(
            origin, "ok", (*AREAS, "embeddings", "images", "responses", "sdk"), discover=True
        )
    assert {i: r.message for i, r in results.items() if r.outcome != "passed"} == {}


@pytest.mark.parametrize("profile", [OPENAI, MONDAY], ids=["openai", "monday"])
def test_catalog_area_is_skipped_unless_the_profile_claims_the_page(profile) -> None:
    with serve(create_breadth_app(catalog_variant="catalog_object_list")) as origin:
        results = run_variant(origin, "ok", AREAS, profile=profile)
    assert {r.outcome for r in results.values()} == {"skipped"}
    assert all("--profile catalog" in r.message for r in results.values())


def test_catalog_profile_is_claimed_by_name_or_by_file() -> None:
    assert load_profile("catalog") is CATALOG
    assert CATALOG.catalog
    assert not OPENAI.catalog
    assert not MONDAY.catalog
    claimed = profile_from_mapping({"extends": "monday", "catalog": True}, origin="gw.yaml")
    assert claimed == replace(MONDAY, catalog="/api/models")


def test_catalog_object_wrapped_list_fails_only_the_schema_check() -> None:
    with serve(create_breadth_app(catalog_variant="catalog_object_list")) as origin:
        results = run_variant(origin, "ok", AREAS)
    assert set(failed(results)) == {"catalog.api_models.schema"}
    assert "bare JSON array" in failed(results)["catalog.api_models.schema"]
    others = {i: r.outcome for i, r in results.items() if i != "catalog.api_models.schema"}
    assert set(others.values()) <= {"skipped", "passed"}


def test_catalog_absent_fails_a_claiming_profile_and_skips_under_openai() -> None:
    with serve(create_breadth_app(catalog_variant="catalog_absent")) as origin:
        claimed = run_variant(origin, "ok", AREAS)
        strict = run_variant(origin, "ok", AREAS, profile=OPENAI)
    assert set(failed(claimed)) == {"catalog.api_models.schema"}
    assert "404" in failed(claimed)["catalog.api_models.schema"]
    assert {r.outcome for r in strict.values()} == {"skipped"}


def test_catalog_behind_auth_fails_as_not_public() -> None:
    with serve(create_breadth_app(catalog_variant="catalog_private")) as origin:
        results = run_variant(origin, "ok", AREAS, ids=("catalog.api_models.schema",))
    assert "public" in failed(results)["catalog.api_models.schema"]


def test_catalog_swapped_slug_and_model_name_fail_where_clients_break() -> None:
    """model_name as a display name (slug as the API id): /v1/models ids match no model_name,
    and a client calling models by their model_name is refused."""
    with serve(create_breadth_app(catalog_variant="catalog_slug_swapped")) as origin:
        results = run_variant(origin, "ok", AREAS)
    assert set(failed(results)) == {
        "catalog.categories.consistent",
        "catalog.audio.directions",
        "catalog.categories.routes",
    }
    assert (
        "no catalog entry has that model_name" in failed(results)["catalog.categories.consistent"]
    )


def test_catalog_whisper_tagged_transcription_is_routed_to_speech_and_fails() -> None:
    """The tag `transcription` is not the page's: a client written from the page takes the model
    for text-to-speech and gets a 400; both the tag and the route are reported."""
    with serve(create_breadth_app(catalog_variant="catalog_transcription_tag")) as origin:
        results = run_variant(origin, "ok", AREAS)
    problems = failed(results)
    assert set(problems) == {"catalog.supports.documented_tags", "catalog.audio.directions"}
    assert "'audio_transcription'" in problems["catalog.supports.documented_tags"]
    assert "POST /audio/speech: status 400" in problems["catalog.audio.directions"]
