"""The budget and rate-limit verdicts, judged from the client's side, and their gates."""

from __future__ import annotations

from typing import Any

import pytest

from load.metrics import RequestRecord
from load.scenarios.budget import budget_section
from load.scenarios.budget import default_slos as budget_gates
from load.scenarios.ratelimit import default_slos as rate_gates
from load.scenarios.ratelimit import rate_limit_section, window_problem
from load.slo import evaluate, parse_slo
from tests.load.conftest import run_load


def _record(
    key: str = "k1",
    *,
    status: int = 200,
    credits: float | None = 0.1,
    send: float = 0.0,
    error: str | None = None,
    retry_after: float | None = None,
) -> RequestRecord:
    return {
        "kind": "chat",
        "model": "m",
        "key": key,
        "step": None,
        "sched": None,
        "send": send,
        "headers_ms": 1.0,
        "end_ms": 2.0,
        "status": status,
        "error": error,
        "detail": None,
        "chunks": [],
        "usage": None,
        "credits": credits,
        "retry_after": retry_after,
        "deployment": None,
    }


def _gates(section: dict[str, Any], name: str, gates: list[Any]) -> list[bool]:
    return [v.passed for v in evaluate(gates, {name: section})]


def test_budget_verdict_is_what_the_clients_were_told_not_the_admin_figure():
    # The gateway's ledger says 0.3 (within budget); its answers told the clients 0.5.
    records = [_record(credits=0.1) for _ in range(5)]
    section = budget_section(0.3, records, {"k1": (0.3, 0.0)})
    assert section["verdict_from"] == "client_seen_credits"
    assert section["client_seen_credits"] == 0.5
    assert section["overspend_credits"] == pytest.approx(0.2)
    assert section["budget_kept"] is False
    assert section["admin_spent_credits"] == 0.3  # reported beside the verdict
    assert section["admin_overspend_credits"] == 0
    assert section["admin_matches_clients"] is False
    assert _gates(section, "budget", budget_gates([])) == [False, True]


def test_budget_kept_within_rounding_and_refusals_counted():
    records = [
        *(_record(credits=0.1) for _ in range(3)),
        _record(status=429, credits=None, error="insufficient_quota"),
        _record(status=429, credits=None, error="rate_limited", retry_after=1.0),
    ]
    section = budget_section(0.3, records, {"k1": (0.3, 0.0)})
    assert section["overspend_credits"] == 0
    assert section["budget_kept"] is True
    assert (section["rejections"], section["rejections_well_formed"]) == (2, 1)
    assert section["admin_matches_clients"] is True
    assert _gates(section, "budget", budget_gates([])) == [True, True]


def test_budget_an_answer_without_its_charge_cannot_show_the_budget_kept():
    records = [_record(credits=0.1), _record(credits=None)]
    section = budget_section(1.0, records)
    assert section["credits_unreported"] == 1
    assert section["budget_kept"] is False
    assert "admin_spent_credits" not in section
    assert _gates(section, "budget", budget_gates([])) == [True, False]


def test_budget_gates_yield_to_the_users_own_slo():
    mine = [parse_slo("overspend_credits<=0.5")]
    assert [g.metric for g in budget_gates(mine)] == ["credits_unreported"]


def _offered(limit_per_period: int, period: float, seconds: float, rate: float, accept: int):
    """``rate`` requests per second for ``seconds``; the first ``accept`` of each period after
    an initial burst of ``limit_per_period`` are accepted."""
    records, used = [], {}
    for i in range(int(seconds * rate)):
        t = i / rate
        window = int(t // period)
        used[window] = used.get(window, 0) + 1
        allowed = limit_per_period + (accept if window == 0 else 0) if window == 0 else accept
        ok = used[window] <= allowed
        records.append(_record(status=200 if ok else 429, send=t, retry_after=None if ok else 1.0))
    return records


def test_rate_limit_within_the_limit_after_the_first_period_passes():
    # 10 per 1 s, offered at 20/s for 5 s; the first second's burst is not measured.
    records = _offered(10, 1.0, 5.0, 20.0, accept=10)
    section = rate_limit_section(records, 10, 1.0)
    assert section["excess_requests"] == 0
    assert section["accepted_ratio_to_configured"] == pytest.approx(1.0, abs=0.1)
    assert section["rejected_with_retry_after"] == section["rejected"] > 0
    assert _gates(section, "rate_limit", rate_gates([])) == [True]


def test_rate_limit_a_leaky_limiter_fails_the_default_gate():
    records = _offered(10, 1.0, 5.0, 20.0, accept=14)  # 40 % over after the burst
    section = rate_limit_section(records, 10, 1.0)
    assert section["excess_requests"] > 0
    assert _gates(section, "rate_limit", rate_gates([])) == [False]
    assert rate_gates([parse_slo("rate_limit_excess<=100")]) == []


def test_rate_limit_window_must_show_the_rate():
    assert window_problem(180.0, 60.0) is None
    problem = window_problem(60.0, 60.0)
    assert problem is not None
    assert "at least 3 x --rate-period (180s" in problem


def test_rate_limit_scenario_refuses_a_short_window_before_any_load(fake_target: str) -> None:
    result = run_load(
        "--base-url", fake_target, "--scenario", "rate-limit", "--duration", "30s",
        env={"PARITY_ADMIN_KEY": "sk-unused"},
    )  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    assert "needs --duration of at least 3 x --rate-period (180s" in result.stderr
    assert "Traceback" not in result.stderr
