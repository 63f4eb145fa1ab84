"""Verdict rules of the drills: pure functions from what the client saw and what the upstreams'
truth ledgers say they served, to a list of problems (empty: the drill passes).

Must not: do I/O or read clocks; drills gather the facts, these rules judge them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

__all__ = [
    "ClientStream",
    "Served",
    "expected_credits",
    "judge_all_down",
    "judge_budget",
    "judge_credits",
    "judge_fallback",
    "judge_midstream",
    "judge_rate",
    "judge_recovery",
    "steady_window",
]

_MTOK = Decimal(1_000_000)
_MICRO = Decimal("0.000001")


@dataclass(frozen=True, slots=True)
class Served:
    """One truth-ledger entry: what an upstream really served."""

    upstream: str
    status: int
    completed: bool
    prompt_tokens: int
    completion_tokens: int
    text: str
    fault: str | None = None
    finished_at: float = 0.0
    # An upstream speaking another API than OpenAI's records, in that API's own terms, what it
    # was asked (``received``) and what it answered (``answered``: the ledger's ``served``).
    dialect: str = "openai"
    received: Mapping[str, Any] | None = None
    answered: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ClientStream:
    """What a streaming client saw."""

    status: int | None
    text: str
    done: bool  # a data: [DONE] arrived
    errors: int  # in-stream error events
    cut: bool  # the transfer ended early (transport error)
    non_json: int = 0  # data payloads that were not JSON


def expected_credits(
    prompt_tokens: int | Decimal,
    completion_tokens: int,
    input_per_mtok: Decimal,
    output_per_mtok: Decimal,
    surcharge_rate: Decimal = Decimal(0),
) -> Decimal:
    """price x tokens, times (1 + surcharge), rounded half-up to one micro-credit."""
    base = (prompt_tokens * input_per_mtok + completion_tokens * output_per_mtok) / _MTOK
    return (base * (1 + surcharge_rate)).quantize(_MICRO, rounding=ROUND_HALF_UP)


def judge_credits(
    reported: Decimal | None, expected: Decimal, tolerance: Decimal, what: str
) -> list[str]:
    if reported is None:
        return [f"{what}: the gateway reported no credits"]
    if abs(reported - expected) > tolerance:
        return [
            f"{what}: the gateway charged {reported} credits; the upstream's truth ledger "
            f"prices what it served at {expected} (tolerance {tolerance})"
        ]
    return []


def judge_fallback(
    status: int | None,
    answer_text: str | None,
    served: Sequence[Served],
    elapsed_s: float,
    bound_s: float,
) -> list[str]:
    """Primary failed before its first byte: the client gets one whole answer, in time."""
    problems: list[str] = []
    if status != 200:
        problems.append(f"the client got status {status!r}, not a normal answer (200)")
    if elapsed_s > bound_s:
        problems.append(f"the answer took {elapsed_s:.2f} s; the profile allows {bound_s:.2f} s")
    completed = [s for s in served if s.completed]
    if status == 200 and answer_text is not None:
        if not completed:
            problems.append("no upstream completed an answer, yet the client got one")
        elif not any(answer_text == s.text for s in completed):
            problems.append(
                f"the client's text ({answer_text[:80]!r}) is not the text an upstream served "
                f"({[s.text[:80] for s in completed]!r}): duplicated or spliced output"
            )
    return problems


def judge_midstream(seen: ClientStream, served: Sequence[Served]) -> tuple[list[str], list[str]]:
    """Primary failed after the commit point: (problems, notes).

    The client must learn the answer is incomplete (an in-stream error event; a cut transfer
    is noted as a weaker signal), must not get ``[DONE]`` (the SDK would present a truncated
    answer as complete), and its text must come from one upstream only.
    """
    problems: list[str] = []
    notes: list[str] = []
    if seen.done:
        problems.append("the stream ended with [DONE]: a truncated answer is presented as complete")
    if not seen.errors and not seen.cut:
        problems.append("the stream ended without an in-stream error event or a cut transfer")
    elif not seen.errors:
        notes.append("the stream was cut without an in-stream error event")
    texts = [s.text for s in served if s.status == 200]
    if seen.text and not any(t.startswith(seen.text) for t in texts):
        problems.append(
            f"the client's text ({seen.text[:120]!r}) is not a prefix of any single upstream's "
            f"served text ({[t[:60] for t in texts]!r}): text from two upstreams was spliced"
        )
    return problems, notes


def judge_all_down(
    status: int | None, error_object: bool, elapsed_s: float, bound_s: float, hung: bool
) -> list[str]:
    problems: list[str] = []
    if hung:
        return [f"no answer within {bound_s:.2f} s: the gateway hangs when every upstream is down"]
    if status is None or not 500 <= status <= 599:
        problems.append(f"status {status!r}; every deployment down must be a 5xx (503 or 502)")
    if not error_object:
        problems.append(
            "the body is not OpenAI's error object ({'error': {'message', 'type', ...}})"
        )
    if elapsed_s > bound_s:
        problems.append(f"the error took {elapsed_s:.2f} s; the profile allows {bound_s:.2f} s")
    return problems


def judge_budget(
    budget: Decimal,
    charged: Decimal,
    truth_cost: Decimal,
    rejections: Sequence[tuple[int | None, str | None]],
    tolerance: Decimal,
) -> list[str]:
    """N concurrent requests against budget B: charged <= B; refusals are insufficient_quota."""
    problems: list[str] = []
    if charged > budget + tolerance:
        problems.append(f"the gateway charged {charged} credits against a budget of {budget}")
    if truth_cost > budget + tolerance:
        problems.append(
            f"the upstreams served {truth_cost} credits' worth for a key with a budget of {budget}"
        )
    for status, code in rejections:
        if status != 429 or code != "insufficient_quota":
            problems.append(
                f"a refusal answered status {status!r} code {code!r}; a spent budget is a 429 "
                "insufficient_quota"
            )
            break
    return problems


def steady_window(period_s: float, periods: int) -> tuple[float, float]:
    """The measured span: after the first period (bursts allowed there), to the run's end."""
    return period_s, period_s * periods


