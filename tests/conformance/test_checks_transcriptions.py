"""Transcription checks: the breadth fake passes them, and the special verdict paths
(each broken and legal variant is run by test_every_check_proven.py)."""

from __future__ import annotations

from conformance.profiles import Profile
from tests.conformance.fakes.breadth_run import (
    breadth_origin,  # noqa: F401 - session fixture
    failed,
    run_variant,
)

AREAS = ("transcriptions",)


def test_transcriptions_checks_pass_on_correct_fake(breadth_origin: str) -> None:  # noqa: F811
    results = run_variant(breadth_origin, "ok", AREAS)
    assert results
    assert {i: r.outcome for i, r in results.items() if r.outcome != "passed"} == {}


_FORMATS = {
    "transcriptions.text.plain": "text",
    "transcriptions.srt.cues": "srt",
    "transcriptions.vtt.cues": "vtt",
    "transcriptions.verbose_json.shape": "verbose_json",
    "transcriptions.verbose_json.words": "verbose_json",
}


def test_transcriptions_refusing_documented_formats_fails(breadth_origin: str) -> None:  # noqa: F811
    results = run_variant(breadth_origin, "json_only", AREAS)
    assert set(failed(results)) == set(_FORMATS)
    assert all("OpenAI documents it" in failed(results)[i] for i in _FORMATS)


def test_transcriptions_json_only_model_of_the_spec_is_skipped_not_failed(
    breadth_origin: str,  # noqa: F811
) -> None:
    """The spec documents gpt-4o-mini-transcribe with json only: its refusals are expected."""
    models = {"transcription": "gpt-4o-mini-transcribe"}
    results = run_variant(breadth_origin, "json_only", AREAS, models=models)
    skipped = {i: r.message for i, r in results.items() if r.outcome == "skipped"}
    assert set(skipped) == set(_FORMATS)
    assert all(
        "documents 'gpt-4o-mini-transcribe' with ['json'] only" in m for m in skipped.values()
    )
    assert failed(results) == {}


def test_transcriptions_formats_a_profile_declares_unsupported_are_skipped(
    breadth_origin: str,  # noqa: F811
) -> None:
    declared = tuple(f"transcriptions.format.{f}" for f in ("text", "srt", "vtt", "verbose_json"))
    profile = Profile(name="json-only", unsupported=declared)
    results = run_variant(breadth_origin, "json_only", AREAS, profile=profile)
    assert {i for i, r in results.items() if r.outcome == "skipped"} == set(_FORMATS)
    assert failed(results) == {}
