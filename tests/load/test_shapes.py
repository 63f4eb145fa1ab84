"""Open-loop schedules and sweep steps."""

from __future__ import annotations

import itertools

import pytest

from load.shapes import ArrivalSchedule, Steps, parse_duration, parse_rate, parse_steps


def test_shapes_constant_schedule_is_evenly_spaced() -> None:
    schedule = ArrivalSchedule(4.0, "constant", 100.0)
    assert [schedule.claim() for _ in range(3)] == [100.0, 100.25, 100.5]


def test_shapes_poisson_schedule_has_the_asked_mean_rate() -> None:
    schedule = ArrivalSchedule(50.0, "poisson", 0.0, seed=7)
    times = [schedule.claim() for _ in range(5000)]
    assert 5000 / times[-1] == pytest.approx(50.0, rel=0.05)
    assert len({round(b - a, 9) for a, b in itertools.pairwise(times)}) > 4000  # not constant


def test_shapes_share_splits_the_rate_between_processes() -> None:
    schedule = ArrivalSchedule(10.0, "constant", 0.0)
    schedule.share = 0.5
    schedule.claim()
    assert schedule.claim() == pytest.approx(0.2)


def test_shapes_rate_sweep_ends_after_the_last_stage() -> None:
    schedule = ArrivalSchedule(1.0, "constant", 0.0, steps=Steps((2.0, 4.0), 1.0))
    times = []
    while (at := schedule.claim()) is not None:
        times.append(at)
    assert len(times) == 6  # 2 in the first second, 4 in the second
    assert schedule.step_at(1.5) == 1


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30", 30.0), ("30s", 30.0), ("2m", 120.0), ("1m30s", 90.0)],
    ids=["bare", "s", "m", "ms"],
)
def test_shapes_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    "text", ["", "x", "5q", "-3s", "0"], ids=["empty", "word", "unit", "neg", "zero"]
)
def test_shapes_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match=repr(text)):
        parse_duration(text)


def test_shapes_parse_rate_and_steps() -> None:
    assert parse_rate("20/s") == 20.0
    assert parse_rate("600/m") == 10.0
    assert parse_steps("1, 2,4") == (1.0, 2.0, 4.0)
    with pytest.raises(ValueError, match="malformed rate"):
        parse_rate("fast")
    with pytest.raises(ValueError, match="positive"):
        parse_steps("0,1")


def test_shapes_schedule_ends_at_the_run_end() -> None:
    schedule = ArrivalSchedule(4.0, "constant", 0.0, end=1.0)
    times = []
    while (at := schedule.claim()) is not None:
        times.append(at)
    assert times == [0.0, 0.25, 0.5, 0.75]
