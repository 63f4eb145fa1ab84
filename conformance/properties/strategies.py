"""Hypothesis strategies for OpenAI request bodies: valid ones, and invalid ones with the reason.

Valid strategies draw only what OpenAI's API reference allows, kept cheap for a paid target
(one to three short messages, at most 3 choices, at most 16 tokens). ``invalid_requests``
draws one violation at a time, of the four kinds OpenAI answers with 400
``invalid_request_error`` (API reference, "Error codes"): a wrong type, an out-of-range
number, an unknown enum value, a missing required field.

Must not: send requests, or draw a "valid" body that OpenAI documents as invalid.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from hypothesis import strategies as st

__all__ = [
    "InvalidRequest",
    "Violation",
    "chat_requests",
    "embedding_inputs",
    "embedding_texts",
    "invalid_requests",
    "tool_schemas",
]

Violation = Literal["wrong_type", "out_of_range", "unknown_enum", "missing_required"]

# Short printable words: cheap in tokens, no control characters a gateway may legally refuse.
_WORDS = st.sampled_from(
    ["hello", "count", "to", "three", "blue", "sky", "why", "is", "the", "say", "one", "word"]
)
_TEXT = st.lists(_WORDS, min_size=1, max_size=6).map(" ".join)
_NAME = st.from_regex(r"[a-z][a-z0-9_]{0,15}", fullmatch=True)


def _messages() -> st.SearchStrategy[list[dict[str, Any]]]:
    system = st.builds(
        lambda role, text: {"role": role, "content": text},
        st.sampled_from(["system", "developer"]),
        _TEXT,
    )
    user = _TEXT.map(lambda text: {"role": "user", "content": text})
    return st.tuples(st.lists(system, max_size=1), st.lists(user, min_size=1, max_size=2)).map(
        lambda parts: [*parts[0], *parts[1]]
    )


@st.composite
def chat_requests(
    draw: st.DrawFn,
    model: str,
    *,
    stream: bool | None = None,
    max_choices: int = 3,
    max_tokens: int = 16,
) -> dict[str, Any]:
    """A valid ``CreateChatCompletionRequest`` for ``model`` with a token limit set.

    ``stream`` None draws both; a streamed request asks for the usage chunk half the time.
    """
    body: dict[str, Any] = {"model": model, "messages": draw(_messages())}
    field = draw(st.sampled_from(["max_tokens", "max_completion_tokens"]))
    body[field] = draw(st.integers(min_value=1, max_value=max_tokens))
    n = draw(st.integers(min_value=1, max_value=max_choices))
    if n > 1 or draw(st.booleans()):
        body["n"] = n
    if draw(st.booleans()):
        body["temperature"] = draw(st.sampled_from([0, 0.5, 1, 1.5, 2]))
    if draw(st.booleans()):
        body["top_p"] = draw(st.sampled_from([0.1, 0.5, 1]))
    streamed = draw(st.booleans()) if stream is None else stream
    if streamed:
        body["stream"] = True
        if draw(st.booleans()):
            body["stream_options"] = {"include_usage": True}
    return body


_PRIMITIVES: dict[str, Any] = {
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "enum": {"type": "string", "enum": ["a", "b", "c"]},
    "array": {"type": "array", "items": {"type": "string"}},
}


@st.composite
def tool_schemas(draw: st.DrawFn) -> dict[str, Any]:
    """A function tool (``ChatCompletionTool``) with a JSON Schema object of 1-4 parameters."""
    names = draw(st.lists(_NAME, min_size=1, max_size=4, unique=True))
    properties = {name: draw(st.sampled_from(list(_PRIMITIVES.values()))) for name in names}
    required = draw(st.lists(st.sampled_from(names), unique=True))
    return {
        "type": "function",
        "function": {
            "name": draw(_NAME),
            "description": draw(_TEXT),
            "parameters": {
                "type": "object",
                "properties": properties,
                "required": sorted(required),
                "additionalProperties": False,
            },
        },
    }


def embedding_texts() -> st.SearchStrategy[str]:
    """One short, non-empty text (OpenAI: input "cannot be an empty string")."""
    return _TEXT


def embedding_inputs(max_items: int = 4) -> st.SearchStrategy[str | list[str]]:
    """``CreateEmbeddingRequest.input``: one non-empty string or a short list of them."""
    return st.one_of(_TEXT, st.lists(_TEXT, min_size=1, max_size=max_items))


@dataclass(frozen=True, slots=True)
class InvalidRequest:
    """A request body that breaks one documented rule, and which rule."""

    path: str
    body: dict[str, Any]
    violation: Violation
    field: str
    reason: str


_CHAT_INVALID: list[tuple[Violation, str, Any, str]] = [
    ("wrong_type", "messages", "hello", "messages must be an array"),
    ("wrong_type", "temperature", "hot", "temperature must be a number"),
    ("wrong_type", "n", "two", "n must be an integer"),
    ("wrong_type", "stream", "yes", "stream must be a boolean"),
    ("out_of_range", "temperature", 2.5, "temperature is at most 2"),
    ("out_of_range", "temperature", -0.5, "temperature is at least 0"),
    ("out_of_range", "top_p", 1.5, "top_p is at most 1"),
    ("out_of_range", "n", 0, "n is at least 1"),
    ("out_of_range", "presence_penalty", 3, "presence_penalty is at most 2"),
    ("out_of_range", "top_logprobs", 21, "top_logprobs is at most 20"),
    ("unknown_enum", "messages", [{"role": "wizard", "content": "hi"}], "role is not one of"),
    ("unknown_enum", "response_format", {"type": "yaml"}, "response_format.type unknown"),
    ("unknown_enum", "reasoning_effort", "extreme", "reasoning_effort is not one of"),
    ("missing_required", "messages", None, "messages is required"),
    ("missing_required", "model", None, "model is required"),
]
_EMBEDDING_INVALID: list[tuple[Violation, str, Any, str]] = [
    ("wrong_type", "input", {"text": "hi"}, "input must be a string or an array"),
    ("unknown_enum", "encoding_format", "hex", "encoding_format is float or base64"),
    ("out_of_range", "dimensions", 0, "dimensions is at least 1"),
    ("missing_required", "input", None, "input is required"),
    ("missing_required", "model", None, "model is required"),
]


@st.composite
def invalid_requests(
    draw: st.DrawFn,
    models: dict[str, str],
    *,
    model_required: bool = True,
) -> InvalidRequest:
    """One invalid chat or embeddings body; ``models`` maps ``chat``/``embedding`` to a model.

    ``model_required=False`` (a gateway profile with a documented default model) never draws a
    chat request without ``model`` (the default is a text model; embeddings still need one).
    """
    choices: list[tuple[str, tuple[Violation, str, Any, str]]] = []
    if "chat" in models:
        choices += [("/chat/completions", rule) for rule in _CHAT_INVALID]
    if "embedding" in models:
        choices += [("/embeddings", rule) for rule in _EMBEDDING_INVALID]
    if not model_required:
        # a default model is a text model: it fills in `model` for chat only
        choices = [
            c
            for c in choices
            if not (c[0] == "/chat/completions" and c[1][:2] == ("missing_required", "model"))
        ]
    if not choices:
        raise ValueError(f"invalid_requests needs a chat or embedding model, got {models!r}")
    path, (violation, field, value, reason) = draw(st.sampled_from(choices))
    if path == "/chat/completions":
        body: dict[str, Any] = {
            "model": models["chat"],
            "messages": draw(_messages()),
            "max_tokens": 4,
        }
        if field == "top_logprobs":
            body["logprobs"] = True
    else:
        body = {"model": models["embedding"], "input": draw(embedding_inputs(2))}
    if violation == "missing_required":
        body.pop(field, None)
    else:
        body[field] = value
    return InvalidRequest(path=path, body=body, violation=violation, field=field, reason=reason)