def judge_rate(
    accepted_at: Sequence[float],
    refusals: Sequence[tuple[int | None, bool]],
    limit: int,
    period_s: float,
    periods: int,
) -> list[str]:
    """Accepted rate in the steady window within 5% of the limit (+-1 request per window edge,
    the quantisation of counting whole requests); every 429 carries Retry-After."""
    problems: list[str] = []
    start, end = steady_window(period_s, periods)
    measured = sum(1 for at in accepted_at if start <= at < end)
    expected = limit * (end - start) / period_s
    slack = 0.05 * expected + 2
    if abs(measured - expected) > slack:
        problems.append(
            f"{measured} requests accepted in [{start:g} s, {end:g} s); a limit of {limit} per "
            f"{period_s:g} s allows {expected:g} (+-{slack:g})"
        )
    missing = [status for status, has_retry in refusals if status == 429 and not has_retry]
    if missing:
        problems.append(f"{len(missing)} of {len(refusals)} 429 answers lack Retry-After")
    others = sorted({status for status, _ in refusals if status != 429}, key=str)
    if others:
        problems.append(f"refusals with status {others!r}; a rate limit answers 429")
    return problems


def judge_recovery(
    healed_at: float,
    first_primary_at: float | None,
    window_s: float,
    poll_s: float,
    failures: int,
) -> list[str]:
    problems: list[str] = []
    if failures:
        problems.append(f"{failures} client requests failed while the primary was down or healing")
    bound = window_s * 1.1 + poll_s
    if first_primary_at is None:
        problems.append(
            f"traffic never returned to the primary within {bound:.2f} s of it healing "
            f"(circuit window {window_s:g} s)"
        )
    elif first_primary_at - healed_at > bound:
        problems.append(
            f"traffic returned to the primary {first_primary_at - healed_at:.2f} s after it "
            f"healed; the circuit window is {window_s:g} s"
        )
    return problems
