"""The words every part of the suite shares: check levels, capabilities and outcomes.

Owns: the closed choices (``Literal`` types) and their tuples in order, so the registry, the
target, the runner, the results and the report writers agree without importing each other.

Must not: import any other module of the suite.
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = [
    "CAPABILITIES",
    "LEVELS",
    "OUTCOMES",
    "SKIP_KINDS",
    "Capability",
    "Level",
    "Outcome",
    "SkipKind",
]

# A check of level ``smoke`` also runs at ``standard`` and ``deep``: the tuple is in that order.
Level = Literal["smoke", "standard", "deep"]
LEVELS: tuple[Level, ...] = get_args(Level)

# What a target may offer; each maps to one model (discovered from the listings or pinned).
Capability = Literal[
    "chat", "embedding", "image", "speech", "transcription", "video", "responses", "realtime"
]
CAPABILITIES: tuple[Capability, ...] = get_args(Capability)

# A check's verdict; only "failed" changes a run's exit status. "accepted" is a failure the run's
# baseline (--baseline) already had: still shown everywhere, but known, so it does not fail.
Outcome = Literal["passed", "failed", "skipped", "warning", "accepted"]
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)

# Why a check was skipped. "requested": the run's options asked for it (--skip, --model CAP=none);
# every other kind is a check the run could not judge: "budget" (--max-requests spent),
# "not_offered" (no model for its capability), "not_served" (its endpoint answered 404 on the
# route itself), "not_fetched" (a URL on another host, see --allow-fetch), "check" (the check's
# own reason: its profile does not promise the feature, or the answer could not tell).
SkipKind = Literal["requested", "budget", "not_offered", "not_served", "not_fetched", "check"]
SKIP_KINDS: tuple[SkipKind, ...] = get_args(SkipKind)
