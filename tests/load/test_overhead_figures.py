"""The overhead section's arithmetic, on hand-made records with known answers."""

from __future__ import annotations

from typing import Any

from load.overhead import overhead_section


def stream(side: str, send: float, ttft: float, gap: float, tokens: int = 5) -> Any:
    times = [ttft + i * gap for i in range(tokens)]
    return {
        "kind": "chat-stream",
        "model": "m",
        "key": None,
        "step": None,
        "sched": None,
        "send": send,
        "headers_ms": 1.0,
        "end_ms": times[-1] + 1.0,
        "status": 200,
        "error": None,
        "detail": None,
        "chunks": [[t, "content", 1] for t in times],
        "usage": None,
        "credits": None,
        "retry_after": None,
        "deployment": None,
        "side": side,
    }


def run(gateway_extra: float, aa_extra: float, count: int = 50) -> list[Any]:
    records = []
    for i in range(count):
        jitter = (i % 7) * 0.5
        records.append(stream("gateway", 1000 + i, 50 + jitter + gateway_extra, 10))
        records.append(stream("direct", 1000 + i + 0.1, 50 + jitter, 10))
        records.append(stream("aa", 1000 + i + 0.2, 50 + jitter + aa_extra, 10))
    return records


def test_overhead_figures_added_is_gateway_minus_direct_per_percentile() -> None:
    figures = overhead_section(run(gateway_extra=7.0, aa_extra=0.0), rounds=5)
    added = figures["added"]
    assert added["ttft_ms"]["p50"] == 7.0
    assert added["ttft_ms"]["p99"] == 7.0
    assert added["e2e_ms"]["p90"] == 7.0
    assert added["itl_ms"]["p50"] == 0.0  # a constant shift adds nothing between tokens
    spread = added["ttft_ms"]["spread"]["p50"]
    assert spread == {"min": 7.0, "max": 7.0, "rounds": 5}
    section = figures["overhead"]
    assert section["floor"]["ttft_ms"]["p50"] == 0.0
    # equal to the floor (0) is below it only for ITL, where nothing was added
    assert "ttft_ms.p50" not in section["below_floor"]
    assert "itl_ms.p50" in section["below_floor"]
    assert section["sides"]["gateway"]["requests"] == 50


def test_overhead_figures_added_below_the_a_a_floor_is_flagged() -> None:
    # the two identical sides differ by 3 ms: a 2 ms gateway overhead cannot be told apart
    section = overhead_section(run(gateway_extra=2.0, aa_extra=3.0), rounds=2)["overhead"]
    assert section["floor"]["ttft_ms"]["p50"] == 3.0
    assert "ttft_ms.p50" in section["below_floor"]
    assert section["aa_spread"]["ttft_ms"]["p50"]["max"] == 3.0


def test_overhead_figures_failures_are_counted_not_measured() -> None:
    records = run(gateway_extra=4.0, aa_extra=0.0, count=20)
    records[0]["error"], records[0]["status"] = "http_5xx", 502
    section = overhead_section(records, rounds=3)
    assert section["overhead"]["sides"]["gateway"] == {
        **section["overhead"]["sides"]["gateway"],
        "requests": 20,
        "failures": 1,
    }
    assert section["added"]["ttft_ms"]["p50"] is not None


def test_overhead_figures_rounds_with_too_few_samples_are_left_out() -> None:
    section = overhead_section(run(gateway_extra=5.0, aa_extra=0.0, count=12), rounds=6)
    # 12 requests a side over 6 rounds: 2 a round, under the 5 a round needs
    assert section["added"]["ttft_ms"]["spread"]["p50"] == {"min": None, "max": None, "rounds": 0}
    assert section["added"]["ttft_ms"]["p50"] == 5.0


def test_overhead_figures_a_lucky_zero_a_a_difference_does_not_zero_the_floor() -> None:
    # the A/A side runs 1 ms late in the first half and 1 ms early in the second: over the run
    # the two medians meet, but each round shows the 1 ms the harness cannot tell apart
    records = []
    for i in range(40):
        records.append(stream("gateway", 1000 + i, 60.0, 10))
        records.append(stream("direct", 1000 + i, 50.0 + (i % 3), 10))
        records.append(stream("aa", 1000 + i, 50.0 + (i % 3) + (1.0 if i < 20 else -1.0), 10))
    section = overhead_section(records, rounds=2)["overhead"]
    assert section["aa_spread"]["ttft_ms"]["p50"] == {"min": -1.0, "max": 1.0, "rounds": 2}
    assert section["floor"]["ttft_ms"]["p50"] == 1.0
