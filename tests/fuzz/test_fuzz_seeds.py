"""Deterministic by default: the seed of generated cases, and the same verdicts run after run."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

import conformance.fuzz.checks as fuzz_checks
from conformance.profiles import OPENAI
from conformance.registry import registry
from conformance.runner import RunResult, run_checks
from conformance.seeds import DEFAULT_SEED, MAX_SEED, parse_seed, replay_hint, seed_of
from conformance.target import Target
from tests.fuzz.apps import KEY, MODEL, Variant, build_app
from tests.live import serve

FUZZ_IDS = sorted({*fuzz_checks.CHECK_IDS.values(), "fuzz.run.completed"})


def test_seed_defaults_to_the_fixed_seed() -> None:
    assert parse_seed(None) == DEFAULT_SEED == 0
    assert seed_of(SimpleNamespace(seed=None)) == DEFAULT_SEED
    assert seed_of(SimpleNamespace(seed=42)) == 42


@pytest.mark.parametrize(
    ("value", "expected"),
    [("7", 7), (7, 7), (" 12 ", 12), (str(MAX_SEED), MAX_SEED)],
    ids=["text", "int", "spaces", "largest"],
)
def test_seed_parses_an_integer(value: str | int, expected: int) -> None:
    assert parse_seed(value) == expected


def test_seed_random_draws_one_within_range() -> None:
    asked: list[int] = []

    def draw(bound: int) -> int:
        asked.append(bound)
        return 31337

    assert parse_seed("random", draw=draw) == 31337
    assert parse_seed("RANDOM", draw=draw) == 31337
    assert asked == [MAX_SEED + 1, MAX_SEED + 1]
    assert 0 <= parse_seed("random") <= MAX_SEED


@pytest.mark.parametrize(
    "value",
    ["-1", "x", "1.5", str(MAX_SEED + 1), True],
    ids=["neg", "word", "float", "big", "bool"],
)
def test_seed_rejects_a_bad_value_naming_it_and_the_choices(value: object) -> None:
    with pytest.raises(ValueError, match=r"seed .* is not valid.*'random'") as caught:
        parse_seed(value)  # type: ignore[arg-type]
    assert repr(value) in str(caught.value)


def test_seed_replay_hint_names_the_option() -> None:
    assert replay_hint(5) == "parity check --level deep --seed 5"


def test_cli_resolves_the_default_seed_and_refuses_a_bad_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from conformance.cli import main
    from conformance.commands.check import UsageError, resolve

    def args(seed: str | None) -> SimpleNamespace:
        return SimpleNamespace(
            base_url="http://127.0.0.1:9/v1",
            api_key=None,
            level="deep",
            model=[],
            only=[],
            skip=[],
            profile="openai",
            report_dir=None,
            max_requests=None,
            seed=seed,
            fuzz_requests=None,
            concurrency=1,
            check_timeout=10.0,
        )

    assert resolve(args(None), environ={}).seed == DEFAULT_SEED  # type: ignore[arg-type]
    assert resolve(args("9"), environ={}).seed == 9  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="'soon'"):
        resolve(args("soon"), environ={})  # type: ignore[arg-type]
    assert main(["check", "--base-url", "http://127.0.0.1:9/v1", "--seed", "soon"]) == 2
    assert "'soon'" in capsys.readouterr().err


def _outcomes(variant: Variant, seed: int | None) -> tuple[dict[str, str], dict[str, bytes]]:
    """Every fuzz check's outcome, and the request behind each finding, for one full run."""
    with serve(build_app(variant)) as origin:
        target = Target(
            base_url=f"{origin}/v1",
            api_key=KEY,
            level="deep",
            profile=OPENAI,
            models={"chat": MODEL},
            max_requests=400,
            seed=seed,
        )
        specs = [registry.get(check_id) for check_id in FUZZ_IDS]
        run: RunResult = asyncio.run(run_checks(target, specs, discover=False, check_timeout=90))
    outcomes = {r.id: str(r.outcome) for r in run.results}
    requests = {r.id: r.evidence.request_body for r in run.results if r.evidence is not None}
    return outcomes, requests


@pytest.mark.slow
@pytest.mark.parametrize(
    ("variant", "seed"),
    [("lax_ranges", None), ("lax_ranges", 1), ("bad_seventh_chunk", None), ("legal", None)],
    ids=["lax-default-seed", "lax-seed-1", "bad-chunk-default-seed", "legal-default-seed"],
)
def test_fuzz_same_options_give_the_same_outcome_for_every_check(
    variant: Variant, seed: int | None
) -> None:
    # At this budget some seeds catch the accepted out-of-range values of `lax_ranges` and
    # others miss them: with a fresh seed per run the verdict was a coin. Now the seed is fixed,
    # and whichever way a seed goes, it goes that way every run.
    first, first_requests = _outcomes(variant, seed)
    second, second_requests = _outcomes(variant, seed)
    assert first == second
    assert first_requests == second_requests
    assert set(first) == set(FUZZ_IDS)
    if variant == "legal":
        assert set(first.values()) == {"passed"}, first
    elif variant == "bad_seventh_chunk":
        assert first["fuzz.stream.chunk_schema"] == "failed", first
