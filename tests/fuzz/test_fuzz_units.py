"""Pure parts of the fuzz layer: bounds, request shaping, the prepared spec, reproductions."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.fuzz.document import Deviations, load_document, prepare_document
from conformance.fuzz.findings import curl_for, redact
from conformance.fuzz.session import FuzzSession
from conformance.fuzz.settings import FuzzSettings, schemathesis_config


def _session(budget: int = 3) -> FuzzSession:
    return FuzzSession(
        models={"chat": "served-chat", "embedding": "served-embed"},
        stream_components={},
        budget=budget,
        max_tokens=16,
        max_choices=2,
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [("max_requests", 0), ("max_time", -1), ("max_tokens", True), ("max_examples", 1.5)],
    ids=["zero-requests", "negative-time", "bool-tokens", "float-examples"],
)
def test_settings_reject_bad_bounds_showing_the_value(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=repr(value).replace(".", r"\.")):
        FuzzSettings(**{field: value})  # type: ignore[arg-type]


def test_settings_reject_unknown_phase_listing_valid_ones() -> None:
    with pytest.raises(ValueError, match=r"'shrinking'.*examples"):
        FuzzSettings(phases=("shrinking",))  # type: ignore[arg-type]


def test_schemathesis_config_enables_exactly_the_named_checks() -> None:
    config = schemathesis_config(
        FuzzSettings(), base_url="http://x/v1", seed=9, headers={}, custom_checks=("mine",)
    )
    enabled = {name for name, value in config["checks"].items() if isinstance(value, dict)}
    assert "mine" in enabled
    assert "not_a_server_error" in enabled
    assert config["checks"]["enabled"] is False
    assert config["seed"] == 9
    assert {"include-operation-id": "createImage", "generation": {"max-examples": 2}} in config[
        "operations"
    ]


def test_session_budget_admits_exactly_the_budget_then_stops_the_engine() -> None:
    stops: list[bool] = []
    session = _session(budget=3)
    session.stop = lambda: stops.append(True)
    assert [session.admit() for _ in range(5)] == [True, True, True, False, False]
    assert session.sent == 3
    assert session.budget_spent
    assert stops


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"model": "random", "messages": []},
            {"model": "served-chat", "messages": [], "max_completion_tokens": 16},
        ),
        (
            {"model": "m", "max_tokens": 4000, "n": 9},
            {"model": "served-chat", "max_tokens": 16, "n": 2},
        ),
        ({"model": 5, "max_completion_tokens": None}, {"model": 5, "max_completion_tokens": 16}),
        ({"model": "m", "max_tokens": "lots"}, {"model": "served-chat", "max_tokens": "lots"}),
    ],
    ids=["adds-cap", "clamps-tokens-and-n", "null-cap-keeps-bad-model", "keeps-invalid-type"],
)
def test_session_shapes_chat_bodies(body: dict[str, object], expected: dict[str, object]) -> None:
    _session().shape("/chat/completions", body)
    assert body == expected


def test_session_coverage_share_is_per_operation_and_mode() -> None:
    session = _session()
    session.coverage_cap = 2
    kept = [session.keep("POST /chat/completions", "negative") for _ in range(3)]
    assert kept == [True, True, False]
    assert session.keep("POST /chat/completions", "positive")
    assert session.keep("POST /embeddings", "negative")


def test_document_moves_stream_schema_out_of_schemathesis_view() -> None:
    document = prepare_document(
        "openai.yaml", load_document("openai.yaml"), server_url="http://t/v1", offered=["chat"]
    )
    assert document.stream_components[("POST", "/chat/completions")] == (
        "CreateChatCompletionStreamResponse"
    )
    media = document.raw["paths"]["/chat/completions"]["post"]["responses"]["200"]["content"]
    assert media["text/event-stream"] == {}
    assert "schema" in media["application/json"]
    assert document.raw["servers"] == [{"url": "http://t/v1"}]
    assert "createEmbedding" in document.skipped
    assert "createChatCompletion" in document.operation_ids
    assert "listModels" in document.operation_ids


def test_document_writes_only_documented_profile_deviations() -> None:
    raw = load_document("openai.yaml")
    strict = prepare_document("openai.yaml", raw, server_url="http://t/v1", offered=["chat"])
    relaxed = prepare_document(
        "openai.yaml",
        raw,
        server_url="http://t/v1",
        offered=["chat", "embedding"],
        deviations=Deviations(default_model=True),
    )
    schemas = "components", "schemas", "CreateChatCompletionRequest"

    def required(doc: dict[str, object]) -> list[str]:
        node: object = doc
        for key in schemas:
            node = node[key]  # type: ignore[index]
        return node["required"]  # type: ignore[index,no-any-return]

    assert "model" in required(strict.raw)
    assert "model" not in required(relaxed.raw)
    assert "messages" in required(relaxed.raw)
    assert "model" in required(raw)  # the loaded spec itself is never changed
    embeddings = relaxed.raw["components"]["schemas"]["CreateEmbeddingRequest"]
    assert "model" in embeddings["required"]  # a default (text) model does not embed


def test_curl_reproduction_never_carries_the_key() -> None:
    line = curl_for(
        "post",
        "http://t/v1/chat/completions",
        {"authorization": "Bearer sk-secret", "content-type": "application/json"},
        b'{"a": "it\'s"}',
    )
    assert "sk-secret" not in line
    assert '"Authorization: Bearer $PARITY_API_KEY"' in line
    assert line.startswith("curl -X POST http://t/v1/chat/completions")
    assert redact("key sk-secret here", "sk-secret") == "key *** here"


def test_session_stops_when_the_run_wide_budget_says_so() -> None:
    granted = iter([True, True, False, True])
    session = _session(budget=10)
    session.on_send = lambda: next(granted)
    assert [session.admit() for _ in range(3)] == [True, True, False]
    assert session.sent == 2
    assert session.budget_spent


def test_session_gives_transcriptions_a_readable_audio_file() -> None:
    import io
    import wave

    from schemathesis.transport.serialization import Binary

    from conformance.fuzz.session import _swap_audio

    body: dict[str, object] = {"model": "m", "file": Binary(b"\x89PNG\r\n")}
    assert _swap_audio(body)
    swapped = body["file"]
    assert isinstance(swapped, Binary)
    with wave.open(io.BytesIO(swapped.data)) as audio:
        assert audio.getnchannels() == 1
        assert audio.getnframes() > 0
    assert not _swap_audio({"model": "m", "file": "not bytes"})


def test_fuzz_requests_option_scales_examples_and_time_with_the_budget() -> None:
    from types import SimpleNamespace

    from conformance.fuzz.checks import _settings

    def settings(fuzz_requests: int | None) -> FuzzSettings:
        ctx: Any = SimpleNamespace(
            target=SimpleNamespace(fuzz_requests=fuzz_requests), client=SimpleNamespace()
        )
        return _settings(ctx)

    default = settings(None)
    assert settings(100).max_requests == 100
    assert settings(100).max_examples == default.max_examples
    big = settings(default.max_requests * 5)
    assert big.max_requests == default.max_requests * 5
    assert big.max_examples == default.max_examples * 5
    assert big.max_time == default.max_time * 5


def test_fuzz_requests_must_be_positive() -> None:
    from conformance.cli import main

    assert main(["check", "--base-url", "http://127.0.0.1:9/v1", "--fuzz-requests", "0"]) == 2
