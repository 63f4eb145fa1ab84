"""The official openai SDK against a live reference server: every endpoint it serves."""

from __future__ import annotations

import base64
import io
import json
import math
import struct
import wave
import zlib

import openai
import pytest
from pydantic import BaseModel

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"enum": ["c", "f"]}},
            "required": ["city", "unit"],
            "additionalProperties": False,
        },
    },
}
TIME = {
    "type": "function",
    "function": {
        "name": "get_time",
        "parameters": {"type": "object", "properties": {"tz": {"type": "string"}}},
    },
}
USER = [{"role": "user", "content": "What is the weather in Paris?"}]


def test_chat_nonstream_usage_adds_up(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(model="monday-fast", messages=USER)
    assert completion.object == "chat.completion"
    assert completion.model == "monday-fast"
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].message.content
    assert completion.choices[0].finish_reason == "stop"
    usage = completion.usage
    assert usage is not None
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert completion._request_id
    assert completion._request_id.startswith("req_")


def test_chat_model_omitted_uses_default_alias(origin: str) -> None:
    import httpx

    response = httpx.post(
        f"{origin}/v1/chat/completions",
        json={"messages": USER},
        headers={"authorization": "Bearer sk-parity-demo"},
    )
    assert response.status_code == 200
    assert response.json()["model"] == "monday-standard"
    assert response.headers["x-parity-deployment"] == "anthropic/claude-sonnet-4-6"


def test_chat_stream_role_first_and_usage_chunk(client: openai.OpenAI) -> None:
    chunks = list(
        client.chat.completions.create(
            model="gpt-4o", messages=USER, stream=True, stream_options={"include_usage": True}
        )
    )
    assert chunks[0].choices[0].delta.role == "assistant"
    assert len({c.id for c in chunks}) == 1
    finishes = [
        c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason
    ]
    assert finishes == ["stop"]
    last = chunks[-1]
    assert last.choices == []
    assert last.usage is not None
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    nonstream = client.chat.completions.create(model="gpt-4o", messages=USER)
    assert text == nonstream.choices[0].message.content  # deterministic synthetic model
    assert last.usage.completion_tokens == nonstream.usage.completion_tokens  # type: ignore[union-attr]
    assert all(c.usage is None for c in chunks[:-1])


def test_chat_stream_without_include_usage_has_no_usage_chunk(client: openai.OpenAI) -> None:
    chunks = list(client.chat.completions.create(model="gpt-4o", messages=USER, stream=True))
    assert all(c.choices for c in chunks)


def test_chat_max_tokens_finishes_with_length(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="gpt-4o", messages=USER, max_completion_tokens=3
    )
    assert completion.choices[0].finish_reason == "length"
    assert completion.usage is not None
    assert completion.usage.completion_tokens == 3


def test_chat_n_and_logprobs(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="gpt-4o", messages=USER, n=3, logprobs=True, top_logprobs=2, max_tokens=4
    )
    assert [c.index for c in completion.choices] == [0, 1, 2]
    for choice in completion.choices:
        assert choice.logprobs is not None
        assert choice.logprobs.content is not None
        tokens = "".join(t.token for t in choice.logprobs.content)
        assert tokens == choice.message.content
        assert all(len(t.top_logprobs) == 2 for t in choice.logprobs.content)


def test_chat_stop_sequence_cuts_text(client: openai.OpenAI) -> None:
    full = client.chat.completions.create(model="gpt-4o", messages=USER).choices[0].message.content
    assert full
    word = full.split()[3]
    cut = client.chat.completions.create(model="gpt-4o", messages=USER, stop=[word])
    text = cut.choices[0].message.content
    assert text is not None
    assert word not in text
    assert full.startswith(text)


@pytest.mark.parametrize(
    ("tool_choice", "finish", "names"),
    [
        ("auto", "tool_calls", ["get_weather", "get_time"]),
        ("required", "tool_calls", ["get_weather", "get_time"]),
        ({"type": "function", "function": {"name": "get_time"}}, "stop", ["get_time"]),
        ("none", "stop", []),
    ],
    ids=["auto", "required", "named", "none"],
)
def test_chat_tool_choice(
    client: openai.OpenAI, tool_choice: object, finish: str, names: list[str]
) -> None:
    completion = client.chat.completions.create(
        model="gpt-4o",
        messages=USER,
        tools=[WEATHER, TIME],
        tool_choice=tool_choice,  # type: ignore[arg-type]
    )
    choice = completion.choices[0]
    assert choice.finish_reason == finish
    calls = choice.message.tool_calls or []
    assert [c.function.name for c in calls] == names  # type: ignore[union-attr]
    for call in calls:
        assert isinstance(json.loads(call.function.arguments), dict)  # type: ignore[union-attr]
        assert len(call.id) <= 40


