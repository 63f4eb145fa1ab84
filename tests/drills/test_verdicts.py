"""The drills' verdict rules, as pure functions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from conformance.drills.verdicts import (
    ClientStream,
    Served,
    expected_credits,
    judge_all_down,
    judge_budget,
    judge_credits,
    judge_fallback,
    judge_midstream,
    judge_rate,
    judge_recovery,
)

TEXT = "Calm water lies still."


def served(upstream: str = "fallback", text: str = TEXT, **kw: object) -> Served:
    fields: dict[str, object] = {
        "upstream": upstream,
        "status": 200,
        "completed": True,
        "prompt_tokens": 10,
        "completion_tokens": 5,
        "text": text,
    }
    fields.update(kw)
    return Served(**fields)  # type: ignore[arg-type]


def test_expected_credits_rounds_half_up_to_a_micro_credit() -> None:
    assert expected_credits(1, 0, Decimal("0.5"), Decimal(0)) == Decimal("0.000001")
    assert expected_credits(17, 24, Decimal(3), Decimal(15)) == Decimal("0.000411")
    assert expected_credits(10, 0, Decimal(1), Decimal(0), Decimal("0.10")) == Decimal("0.000011")


def test_credits_within_tolerance_pass_and_others_fail() -> None:
    assert judge_credits(Decimal("0.000412"), Decimal("0.000411"), Decimal("0.000001"), "x") == []
    assert judge_credits(Decimal("0.000413"), Decimal("0.000411"), Decimal("0.000001"), "x")
    assert judge_credits(None, Decimal("0.000411"), Decimal("0.000001"), "x")


def test_fallback_passes_with_the_answering_upstreams_text() -> None:
    failed = served("primary", text="", status=503, completed=False)
    assert judge_fallback(200, TEXT, [failed, served()], 0.2, 1.0) == []


@pytest.mark.parametrize(
    ("status", "text", "elapsed"),
    [(503, None, 0.1), (200, "Calm" + TEXT, 0.1), (200, TEXT, 2.0)],
    ids=["error_status", "duplicated_text", "too_slow"],
)
def test_fallback_fails(status: int, text: str | None, elapsed: float) -> None:
    assert judge_fallback(status, text, [served()], elapsed, 1.0)


def test_midstream_in_stream_error_without_done_passes() -> None:
    seen = ClientStream(200, "Calm water", done=False, errors=1, cut=False)
    assert judge_midstream(seen, [served("primary")]) == ([], [])


def test_midstream_cut_transfer_is_only_a_note() -> None:
    seen = ClientStream(200, "Calm", done=False, errors=0, cut=True)
    problems, notes = judge_midstream(seen, [served("primary")])
    assert problems == []
    assert notes


@pytest.mark.parametrize(
    "seen",
    [
        ClientStream(200, "Calm", done=True, errors=1, cut=False),
        ClientStream(200, "Calm", done=False, errors=0, cut=False),
        ClientStream(200, "Calm" + TEXT, done=False, errors=1, cut=False),
    ],
    ids=["done_after_cut", "silent_end", "spliced"],
)
def test_midstream_fails(seen: ClientStream) -> None:
    problems, _ = judge_midstream(seen, [served("primary", text="Calm"), served()])
    assert problems


def test_all_down_rules() -> None:
    assert judge_all_down(503, True, 0.1, 3.0, hung=False) == []
    assert judge_all_down(502, True, 0.1, 3.0, hung=False) == []
    assert judge_all_down(None, False, 3.0, 3.0, hung=True)
    assert judge_all_down(200, True, 0.1, 3.0, hung=False)
    assert judge_all_down(503, False, 0.1, 3.0, hung=False)
    assert judge_all_down(503, True, 4.0, 3.0, hung=False)


def test_budget_rules() -> None:
    tol = Decimal("0.000001")
    ok = [(429, "insufficient_quota")]
    assert judge_budget(Decimal("0.001"), Decimal("0.0009"), Decimal("0.0009"), ok, tol) == []
    assert judge_budget(Decimal("0.001"), Decimal("0.0027"), Decimal("0.0009"), ok, tol)
    assert judge_budget(Decimal("0.001"), Decimal("0.0009"), Decimal("0.0027"), ok, tol)
    wrong = [(429, "rate_limit_exceeded")]
    assert judge_budget(Decimal("0.001"), Decimal("0.0009"), Decimal("0.0009"), wrong, tol)


def test_rate_rules() -> None:
    # Limit 20 per 1 s over 3 periods: 40 expected in [1 s, 3 s).
    burst = [0.01 * i for i in range(20)]
    steady = [1 + 0.05 * i for i in range(40)]
    assert judge_rate(burst + steady, [(429, True)], 20, 1.0, 3) == []
    assert judge_rate(burst + steady + steady, [(429, True)], 20, 1.0, 3)  # doubled
    assert judge_rate(burst + steady[:30], [(429, True)], 20, 1.0, 3)  # throttled below
    assert judge_rate(burst + steady, [(429, False)], 20, 1.0, 3)  # no Retry-After
    assert judge_rate(burst + steady, [(503, True)], 20, 1.0, 3)  # not a 429


def test_recovery_rules() -> None:
    assert judge_recovery(10.0, 10.9, 1.0, 0.1, failures=0) == []
    assert judge_recovery(10.0, None, 1.0, 0.1, failures=0)
    assert judge_recovery(10.0, 12.0, 1.0, 0.1, failures=0)
    assert judge_recovery(10.0, 10.5, 1.0, 0.1, failures=1)
