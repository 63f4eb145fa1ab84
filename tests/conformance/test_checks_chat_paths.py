from __future__ import annotations

from typing import Any

import pytest

from tests.conformance.fakes.base import API_KEY, Knobs


def top(**change: Any) -> Any:
    return lambda p: {**p, **change}


def first_choice(**change: Any) -> Any:
    return lambda p: {**p, "choices": [{**p["choices"][0], **change}, *p["choices"][1:]]}


def message(**change: Any) -> Any:
    return first_choice_with(lambda c: {**c, "message": {**c["message"], **change}})


def first_choice_with(edit: Any) -> Any:
    return lambda p: {**p, "choices": [edit(p["choices"][0]), *p["choices"][1:]]}


def when_content(content: str, edit: Any) -> Any:
    return lambda p: edit(p) if p["choices"][0]["message"]["content"] == content else p


def drop(key: str) -> Any:
    return lambda p: {k: v for k, v in p.items() if k != key}


def logprob_entries(edit: Any) -> Any:
    def apply(p: dict[str, Any]) -> dict[str, Any]:
        logprobs = p["choices"][0]["logprobs"]
        if logprobs is None:
            return p
        content = [edit(e) for e in logprobs["content"]]
        return first_choice(logprobs={**logprobs, "content": content})(p)

    return apply


FAILED = [
    ("chat.completion.shape", Knobs(mutate_completion=drop("id")), "id is None"),
    ("chat.completion.shape", Knobs(mutate_completion=drop("created")), "created is absent"),
    ("chat.completion.shape", Knobs(mutate_completion=top(choices=[])), "non-empty list"),
    ("chat.completion.shape", Knobs(mutate_completion=top(model=None)), "model is None"),
    ("chat.completion.shape", Knobs(mutate_completion=top(choices=["x"])), "choices[0] is 'x'"),
    ("chat.completion.shape", Knobs(mutate_completion=message(role="user")), "role is 'user'"),
    ("chat.completion.shape", Knobs(mutate_completion=message(content=7)), "content is 7"),
    ("chat.completion.shape", Knobs(mutate_completion=first_choice(index="0")), "index is '0'"),
    ("chat.completion.shape", Knobs(mutate_completion=first_choice(message=None)), "message is"),
    (
        "chat.completion.shape",
        Knobs(mutate_completion=first_choice(finish_reason="end_turn")),
        "'end_turn'",
    ),
    ("chat.completion.created_seconds", Knobs(mutate_completion=top(created="1")), "str"),
    ("chat.completion.created_seconds", Knobs(mutate_completion=top(created=1.0)), "float"),
    ("chat.completion.created_seconds", Knobs(mutate_completion=top(created=1)), "more than a day"),
    ("chat.completion.usage", Knobs(mutate_completion=top(usage=None)), "not an object"),
    ("chat.completion.shape", Knobs(mutate_completion=lambda p: [p]), "a list, not an object"),
    (
        "chat.format.json_object",
        Knobs(mutate_completion=when_content('{"ok": true}', message(content="[1]"))),
        "not an object",
    ),
    (
        "chat.format.json_object",
        Knobs(mutate_completion=when_content('{"ok": true}', message(content=None))),
        "not a string",
    ),
    (
        "chat.format.logprobs",
        Knobs(mutate_completion=logprob_entries(lambda e: {**e, "bytes": "abc"})),
        "bytes is 'abc'",
    ),
    (
        "chat.format.logprobs",
        Knobs(mutate_completion=logprob_entries(lambda e: {**e, "top_logprobs": [e] * 3})),
        "at most 2",
    ),
    (
        "chat.format.logprobs",
        Knobs(mutate_completion=logprob_entries(lambda e: {**e, "token": None})),
        "token is None",
    ),
    (
        "chat.format.logprobs",
        Knobs(mutate_completion=first_choice(logprobs=None)),
        "expected content entries",
    ),
    ("chat.tools.required", Knobs(refuse_params=frozenset({"tool_choice"})), "refused: 400"),
    ("chat.params.stop", Knobs(refuse_params=frozenset({"max_completion_tokens"})), "refused"),
]


def cut_before_calling(p: dict[str, Any]) -> dict[str, Any]:
    if not p["choices"][0]["message"].get("tool_calls"):
        return p
    return first_choice_with(
        lambda c: {**c, "finish_reason": "length", "message": {**c["message"], "tool_calls": None}}
    )(p)


WARNED = [
    ("chat.params.stop", Knobs(refuse_params=frozenset({"stop"})), "refuses `stop`"),
    ("chat.tools.required", Knobs(mutate_completion=cut_before_calling), "token cap"),
    ("chat.tools.named_choice", Knobs(mutate_completion=cut_before_calling), "token cap"),
    (
        "chat.format.json_object",
        Knobs(
            mutate_completion=when_content(
                '{"ok": true}',
                lambda p: first_choice(finish_reason="length")(message(content=None)(p)),
            )
        ),
        "cut at the token cap",
    ),
    ("chat.params.n", Knobs(refuse_params=frozenset({"n"})), "n=2 with 400"),
    ("chat.format.logprobs", Knobs(refuse_params=frozenset({"logprobs"})), "logprobs with 400"),
    ("chat.params.max_tokens", Knobs(refuse_params=frozenset({"max_tokens"})), "deprecated"),
    ("chat.params.unknown_tolerated", Knobs(refuse_params=frozenset({"x_parity_probe"})), "400"),
    ("chat.stream.n_choices", Knobs(refuse_params=frozenset({"n"})), "n=2 with 400"),
    (
        "chat.format.json_schema",
        Knobs(
            mutate_completion=lambda p: (
                first_choice(finish_reason="length")(message(content='{"city": "Pa')(p))
                if (p["choices"][0]["message"]["content"] or "").startswith('{"city"')
                else p
            )
        ),
        "cut at the token cap",
    ),
]


@pytest.mark.parametrize(
    ("check_id", "knobs", "fragment"), FAILED, ids=[f"{c[0]}-{n}" for n, c in enumerate(FAILED)]
)
def test_chat_checks_report_each_way_of_failing(
    fake, run_ids, check_id: str, knobs: Knobs, fragment: str | None
) -> None:
    switch, origin = fake
    switch.use(knobs)
    result = run_ids(origin, [check_id], api_key=API_KEY, level="deep")[check_id]
    assert result.outcome == "failed", result
    assert fragment is None or fragment in result.message, result.message


@pytest.mark.parametrize(
    ("check_id", "knobs", "fragment"), WARNED, ids=[f"{c[0]}-{n}" for n, c in enumerate(WARNED)]
)
def test_chat_checks_warn_on_legal_refusals(
    fake, run_ids, check_id: str, knobs: Knobs, fragment: str
) -> None:
    switch, origin = fake
    switch.use(knobs)
    result = run_ids(origin, [check_id], api_key=API_KEY, level="deep")[check_id]
    assert result.outcome == "warning", result
    assert fragment in result.message, result.message
