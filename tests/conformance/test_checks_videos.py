"""Video job checks: the breadth fake passes them, and the special verdict paths
(each broken and legal variant is run by test_every_check_proven.py)."""

from __future__ import annotations

from conformance.profiles import Profile
from tests.conformance.fakes.breadth_run import (
    breadth_origin,  # noqa: F401 - session fixture
    failed,
    run_variant,
)

AREAS = ("videos",)


def test_videos_checks_pass_on_correct_fake(breadth_origin: str) -> None:  # noqa: F811
    results = run_variant(breadth_origin, "ok", AREAS)
    assert results
    assert {i: r.outcome for i, r in results.items() if r.outcome != "passed"} == {}


def test_videos_jobs_only_at_generations_path_fail(breadth_origin: str) -> None:  # noqa: F811
    """The official SDK posts to /videos: a target serving only /videos/generations breaks it."""
    results = run_variant(breadth_origin, "generations_only", AREAS)
    assert set(failed(results)) == {"videos.job.create"}
    assert "cannot reach" in results["videos.job.create"].message


def test_videos_refused_content_is_skipped_when_the_profile_declares_it(
    breadth_origin: str,  # noqa: F811
) -> None:
    profile = Profile(name="no-downloads", unsupported=("videos.content",))
    results = run_variant(breadth_origin, "content_refused", AREAS, profile=profile)
    result = results["videos.content.download"]
    assert result.outcome == "skipped", result
    assert "unsupported: [videos.content]" in result.message
    assert failed(results) == {}
