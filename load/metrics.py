"""Latency and throughput metrics of a load run, derived from raw per-request records.

Owns the record shape written to ``requests.jsonl`` (:class:`RequestRecord`), the per-request
derivation (:func:`derive`) and the run aggregates (:func:`summarize`). Definitions follow vLLM's
``bench serve`` semantics (vllm docs/benchmarking/cli.md, "Understanding the Latency Metrics"),
with the deviations noted where they occur:

- ``start``: the scheduled send time in open-loop runs (no coordinated omission), else the send.
- TTFT = first token event (content, tool call or reasoning delta) - start. The role-only first
  chunk does not count (vLLM counts it; SGLang and xk6-llm do not). Time to headers separately.
  Responses streams: the first ``response.output_text.delta``. Realtime: counted from the
  ``response.create`` the deltas answer (the record's ``request_ms`` mark), not from the connect.
- ITL = every gap between consecutive token events, pooled across requests (vLLM); plus the
  per-request mean gap (GuideLLM/AIPerf "ITL").
- TPOT = (E2E - TTFT) / (output tokens - 1), output tokens from ``usage.completion_tokens`` when
  present, else the number of token events (a mismatch is counted, not hidden).
- E2E = end of the response (``[DONE]`` or the last byte) - start.

Must not: perform I/O or import locust; every figure comes from the records, none is assumed.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, NotRequired, TypedDict

__all__ = [
    "TOKEN_KINDS",
    "ChunkKind",
    "Distribution",
    "ErrorClass",
    "RequestMetrics",
    "RequestRecord",
    "RunSummary",
    "Usage",
    "derive",
    "distribution",
    "percentile",
    "summarize",
]

ChunkKind = Literal["role", "content", "reasoning", "tool", "usage", "error", "session", "other"]
# Events that carry generated tokens: these start TTFT and delimit ITL gaps.
TOKEN_KINDS: frozenset[str] = frozenset({"content", "reasoning", "tool"})
ErrorClass = Literal[
    "connect",
    "timeout",
    "disconnect",
    "stream_error",
    "protocol",
    "rate_limited",
    "insufficient_quota",
    "http_4xx",
    "http_5xx",
]
# Gaps shorter than this are "bursts": events that arrived together (proxy or client batching).
BURST_GAP_MS = 1.0


class Usage(TypedDict, total=False):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    credits_used: float


class RequestRecord(TypedDict):
    """One line of ``requests.jsonl``. Times: ``sched``/``send`` are Unix seconds; the rest are
    milliseconds after ``send``. ``chunks`` rows are ``[ms_after_send, kind, tokens]``."""

    kind: str
    model: str
    key: str | None
    step: int | None
    sched: float | None
    send: float
    headers_ms: float | None
    end_ms: float | None
    status: int | None
    error: str | None
    detail: str | None
    chunks: Sequence[Sequence[float | str | int]]
    usage: Usage | None
    credits: float | None
    retry_after: float | None
    deployment: str | None
    # The overhead scenario's side of a request: "gateway", "direct" or "aa" (direct again).
    side: NotRequired[str]
    # Milestones in ms after ``send``: realtime ``session_created_ms`` and ``request_ms`` (the
    # ``response.create`` its deltas answer, where its TTFT starts).
    marks: NotRequired[dict[str, float]]
    # Bytes of the response body (images, audio, transcriptions: what the client received).
    body_bytes: NotRequired[int]


class Distribution(TypedDict):
    count: int
    mean: float | None
    p50: float | None
    p90: float | None
    p95: float | None
    p99: float | None
    max: float | None


@dataclass(frozen=True, slots=True)
class RequestMetrics:
    """What one record says, in milliseconds (``None`` when the request did not get that far)."""

    ok: bool
    error: str | None
    lateness_ms: float
    headers_ms: float | None
    ttft_ms: float | None
    ttft_from_send_ms: float | None
    e2e_ms: float | None
    gaps_ms: tuple[float, ...]
    itl_mean_ms: float | None
    tpot_ms: float | None
    output_tokens: int
    token_events: int
    token_mismatch: bool


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default method) of already sorted values."""
    if not sorted_values:
        raise ValueError("percentile of no values")
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"percentile must be within [0, 100], got {q!r}")
    rank = (len(sorted_values) - 1) * q / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (rank - low)


def distribution(values: Iterable[float]) -> Distribution:
    ordered = sorted(values)
    if not ordered:
        return Distribution(count=0, mean=None, p50=None, p90=None, p95=None, p99=None, max=None)

    def q(p: float) -> float:
        return round(percentile(ordered, p), 3)

    return Distribution(
        count=len(ordered),
        mean=round(math.fsum(ordered) / len(ordered), 3),
        p50=q(50),
        p90=q(90),
        p95=q(95),
        p99=q(99),
        max=round(ordered[-1], 3),
    )