def test_chat_parallel_tool_calls_false_makes_one_call(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="gpt-4o", messages=USER, tools=[WEATHER, TIME], parallel_tool_calls=False
    )
    assert len(completion.choices[0].message.tool_calls or []) == 1


def test_chat_tool_result_turn_answers_in_text(client: openai.OpenAI) -> None:
    first = client.chat.completions.create(model="gpt-4o", messages=USER, tools=[WEATHER])
    call = (first.choices[0].message.tool_calls or [])[0]
    messages = [
        *USER,
        first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "18C and sunny"},
    ]
    second = client.chat.completions.create(model="gpt-4o", messages=messages, tools=[WEATHER])  # type: ignore[arg-type]
    assert second.choices[0].message.content
    assert not second.choices[0].message.tool_calls


def test_chat_streamed_tools_reassemble_with_sdk_helper(client: openai.OpenAI) -> None:
    with client.chat.completions.stream(
        model="gpt-4o", messages=USER, tools=[WEATHER, TIME]
    ) as stream:
        events = list(stream)
        final = stream.get_final_completion()
    calls = final.choices[0].message.tool_calls or []
    assert [c.function.name for c in calls] == ["get_weather", "get_time"]
    assert json.loads(calls[0].function.arguments)["unit"] in ("c", "f")
    deltas = [e for e in events if e.type == "chunk"]
    ids = [
        tc.id
        for e in deltas
        for ch in e.chunk.choices
        for tc in (ch.delta.tool_calls or [])
        if tc.id
    ]
    assert len(ids) == 2  # id only on each call's first delta


class Event(BaseModel):
    name: str
    year: int
    tags: list[str]
    place: Place | None


class Place(BaseModel):
    city: str


Event.model_rebuild()


def test_chat_parse_structured_output(client: openai.OpenAI) -> None:
    parsed = client.chat.completions.parse(model="gpt-4o", messages=USER, response_format=Event)
    event = parsed.choices[0].message.parsed
    assert isinstance(event, Event)


def test_chat_json_object_mode(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="gpt-4o", messages=USER, response_format={"type": "json_object"}
    )
    assert isinstance(json.loads(completion.choices[0].message.content or ""), dict)


def test_embeddings_float_base64_and_dimensions(client: openai.OpenAI) -> None:
    default = client.embeddings.create(model="text-embedding-3-small", input=["alpha", "beta"])
    assert [d.index for d in default.data] == [0, 1]
    vector = default.data[0].embedding
    assert len(vector) == 1536
    assert math.isclose(math.fsum(v * v for v in vector), 1.0, rel_tol=1e-5)
    floats = client.embeddings.create(
        model="text-embedding-3-small", input="alpha", encoding_format="float"
    )
    assert floats.data[0].embedding == pytest.approx(vector, abs=1e-6)
    short = client.embeddings.create(
        model="text-embedding-3-large", input=[[1, 2, 3]], dimensions=8
    )
    assert len(short.data[0].embedding) == 8
    assert short.usage.prompt_tokens == 3


def test_embeddings_base64_is_little_endian_float32(origin: str) -> None:
    import httpx

    response = httpx.post(
        f"{origin}/v1/embeddings",
        json={
            "model": "text-embedding-3-small",
            "input": "alpha",
            "encoding_format": "base64",
            "dimensions": 4,
        },
        headers={"authorization": "Bearer sk-parity-demo"},
    )
    raw = base64.b64decode(response.json()["data"][0]["embedding"])
    values = struct.unpack("<4f", raw)
    assert math.isclose(sum(v * v for v in values), 1.0, rel_tol=1e-5)


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    position, idat = 8, b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        chunk = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert zlib.crc32(kind + chunk) == crc
        if kind == b"IDAT":
            idat += chunk
        position += 12 + length
    assert len(zlib.decompress(idat)) == height * (1 + 3 * width)
    return width, height


def test_images_png_of_requested_size(client: openai.OpenAI) -> None:
    image = client.images.generate(model="gpt-image-1", prompt="a lighthouse", size="1536x1024")
    assert image.data
    assert image.data[0].b64_json
    assert _png_size(base64.b64decode(image.data[0].b64_json)) == (1536, 1024)


def test_images_url_is_served(client: openai.OpenAI) -> None:
    import httpx

    image = client.images.generate(model="dall-e-3", prompt="a lighthouse", size="1024x1792")
    assert image.data
    assert image.data[0].url
    response = httpx.get(image.data[0].url)
    assert response.headers["content-type"] == "image/png"
    assert _png_size(response.content) == (1024, 1792)


