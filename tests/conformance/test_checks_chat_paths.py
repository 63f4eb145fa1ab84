from __future__ import annotations

from typing import Any

import pytest

from conformance.profiles import Profile
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
    # an ignored stop is caught whatever the model writes: the sequence comes from its own text
    ("chat.params.stop", Knobs(ignore_stop=True), "'2' (picked from the target's own answer)"),
    ("chat.params.stop", Knobs(ignore_stop=True, fixed_text="Bonjour tout le monde"), "'tout'"),
    ("chat.params.n", Knobs(refuse_params=frozenset({"n"})), "profile may declare 'chat.n'"),
    ("chat.stream.n_choices", Knobs(refuse_params=frozenset({"n"})), "a streamed n=2 was refused"),
    ("chat.tools.arguments_json", Knobs(bad_arguments="strict"), "strict function: arguments"),
    ("chat.tools.arguments_json", Knobs(refuse_strict=True), "strict: true was refused (400"),
]


def cut_before_calling(p: dict[str, Any]) -> dict[str, Any]:
    if not p["choices"][0]["message"].get("tool_calls"):
        return p
    return first_choice_with(
        lambda c: {**c, "finish_reason": "length", "message": {**c["message"], "tool_calls": None}}
    )(p)


# Legal but unusual: OpenAI itself refuses these for some of its models.
WARNED = [
    ("chat.params.stop", Knobs(refuse_params=frozenset({"stop"})), "refuses `stop`"),
    ("chat.format.logprobs", Knobs(refuse_params=frozenset({"logprobs"})), "logprobs with 400"),
    ("chat.params.max_tokens", Knobs(refuse_params=frozenset({"max_tokens"})), "deprecated"),
    ("chat.tools.arguments_json", Knobs(bad_arguments="plain"), "plain (non-strict) function"),
]

# Nothing to judge: a reasoning model spending the cap, a model that stops by itself.
SKIPPED = [
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
    ("chat.params.max_tokens", Knobs(fixed_text="Fine."), "stopped by itself after 1 tokens"),
    ("chat.params.stop", Knobs(fixed_text="Ok."), "no text to pick a stop sequence from"),
]

# OpenAI's own behaviour.
PASSED = [
    ("chat.params.unknown_tolerated", Knobs(refuse_params=frozenset({"x_parity_probe"}))),
]


def _outcome(fake: Any, run_ids: Any, check_id: str, knobs: Knobs, **options: Any) -> Any:
    switch, origin = fake
    switch.use(knobs)
    return run_ids(origin, [check_id], api_key=API_KEY, level="deep", **options)[check_id]


@pytest.mark.parametrize(
    ("check_id", "knobs", "fragment"), FAILED, ids=[f"{c[0]}-{n}" for n, c in enumerate(FAILED)]
)
def test_chat_checks_report_each_way_of_failing(
    fake, run_ids, check_id: str, knobs: Knobs, fragment: str | None
) -> None:
    result = _outcome(fake, run_ids, check_id, knobs)
    assert result.outcome == "failed", result
    assert fragment is None or fragment in result.message, result.message


@pytest.mark.parametrize(
    ("check_id", "knobs", "fragment"), WARNED, ids=[f"{c[0]}-{n}" for n, c in enumerate(WARNED)]
)
def test_chat_checks_warn_on_legal_refusals(
    fake, run_ids, check_id: str, knobs: Knobs, fragment: str
) -> None:
    result = _outcome(fake, run_ids, check_id, knobs)
    assert result.outcome == "warning", result
    assert fragment in result.message, result.message


@pytest.mark.parametrize(
    ("check_id", "knobs", "fragment"), SKIPPED, ids=[f"{c[0]}-{n}" for n, c in enumerate(SKIPPED)]
)
def test_chat_checks_skip_what_they_cannot_judge(
    fake, run_ids, check_id: str, knobs: Knobs, fragment: str
) -> None:
    result = _outcome(fake, run_ids, check_id, knobs)
    assert result.outcome == "skipped", result
    assert fragment in result.message, result.message


@pytest.mark.parametrize(("check_id", "knobs"), PASSED, ids=[c[0] for c in PASSED])
def test_chat_checks_pass_what_openai_itself_does(
    fake, run_ids, check_id: str, knobs: Knobs
) -> None:
    result = _outcome(fake, run_ids, check_id, knobs)
    assert result.outcome == "passed", result


@pytest.mark.parametrize(
    ("check_id", "knobs", "feature"),
    [
        ("chat.params.n", Knobs(refuse_params=frozenset({"n"})), "chat.n"),
        ("chat.stream.n_choices", Knobs(refuse_params=frozenset({"n"})), "chat.n"),
        ("chat.tools.arguments_json", Knobs(refuse_strict=True), "chat.tools.strict"),
    ],
    ids=["n", "stream-n", "strict"],
)
def test_chat_refusal_is_skipped_when_the_profile_declares_the_feature_unsupported(
    fake, run_ids, check_id: str, knobs: Knobs, feature: str
) -> None:
    profile = Profile(name="no-n", unsupported=(feature,))
    result = _outcome(fake, run_ids, check_id, knobs, profile=profile)
    assert result.outcome == "skipped", result
    assert f"profile 'no-n' declares it unsupported (unsupported: [{feature}])" in result.message
