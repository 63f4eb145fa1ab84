"""Budgets: reservation arithmetic, and the property that no interleaving overspends."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference_server.controls import budgets
from reference_server.controls.metering import Price, Tariff


def test_budgets_reserve_refuses_what_does_not_fit():
    account = budgets.reserve(budgets.Account(), 100, 60)
    assert account == budgets.Account(0, 60)
    with pytest.raises(budgets.BudgetExceededError, match="limit 100"):
        budgets.reserve(account, 100, 41)
    assert budgets.reserve(account, 100, 40) == budgets.Account(0, 100)


def test_budgets_settle_moves_hold_to_spend_at_real_cost():
    account = budgets.Account(10, 60)
    assert budgets.settle(account, 60, 25) == budgets.Account(35, 0)
    assert budgets.release(account, 60) == budgets.Account(10, 0)


def test_budgets_reservation_uses_most_expensive_candidate_and_cap():
    cheap = Price(Decimal("1"), Decimal("5"))
    dear = Price(Decimal("5"), Decimal("25"))
    given_max = budgets.reservation(
        Tariff(),
        [cheap, dear],
        input_tokens=1000,
        max_output_tokens=100,
        default_max_output_tokens=4096,
        surcharge=False,
    )
    assert given_max == 5000 + 2500  # 1000 x 5 + 100 x 25 per Mtok, in micro-credits
    capped = budgets.reservation(
        Tariff(Decimal("0.10")),
        [cheap],
        input_tokens=0,
        max_output_tokens=None,
        default_max_output_tokens=4096,
        surcharge=True,
    )
    assert capped == 22_528  # 4096 x 5 x 1.1 = 22528 micro-credits


def test_budgets_bucket_ids_follow_utc_periods():
    now = 1_790_000_000.0  # 2026-09-21T...Z
    assert budgets.Budget("key", "k1", 10).bucket(now) == "key:k1:total"
    assert budgets.Budget("owner", "u", 10, "day").bucket(now) == "owner:u:2026-09-21"
    assert budgets.Budget("owner", "u", 10, "month").bucket(now) == "owner:u:2026-09"


def test_budgets_rejects_bad_period():
    with pytest.raises(ValueError, match="'week'"):
        budgets.Budget("key", "k", 1, "week")  # type: ignore[arg-type]


# Each request: (max cost reserved, real cost as a fraction of it); an op list interleaves them.
requests = st.lists(st.tuples(st.integers(1, 50), st.floats(0, 1)), min_size=1, max_size=30)


@settings(max_examples=200)
@given(requests, st.integers(0, 200), st.randoms(use_true_random=False))
def test_budgets_no_interleaving_overspends(reqs, limit, rnd):
    """Concurrent reserve/settle/release in any order: spent never exceeds the limit."""
    account = budgets.Account()
    pending = list(range(len(reqs)))  # not yet admitted
    held: list[int] = []
    while pending or held:
        step = rnd.choice(
            ["admit", "finish"] if pending and held else ["admit"] if pending else ["finish"]
        )
        if step == "admit":
            i = pending.pop(rnd.randrange(len(pending)))
            try:
                account = budgets.reserve(account, limit, reqs[i][0])
            except budgets.BudgetExceededError:
                continue
            held.append(i)
        else:
            i = held.pop(rnd.randrange(len(held)))
            amount, fraction = reqs[i]
            if rnd.random() < 0.2:
                account = budgets.release(account, amount)
            else:
                account = budgets.settle(account, amount, int(amount * fraction))
        assert account.spent + account.reserved <= limit
    assert account.reserved == 0
    assert account.spent <= limit
