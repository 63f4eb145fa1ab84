"""The strategies draw what the spec says: valid bodies validate, invalid ones do not."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.hypothesis_profiles import PROFILES, property_settings
from conformance.properties.strategies import (
    InvalidRequest,
    chat_requests,
    embedding_inputs,
    invalid_requests,
    tool_schemas,
)
from conformance.schemas import schema_errors

CI = property_settings("ci", max_examples=60)
MODELS = {"chat": "any-chat", "embedding": "any-embed"}


@CI
@given(chat_requests("any-chat"))
def test_chat_requests_validate_against_the_spec(body: dict[str, object]) -> None:
    assert schema_errors("CreateChatCompletionRequest", body) == []
    limit = body.get("max_tokens", body.get("max_completion_tokens"))
    assert isinstance(limit, int)
    assert 1 <= limit <= 16


@CI
@given(tool_schemas())
def test_tool_schemas_validate_against_the_spec(tool: dict[str, object]) -> None:
    assert schema_errors("ChatCompletionTool", tool) == []


@CI
@given(embedding_inputs())
def test_embedding_inputs_validate_and_are_never_empty(value: str | list[str]) -> None:
    body = {"model": "any-embed", "input": value}
    assert schema_errors("CreateEmbeddingRequest", body) == []
    assert all(text for text in ([value] if isinstance(value, str) else value))


@CI
@given(invalid_requests(MODELS))
def test_invalid_requests_break_the_spec(request: InvalidRequest) -> None:
    component = {
        "/chat/completions": "CreateChatCompletionRequest",
        "/embeddings": "CreateEmbeddingRequest",
    }[request.path]
    assert schema_errors(component, request.body), request


@CI
@given(invalid_requests(MODELS, model_required=False))
def test_invalid_requests_respect_a_default_model(request: InvalidRequest) -> None:
    assert "model" in request.body or request.path == "/embeddings"


def test_invalid_requests_need_a_model_showing_what_was_given() -> None:
    @CI
    @given(invalid_requests({"image": "x"}))
    def draw(request: InvalidRequest) -> None:
        raise AssertionError("drew from a strategy that has nothing to draw")

    with pytest.raises(ValueError, match=r"\{'image': 'x'\}"):
        draw()


def test_hypothesis_profiles_ci_is_derandomized_without_database_or_deadline() -> None:
    assert PROFILES == ("dev", "ci", "thorough")
    ci = property_settings("ci")
    assert ci.derandomize
    assert ci.database is None
    assert ci.deadline is None
    assert property_settings("thorough").max_examples > property_settings("dev").max_examples


def test_hypothesis_profiles_reject_unknown_names_listing_valid_ones() -> None:
    with pytest.raises(ValueError, match=r"'fast'.*'dev', 'ci', 'thorough'"):
        property_settings("fast")


@given(st.data())
@CI
def test_chat_requests_respect_stream_choice(data: st.DataObject) -> None:
    assert "stream" not in data.draw(chat_requests("m", stream=False))
    assert data.draw(chat_requests("m", stream=True))["stream"] is True


@pytest.mark.parametrize("name", PROFILES, ids=list(PROFILES))
def test_hypothesis_profiles_registered_without_database_or_deadline(name: str) -> None:
    # The registered profile itself (not only what property_settings hands out): a test that
    # loads it with settings.load_profile gets no example database and no deadline either.
    from hypothesis import settings

    property_settings(name)
    profile = settings.get_profile(name)
    assert profile.database is None
    assert profile.deadline is None