def test_speech_wav_then_transcription_formats(client: openai.OpenAI) -> None:
    audio = client.audio.speech.create(
        model="tts-1", voice="alloy", input="Hello from parity.", response_format="wav"
    )
    with wave.open(io.BytesIO(audio.content)) as reader:
        assert reader.getframerate() == 24000
        assert reader.getnframes() > 0
    verbose = client.audio.transcriptions.create(
        model="whisper-1",
        file=("speech.wav", audio.content),
        response_format="verbose_json",
        timestamp_granularities=["word", "segment"],
    )
    assert verbose.text
    assert verbose.words
    assert verbose.segments
    assert verbose.duration == pytest.approx(reader.getnframes() / 24000, rel=0.01)
    plain = client.audio.transcriptions.create(
        model="whisper-1", file=("speech.wav", audio.content)
    )
    assert plain.text == verbose.text
    srt = client.audio.transcriptions.create(
        model="whisper-1", file=("s.wav", audio.content), response_format="srt"
    )
    assert "-->" in str(srt)
    vtt = client.audio.transcriptions.create(
        model="whisper-1", file=("s.wav", audio.content), response_format="vtt"
    )
    assert str(vtt).startswith("WEBVTT")


@pytest.mark.parametrize(
    ("fmt", "magic", "media_type"),
    [
        ("mp3", b"\xff\xf3", "audio/mpeg"),
        ("opus", b"OggS", "audio/ogg"),
        ("aac", b"\xff\xf1", "audio/aac"),
        ("flac", b"fLaC", "audio/flac"),
        ("wav", b"RIFF", "audio/wav"),
        ("pcm", b"", "audio/pcm"),
    ],
    ids=["mp3", "opus", "aac", "flac", "wav", "pcm"],
)
def test_speech_formats_have_their_magic(
    client: openai.OpenAI, fmt: str, magic: bytes, media_type: str
) -> None:
    audio = client.audio.speech.create(
        model="tts-1", voice="nova", input="Testing formats.", response_format=fmt
    )  # type: ignore[arg-type]
    assert audio.content.startswith(magic)
    assert audio.response.headers["content-type"] == media_type
    assert len(audio.content) > 100


def test_speech_unknown_format_is_400_listing_the_documented_ones(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.audio.speech.create(model="tts-1", voice="alloy", input="x", response_format="midi")  # type: ignore[arg-type]
    assert all(f"'{fmt}'" in caught.value.message for fmt in ("mp3", "opus", "aac", "pcm"))
    assert caught.value.code == "invalid_value"


def test_responses_create_and_stream(client: openai.OpenAI) -> None:
    response = client.responses.create(model="gpt-4o", input="Say something.")
    assert response.status == "completed"
    assert response.output_text
    assert response.usage is not None
    assert response.usage.total_tokens == response.usage.input_tokens + response.usage.output_tokens
    with client.responses.stream(model="gpt-4o", input="Say something.") as stream:
        events = list(stream)
        final = stream.get_final_response()
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert events[0].type == "response.created"
    assert events[-1].type == "response.completed"
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert deltas == final.output_text == response.output_text


def test_responses_function_call(client: openai.OpenAI) -> None:
    response = client.responses.create(
        model="gpt-4o",
        input="weather?",
        tools=[
            {
                "type": "function",
                "name": "get_weather",
                "parameters": WEATHER["function"]["parameters"],
                "strict": True,
            }
        ],  # type: ignore[index]
        tool_choice="required",
    )
    call = response.output[0]
    assert call.type == "function_call"
    assert call.name == "get_weather"
    assert json.loads(call.arguments)["city"]


def test_videos_job_and_content(client: openai.OpenAI) -> None:
    with pytest.warns(DeprecationWarning, match="Sora"):
        video = client.videos.create(model="sora-2", prompt="a cat at a piano", seconds="8")
    assert video.status in ("queued", "completed")
    with pytest.warns(DeprecationWarning, match="Sora"):
        done = client.videos.retrieve(video.id)
    assert done.status == "completed"
    assert done.seconds == "8"
    with pytest.warns(DeprecationWarning, match="Sora"):
        content = client.videos.download_content(video.id).content
    assert content[4:8] == b"ftyp"


def test_models_list_and_retrieve(client: openai.OpenAI) -> None:
    ids = [m.id for m in client.models.list()]
    assert {"monday-fast", "monday-standard", "monday-powerful", "gpt-4o"} <= set(ids)
    model = client.models.retrieve("monday-fast")
    assert model.id == "monday-fast"
    assert model.model_extra
    assert model.model_extra["category"] == "text"
    with pytest.raises(openai.NotFoundError) as caught:
        client.models.retrieve("no-such-model")
    assert caught.value.code == "model_not_found"


def test_public_catalog_needs_no_key(origin: str) -> None:
    import httpx

    body = httpx.get(f"{origin}/api/models").json()
    entries = {e["model_name"]: e for e in body}
    assert entries["monday-standard"]["health_status"] == "healthy"
    assert entries["monday-standard"]["input_per_mtok"] == 3.0
