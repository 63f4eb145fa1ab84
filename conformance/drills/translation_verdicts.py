"""Verdict rules of the translation drills: what the client sent and saw, against what a
non-OpenAI upstream's truth ledger says it received and served in its own dialect.

Pure functions to lists of problems (empty: the rule holds). The ledger's shapes are those of
``parity upstream --dialect anthropic`` (README, "parity upstream"): ``received`` holds the
system prompt's text and each message's role, text, ``tool_uses`` and ``tool_results``;
``served`` the ``stop_reason``, the ``tool_calls`` (input JSON as it left) and ``usage``.
The rules compare meaning, not spelling: texts word by word (a gateway may join two messages
of one role into one), JSON by value, tool-call ids by how they pair, not by their spelling.

Must not: do I/O or read clocks.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from conformance.drills.profile import Route
from conformance.drills.verdicts import Served, expected_credits

__all__ = [
    "ANTHROPIC_FINISH",
    "ClientCall",
    "judge_finish",
    "judge_prompt",
    "judge_round_trip",
    "judge_tool_calls",
    "judge_truncation",
    "judge_usage",
    "ledger_usage",
    "sent_turns",
    "served_cost",
]

# Anthropic's stop_reason (API reference, "Messages": stop_reason) -> the OpenAI finish_reason
# that says the same (CreateChatCompletionResponse.choices[].finish_reason: "stop" if the model
# hit a natural stop point or a provided stop sequence, "length" if the maximum number of
# tokens was reached, "content_filter", "tool_calls" if the model called a tool).
ANTHROPIC_FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
# The least max_tokens any Claude model allows (Anthropic "Models overview"): a gateway that
# sends less when the client set no limit cuts answers the model would have finished.
MIN_DEFAULT_MAX_TOKENS = 4096

ClientCall = tuple[str | None, str | None, Any]  # (id, name, arguments) as the client saw it


def _words(text: Any) -> list[str]:
    return str(text or "").split()


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return " ".join(
        str(p.get("text") or "")
        for p in content or ()
        if isinstance(p, Mapping) and p.get("type") == "text"
    )


def sent_turns(messages: Sequence[Mapping[str, Any]]) -> tuple[list[str], list[tuple[str, str]]]:
    """(system texts, (role, text) turns with runs of one role joined) of OpenAI messages."""
    system: list[str] = []
    turns: list[tuple[str, str]] = []
    for message in messages:
        role, text = str(message.get("role")), _content_text(message.get("content"))
        if role in ("system", "developer"):
            system.append(text)
        elif turns and turns[-1][0] == role:
            turns[-1] = (role, turns[-1][1] + " " + text)
        else:
            turns.append((role, text))
    return system, turns


def _received_turns(received: Mapping[str, Any]) -> list[tuple[str, str]]:
    turns: list[tuple[str, str]] = []
    for message in received.get("messages") or ():
        role, text = str(message.get("role")), str(message.get("text") or "")
        if turns and turns[-1][0] == role:
            turns[-1] = (role, turns[-1][1] + " " + text)
        else:
            turns.append((role, text))
    return turns


def judge_prompt(messages: Sequence[Mapping[str, Any]], received: Mapping[str, Any]) -> list[str]:
    """Every system / developer text arrived in the upstream's system prompt, in order, and the
    conversation arrived turn by turn with its roles and words."""
    problems: list[str] = []
    system_texts, turns = sent_turns(messages)
    upstream_system = " ".join(_words(received.get("system")))
    position = 0
    for text in system_texts:
        wanted = " ".join(_words(text))
        found = upstream_system.find(wanted, position)
        if found < 0:
            where = (
                "it is missing from the upstream's system prompt"
                if wanted not in " ".join(" ".join(_words(t)) for _, t in _received_turns(received))
                else "it arrived as conversation text, not as the system prompt"
            )
            problems.append(f"the client's system/developer text {text[:60]!r}: {where}")
            continue
        position = found + len(wanted)
    arrived = [(role, _words(text)) for role, text in _received_turns(received)]
    expected = [(role, _words(text)) for role, text in turns]
    if arrived != expected:
        problems.append(
            f"the conversation arrived as {[(r, ' '.join(w)[:40]) for r, w in arrived]!r}; the "
            f"client sent {[(r, ' '.join(w)[:40]) for r, w in expected]!r}"
        )
    return problems


def _same_json(arguments: Any, served_input: Any) -> bool:
    try:
        return bool(json.loads(arguments) == json.loads(served_input))
    except (TypeError, ValueError):
        return False


def judge_tool_calls(
    client: Sequence[ClientCall], served: Sequence[Mapping[str, Any]]
) -> list[str]:
    """Each tool call the upstream emitted reached the client as an OpenAI tool call: same
    order and name, ``arguments`` a JSON string equal to the emitted input, an id of its own."""
    problems: list[str] = []
    if len(client) != len(served):
        return [
            f"the upstream emitted {len(served)} tool call(s) "
            f"({[c.get('name') for c in served]!r}); the client got {len(client)}"
        ]
    ids = [ident for ident, _, _ in client]
    if any(not isinstance(i, str) or not i for i in ids) or len(set(ids)) != len(ids):
        problems.append(f"tool call ids {ids!r}: each call needs an id of its own")
    for n, ((_, name, arguments), emitted) in enumerate(zip(client, served, strict=True)):
        if name != emitted.get("name"):
            problems.append(f"call {n}: name {name!r}; the upstream called {emitted.get('name')!r}")
        if not isinstance(arguments, str):
            problems.append(
                f"call {n}: arguments is a {type(arguments).__name__}, not the JSON string "
                "OpenAI clients parse"
            )
        elif not _same_json(arguments, emitted.get("input")):
            problems.append(
                f"call {n}: arguments {arguments[:80]!r} are not the input the upstream emitted "
                f"({str(emitted.get('input'))[:80]!r})"
            )
    return problems


def judge_round_trip(
    calls: Sequence[Mapping[str, Any]],
    results: Sequence[str],
    emitted: Sequence[Mapping[str, Any]],
    received: Mapping[str, Any],
) -> list[str]:
    """The client sent back its ``calls`` and a tool message per call (``results``): the
    upstream received them as its own tool uses (the inputs it emitted) answered, in the
    next message, by tool results that pair with them and carry the client's text."""
    messages = list(received.get("messages") or ())
    uses_at = [i for i, m in enumerate(messages) if m.get("tool_uses")]
    if not uses_at:
        return ["the upstream received no tool use: the client's tool calls were dropped"]
    at = uses_at[-1]
    uses = messages[at]["tool_uses"]
    problems: list[str] = []
    if [u.get("name") for u in uses] != [c["function"]["name"] for c in calls]:
        problems.append(
            f"the upstream received tool uses {[u.get('name') for u in uses]!r}; the client "
            f"sent back calls to {[c['function']['name'] for c in calls]!r}"
        )
    for use, call in zip(uses, emitted, strict=False):
        if not _same_json(use.get("input"), call.get("input")):
            problems.append(
                f"tool use {use.get('name')!r} came back with input {use.get('input')!r}; the "
                f"upstream had emitted {call.get('input')!r}"
            )
    following = messages[at + 1]["tool_results"] if at + 1 < len(messages) else []
    paired = [r.get("tool_use_id") for r in following]
    if paired != [u.get("id") for u in uses]:
        problems.append(
            f"the tool results that followed answer ids {paired!r}; the tool uses were "
            f"{[u.get('id') for u in uses]!r}: they do not pair"
        )
    texts = [_words(r.get("text")) for r in following]
    if texts != [_words(t) for t in results]:
        problems.append(
            f"the tool results arrived as {[' '.join(t)[:40] for t in texts]!r}; the client "
            f"sent {[t[:40] for t in results]!r}"
        )
    return problems


