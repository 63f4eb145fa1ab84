from __future__ import annotations

import pytest

from conformance.discovery import ModelInfo, capabilities_of, choose_models, parse_listings


def _listing(*ids: str, **categories: str) -> dict:
    return {
        "object": "list",
        "data": [
            {
                "id": i,
                "object": "model",
                **(
                    {"category": categories[i.replace("-", "_")]}
                    if i.replace("-", "_") in categories
                    else {}
                ),
            }
            for i in ids
        ],
    }


@pytest.mark.parametrize(
    ("model_id", "expected"),
    [
        ("gpt-4o-mini", {"chat", "responses"}),
        ("text-embedding-3-small", {"embedding"}),
        ("whisper-1", {"transcription"}),
        ("gpt-4o-mini-transcribe", {"transcription"}),
        ("tts-1", {"speech"}),
        ("dall-e-3", {"image"}),
        ("gpt-image-1", {"image"}),
        ("sora-2", {"video"}),
        ("gpt-realtime", {"realtime"}),
        ("monday-fast", {"chat", "responses"}),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_discovery_id_heuristics(model_id: str, expected: set[str]) -> None:
    assert capabilities_of(ModelInfo(id=model_id, order=0)) == expected


def test_discovery_category_wins_over_id() -> None:
    models = parse_listings(
        {
            "data": [
                {"id": "x1", "category": "embedding"},
                {"id": "x2", "category": "video"},
                {"id": "gpt-4o", "category": "text"},
            ]
        }
    )
    assert choose_models(models) == {
        "chat": "gpt-4o",
        "embedding": "x1",
        "video": "x2",
        "responses": "gpt-4o",
    }


def test_discovery_catalog_supports_split_audio_and_rank() -> None:
    listing = {
        "data": [
            {"id": i, "category": c}
            for i, c in [
                ("voice-a", "audio"),
                ("ears-b", "audio"),
                ("big", "text"),
                ("small", "text"),
                ("sick", "text"),
            ]
        ]
    }
    catalog = [
        {"slug": "voice-a", "category": "audio", "supports": ["audio_speech"]},
        {"slug": "ears-b", "category": "audio", "supports": ["audio_transcription"]},
        {
            "slug": "big",
            "supports": ["chat", "tool_use", "streaming"],
            "input_per_mtok": 5,
            "output_per_mtok": 15,
        },
        {
            "slug": "small",
            "supports": ["chat", "tool_use", "streaming"],
            "input_per_mtok": 0.1,
            "output_per_mtok": 0.4,
        },
        {
            "slug": "sick",
            "supports": ["chat", "tool_use", "streaming"],
            "input_per_mtok": 0,
            "output_per_mtok": 0,
            "health_status": "unhealthy",
        },
        {"slug": "not-listed", "supports": ["embeddings"]},
    ]
    chosen = choose_models(parse_listings(listing, {"data": catalog}))
    assert chosen["speech"] == "voice-a"
    assert chosen["transcription"] == "ears-b"
    assert chosen["chat"] == "small"  # cheapest healthy with tools and streaming
    assert "embedding" not in chosen  # a catalog entry the API does not list is ignored


def test_discovery_chat_prefers_tools_and_streaming() -> None:
    catalog = [
        {"model_name": "plain", "supports": ["chat"], "input_per_mtok": 0, "output_per_mtok": 0},
        {"model_name": "tools", "supports": ["chat", "tool_use", "streaming"]},
    ]
    chosen = choose_models(parse_listings(_listing("plain", "tools"), catalog))
    assert chosen["chat"] == "tools"


def test_discovery_pins_override_and_remove() -> None:
    models = parse_listings(_listing("gpt-4o", "text-embedding-3-small"))
    chosen = choose_models(models, {"chat": "pinned", "embedding": ""})
    assert chosen == {"chat": "pinned", "responses": "gpt-4o"}
    with pytest.raises(ValueError, match="'llm'"):
        choose_models(models, {"llm": "x"})  # type: ignore[dict-item]


@pytest.mark.parametrize(
    "payload",
    [None, "nope", {"data": "x"}, {"data": [1, "a", {"no_id": 1}]}, []],
    ids=["none", "string", "data-not-list", "junk-entries", "empty"],
)
def test_discovery_tolerates_junk(payload: object) -> None:
    assert choose_models(parse_listings(payload, payload)) == {}


def test_discovery_catalog_alone_when_listing_empty() -> None:
    chosen = choose_models(
        parse_listings(None, {"models": [{"slug": "e", "category": "embedding"}]})
    )
    assert chosen == {"embedding": "e"}


def test_discovery_zero_price_is_a_price() -> None:
    catalog = [
        {
            "slug": "paid",
            "category": "audio",
            "supports": ["transcription"],
            "input_per_mtok": 1,
            "output_per_mtok": 0,
        },
        {
            "slug": "free",
            "category": "audio",
            "supports": ["transcription"],
            "input_per_mtok": 0,
            "output_per_mtok": 0,
        },
    ]
    assert (
        choose_models(parse_listings(_listing("paid", "free"), catalog))["transcription"] == "free"
    )


def test_discovery_audio_direction_follows_the_catalog_page() -> None:
    """An audio model carrying audio_transcription is speech-to-text; otherwise text-to-speech
    (the catalog page). Without a catalog, an audio id names its direction when it can."""
    listing = _listing("voice", "ears", "whisper-1", "tts-1", voice="audio", ears="audio")
    catalog = [
        {"model_name": "voice", "category": "audio", "supports": []},
        {"model_name": "ears", "category": "audio", "supports": ["audio_transcription"]},
    ]
    models = {m.id: m for m in parse_listings(listing, catalog)}
    assert capabilities_of(models["voice"]) == {"speech"}
    assert capabilities_of(models["ears"]) == {"transcription"}
    alone = {
        m.id: m
        for m in parse_listings(_listing("whisper-1", "box", whisper_1="audio", box="audio"))
    }
    assert capabilities_of(alone["whisper-1"]) == {"transcription"}
    assert capabilities_of(alone["box"]) == {"speech", "transcription"}
