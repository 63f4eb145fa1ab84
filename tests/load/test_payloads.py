"""Request bodies of every endpoint, sized by the run's flags (pure: no server needed)."""

from __future__ import annotations

import email.parser
import io
import json
import random
import wave

import pytest

from load.scenarios.payloads import Sizes, build_request, parse_image_size, wav_bytes


def test_payloads_transcription_is_multipart_with_a_wav_of_the_asked_length() -> None:
    out = build_request("transcriptions", "whisper-1", random.Random(1), Sizes(audio_seconds=2.5))
    assert out.path == "/audio/transcriptions"
    assert out.content_type.startswith("multipart/form-data; boundary=")
    message = email.parser.BytesParser().parsebytes(
        b"Content-Type: " + out.content_type.encode() + b"\r\n\r\n" + out.body
    )
    parts = {p.get_param("name", header="content-disposition"): p for p in message.get_payload()}
    assert parts["model"].get_payload() == "whisper-1"
    audio = parts["file"].get_payload(decode=True)
    with wave.open(io.BytesIO(audio)) as wav:
        assert wav.getframerate() == 16_000
        assert wav.getnframes() / wav.getframerate() == pytest.approx(2.5)


def test_payloads_sizes_reach_the_bodies() -> None:
    rng = random.Random(2)
    sizes = Sizes(prompt_tokens=40, max_tokens=8, image_size="1024x1536", speech_chars=90)
    chat = json.loads(build_request("chat-stream", "m", rng, sizes).body)
    assert len(chat["messages"][0]["content"].split()) == 40
    assert chat["max_tokens"] == 8
    assert chat["stream"] is True
    assert chat["stream_options"] == {"include_usage": True}
    image = json.loads(build_request("images", "gpt-image-1", rng, sizes).body)
    assert image["size"] == "1024x1536"
    speech = build_request("speech", "tts-1", rng, sizes)
    assert len(json.loads(speech.body)["input"]) <= 90
    assert speech.json_answer is False
    # OpenAI: max_output_tokens is at least 16
    responses = json.loads(build_request("responses-stream", "m", rng, sizes).body)
    assert responses["max_output_tokens"] == 16
    assert responses["stream"] is True


def test_payloads_realtime_sends_an_item_then_a_text_response() -> None:
    out = build_request("realtime", "gpt realtime", random.Random(3), Sizes(max_tokens=12))
    assert out.path == "/realtime?model=gpt%20realtime"
    assert out.protocol == "realtime"
    assert json.loads(out.body)["type"] == "conversation.item.create"
    create = json.loads(out.follow_up)
    assert create == {
        "type": "response.create",
        "response": {"output_modalities": ["text"], "max_output_tokens": 12},
    }


@pytest.mark.parametrize("text", ["big", "1024", "x768", "0x0", "10x"], ids=str)
def test_payloads_malformed_image_size_names_the_valid_forms(text: str) -> None:
    with pytest.raises(ValueError, match="WIDTHxHEIGHT") as info:
        parse_image_size(text)
    assert repr(text) in str(info.value)


def test_payloads_wav_is_cached_and_whole() -> None:
    assert wav_bytes(1.0) is wav_bytes(1.0)
    assert len(wav_bytes(1.0)) == 44 + 32_000