def judge_finish(finish: Any, stop_reason: Any, tool_calls: int) -> list[str]:
    """The client's ``finish_reason`` says what the upstream's ``stop_reason`` said."""
    expected = ANTHROPIC_FINISH.get(stop_reason) if isinstance(stop_reason, str) else None
    if expected is None:
        return [f"the upstream served stop_reason {stop_reason!r}, which the drill cannot map"]
    if expected == "tool_calls" and not tool_calls:
        expected = "stop"
    if finish != expected:
        return [
            f"finish_reason {finish!r} for the upstream's stop_reason {stop_reason!r}; "
            f"expected {expected!r}"
        ]
    return []


def judge_truncation(client_limit: Any, received: Mapping[str, Any], stop_reason: Any) -> list[str]:
    """With no limit from the client, the gateway's own max_tokens must not cut the answer."""
    sent = received.get("max_tokens")
    if client_limit is not None or stop_reason != "max_tokens":
        return []
    if isinstance(sent, int) and sent >= MIN_DEFAULT_MAX_TOKENS:
        return []
    return [
        f"the client set no token limit, yet the gateway sent max_tokens {sent!r} and the "
        f"upstream stopped there (every Claude model allows {MIN_DEFAULT_MAX_TOKENS} or more)"
    ]


def _count(usage: Mapping[str, Any], name: str) -> int:
    value = usage.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def judge_usage(client: Any, served: Any) -> list[str]:
    """The usage the client saw is what the upstream counted: every input token (uncached,
    cache writes, cache reads) in ``prompt_tokens``, cache reads in ``cached_tokens``."""
    if not isinstance(client, Mapping):
        return [f"the client got usage {client!r}, not an object"]
    if not isinstance(served, Mapping):
        return ["the upstream's ledger holds no usage for the answer"]
    read = _count(served, "cache_read_input_tokens")
    prompt = _count(served, "input_tokens") + _count(served, "cache_creation_input_tokens") + read
    output = _count(served, "output_tokens")
    problems: list[str] = []
    for name, expected in (("prompt_tokens", prompt), ("completion_tokens", output)):
        if client.get(name) != expected:
            problems.append(
                f"usage.{name} is {client.get(name)!r}; the upstream counted {expected}"
            )
    if client.get("total_tokens") != prompt + output:
        problems.append(
            f"usage.total_tokens is {client.get('total_tokens')!r}, not {prompt + output}"
        )
    details = client.get("prompt_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, Mapping) else None
    if (cached or 0) != read:
        problems.append(
            f"usage.prompt_tokens_details.cached_tokens is {cached!r}; the upstream read {read} "
            "prompt tokens from its cache"
        )
    return problems


def ledger_usage(entry: Served) -> dict[str, int]:
    """A ledger entry's tokens split as Anthropic counts them: its own ``usage`` breakdown of
    the cache when its dialect records one, everything else from the entry's counts (which
    for a cut stream are what left)."""
    found = (entry.answered or {}).get("usage")
    usage: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    read = _count(usage, "cache_read_input_tokens")
    written = _count(usage, "cache_creation_input_tokens")
    return {
        "input_tokens": max(entry.prompt_tokens - read - written, 0),
        "cache_read_input_tokens": read,
        "cache_creation_input_tokens": written,
        "output_tokens": entry.completion_tokens,
    }


def served_cost(usage: Mapping[str, Any], route: Route, surcharge_rate: Decimal) -> Decimal:
    """What the upstream's ``usage`` costs at the ``route``'s prices, rounded once as
    ``expected_credits`` rounds; cache reads and writes at their own prices when the route
    names them, else at the input price."""
    tokens = Decimal(_count(usage, "input_tokens"))
    extra = Decimal(0)
    for name, price in (
        ("cache_read_input_tokens", route.cache_read_per_mtok),
        ("cache_creation_input_tokens", route.cache_write_per_mtok),
    ):
        count = _count(usage, name)
        if price is None:
            tokens += count
        elif route.input_per_mtok:  # as input tokens at the input price: one rounding for all
            tokens += Decimal(count) * price / route.input_per_mtok
        else:
            extra += expected_credits(count, 0, price, Decimal(0), surcharge_rate)
    output = _count(usage, "output_tokens")
    return extra + expected_credits(
        tokens, output, route.input_per_mtok, route.output_per_mtok, surcharge_rate
    )