def derive(record: RequestRecord) -> RequestMetrics:
    """Per-request metrics; latencies count from the scheduled time when there is one."""
    sched = record["sched"]
    lateness_ms = max(0.0, (record["send"] - sched) * 1000.0) if sched is not None else 0.0
    token_times = [float(row[0]) for row in record["chunks"] if row[1] in TOKEN_KINDS]
    gaps = tuple(b - a for a, b in itertools.pairwise(token_times))
    origin = (record.get("marks") or {}).get("request_ms", 0.0)
    ttft_send = token_times[0] - origin if token_times else None
    ttft = None if ttft_send is None else ttft_send + lateness_ms
    end = record["end_ms"]
    e2e = None if end is None else end + lateness_ms
    usage = record["usage"] or {}
    counted = len(token_times)
    reported = usage.get("completion_tokens")
    tokens = int(reported) if isinstance(reported, int) else counted
    tpot = None
    if ttft is not None and e2e is not None and tokens > 1:
        tpot = (e2e - origin - ttft) / (tokens - 1)
    headers = record["headers_ms"]
    return RequestMetrics(
        ok=record["error"] is None and record["status"] is not None and record["status"] < 400,
        error=record["error"],
        lateness_ms=lateness_ms,
        headers_ms=None if headers is None else headers + lateness_ms,
        ttft_ms=ttft,
        ttft_from_send_ms=ttft_send,
        e2e_ms=e2e,
        gaps_ms=gaps,
        itl_mean_ms=(math.fsum(gaps) / len(gaps)) if gaps else None,
        tpot_ms=tpot,
        output_tokens=tokens,
        token_events=counted,
        token_mismatch=isinstance(reported, int) and counted > 0 and reported != counted,
    )


class RunSummary(TypedDict):
    requests: int
    successes: int
    failures: dict[str, int]
    error_rate: float
    window_s: float
    rps: float
    output_tokens: int
    output_tokens_per_s: float
    goodput: float
    goodput_ratio: float
    ttft_ms: Distribution
    ttft_from_send_ms: Distribution
    headers_ms: Distribution
    itl_ms: Distribution
    itl_request_mean_ms: Distribution
    tpot_ms: Distribution
    e2e_ms: Distribution
    lateness_ms: Distribution
    burst_gap_share: float | None
    chunks_per_token: float | None
    token_count_mismatches: int


# Per-request criteria a goodput SLO may name: metric -> RequestMetrics attribute.
GOODPUT_FIELDS = {"ttft": "ttft_ms", "e2e": "e2e_ms", "tpot": "tpot_ms", "itl": "itl_mean_ms"}


def _good(metrics: RequestMetrics, limits: dict[str, float]) -> bool:
    if not metrics.ok:
        return False
    for name, limit in limits.items():
        value = getattr(metrics, GOODPUT_FIELDS[name])
        if value is not None and value >= limit:
            return False
    return True


def summarize(
    records: Sequence[RequestRecord],
    *,
    window_s: float | None = None,
    goodput_limits: dict[str, float] | None = None,
) -> RunSummary:
    """Aggregate records. ``window_s`` defaults to first send .. last completion.

    Latency distributions take successful requests only (a failed request has no TTFT to speak
    of); the failures are counted by class. ``goodput_limits`` maps ttft/e2e/tpot/itl to a
    per-request limit in ms (from the ``--slo`` expressions): goodput counts successful requests
    under every limit (DistServe's definition, as in vLLM ``--goodput``).
    """
    derived = [derive(r) for r in records]
    ok = [m for m in derived if m.ok]
    failures = Counter(m.error or "http_error" for m in derived if not m.ok)
    if window_s is None:
        starts = [r["sched"] if r["sched"] is not None else r["send"] for r in records]
        ends = [r["send"] + (r["end_ms"] or 0.0) / 1000.0 for r in records]
        window_s = (max(ends) - min(starts)) if records else 0.0
    window = max(window_s, 1e-9)
    gaps = [g for m in ok for g in m.gaps_ms]
    tokens = sum(m.output_tokens for m in ok)
    events = sum(m.token_events for m in ok)
    good = sum(1 for m in ok if _good(m, goodput_limits or {}))
    total = len(derived)

    def dist(attr: str, rows: Sequence[RequestMetrics] = ok) -> Distribution:
        return distribution(v for m in rows if (v := getattr(m, attr)) is not None)

    return RunSummary(
        requests=total,
        successes=len(ok),
        failures=dict(sorted(failures.items())),
        error_rate=round((total - len(ok)) / total, 6) if total else 0.0,
        window_s=round(window_s, 3),
        rps=round(total / window, 3),
        output_tokens=tokens,
        output_tokens_per_s=round(tokens / window, 3),
        goodput=round(good / window, 3),
        goodput_ratio=round(good / total, 6) if total else 0.0,
        ttft_ms=dist("ttft_ms"),
        ttft_from_send_ms=dist("ttft_from_send_ms"),
        headers_ms=dist("headers_ms"),
        itl_ms=distribution(gaps),
        itl_request_mean_ms=dist("itl_mean_ms"),
        tpot_ms=dist("tpot_ms"),
        e2e_ms=dist("e2e_ms"),
        lateness_ms=dist("lateness_ms", derived),
        burst_gap_share=(
            round(sum(1 for g in gaps if g < BURST_GAP_MS) / len(gaps), 6) if gaps else None
        ),
        chunks_per_token=round(events / tokens, 4) if tokens and events else None,
        token_count_mismatches=sum(1 for m in ok if m.token_mismatch),
    )
