"""The synthetic provider's pure parts: tokens, schema values, media bytes, chat plans."""

from __future__ import annotations

import io
import json
import math
import struct
import wave

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from reference_server.providers.chat_synthesis import completion_body, plan_chat, stream_chunks
from reference_server.providers.media import (
    flac_bytes,
    mp3_bytes,
    mp4_bytes,
    pcm_samples,
    wav_bytes,
)
from reference_server.providers.media_synthesis import embeddings_body
from reference_server.providers.schema_values import value_for_schema
from reference_server.providers.text import synthetic_tokens
from reference_server.tokens import count_tokens, split_tokens


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=2**32), st.integers(min_value=1, max_value=300))
def test_synthetic_tokens_count_exactly(seed: int, count: int) -> None:
    tokens = synthetic_tokens(seed, count)
    assert len(tokens) == count
    assert count_tokens("".join(tokens)) == count
    assert split_tokens("".join(tokens)) == tokens


class Address(BaseModel):
    street: str
    zip_code: int | None


class Person(BaseModel):
    name: str
    age: int
    emails: list[str]
    home: Address
    tags: list[Address] | None


SCHEMAS = {
    "pydantic-defs": Person.model_json_schema(),
    "enum-const": {
        "type": "object",
        "properties": {"a": {"enum": ["x", "y"]}, "b": {"const": 3}},
        "required": ["a", "b"],
    },
    "bounds": {
        "type": "object",
        "properties": {
            "n": {"type": "integer", "minimum": 10, "maximum": 12},
            "f": {"type": "number", "exclusiveMinimum": 0.5, "exclusiveMaximum": 0.6},
            "s": {"type": "string", "minLength": 12, "maxLength": 14},
            "m": {"type": "integer", "multipleOf": 7, "minimum": 20},
        },
        "required": ["n", "f", "s", "m"],
        "additionalProperties": False,
    },
    "arrays": {
        "type": "array",
        "items": {"type": "array", "items": {"type": "boolean"}, "minItems": 3},
        "minItems": 2,
        "maxItems": 2,
    },
    "nullable-union": {"type": ["string", "null"]},
    "formats": {
        "type": "object",
        "properties": {
            "d": {"type": "string", "format": "date-time"},
            "e": {"type": "string", "format": "email"},
        },
    },
    "allof": {
        "allOf": [
            {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
            {"properties": {"b": {"type": "integer"}}, "required": ["b"]},
        ]
    },
    "recursive": {
        "$defs": {
            "node": {
                "type": "object",
                "properties": {"next": {"anyOf": [{"$ref": "#/$defs/node"}, {"type": "null"}]}},
                "required": ["next"],
            }
        },
        "$ref": "#/$defs/node",
    },
}


@pytest.mark.parametrize("name", list(SCHEMAS), ids=list(SCHEMAS))
def test_schema_values_validate_against_their_schema(name: str) -> None:
    schema = SCHEMAS[name]
    for seed in range(5):
        value = value_for_schema(schema, seed)
        jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(
            value
        )
    assert value_for_schema(schema, 1) == value_for_schema(schema, 1)


def test_chat_plan_json_schema_content_validates() -> None:
    body = {
        "messages": [{"role": "user", "content": "x"}],
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "p", "schema": SCHEMAS["pydantic-defs"]},
        },
    }
    content = completion_body(plan_chat(body, "m", created=1, request_id="r", output_tokens=10))[
        "choices"
    ][0]["message"]["content"]
    jsonschema.validate(json.loads(content), SCHEMAS["pydantic-defs"])


def test_chat_stream_concatenates_to_the_completion_and_counts_usage() -> None:
    body = {
        "messages": [{"role": "user", "content": "x"}],
        "n": 2,
        "stream_options": {"include_usage": True},
    }
    plan = plan_chat(body, "m", created=1, request_id="r", output_tokens=17)
    chunks = list(stream_chunks(plan, tokens_per_chunk=3))
    texts = {0: "", 1: ""}
    for chunk in chunks[:-1]:
        choice = chunk["choices"][0]
        texts[choice["index"]] += choice["delta"].get("content") or ""
        assert chunk["usage"] is None
    body_nonstream = completion_body(plan)
    assert [c["message"]["content"] for c in body_nonstream["choices"]] == [texts[0], texts[1]]
    usage = chunks[-1]["usage"]
    assert chunks[-1]["choices"] == []
    assert usage["completion_tokens"] == 34
    assert usage["total_tokens"] == usage["prompt_tokens"] + 34
    firsts = [c for c in chunks if c["choices"] and "role" in c["choices"][0]["delta"]]
    assert [c["choices"][0]["index"] for c in firsts] == [0, 1]


def test_embeddings_are_unit_deterministic_and_shortened() -> None:
    body, tokens = embeddings_body({"input": ["alpha beta", "gamma"]}, "text-embedding-3-large")
    first = body["data"][0]["embedding"]
    assert len(first) == 3072
    assert tokens == 3
    assert math.isclose(math.fsum(v * v for v in first), 1.0, rel_tol=1e-9)
    again, _ = embeddings_body({"input": "alpha beta"}, "text-embedding-3-large")
    assert again["data"][0]["embedding"] == first
    short, _ = embeddings_body({"input": "alpha beta", "dimensions": 256}, "text-embedding-3-large")
    assert len(short["data"][0]["embedding"]) == 256
    assert math.isclose(math.fsum(v * v for v in short["data"][0]["embedding"]), 1.0, rel_tol=1e-9)


def _crc8(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def _crc16(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x8005) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def test_flac_decodes_back_to_the_samples() -> None:
    samples = pcm_samples(0.4, 11)
    data = flac_bytes(samples)
    assert data[:4] == b"fLaC"
    assert data[4] & 0x7F == 0
    assert data[4] & 0x80
    info = data[8:42]
    packed = int.from_bytes(info[10:18], "big")
    assert packed >> 44 == 24000  # sample rate
    assert (packed >> 36) & 0x1F == 15  # 16 bits per sample
    total = packed & ((1 << 36) - 1)
    position, decoded = 42, []
    while position < len(data):
        header = data[position : position + 7]  # frame numbers here fit one UTF-8 byte
        assert header[:2] == b"\xff\xf8"
        assert _crc8(header) == data[position + 7]
        block = struct.unpack(">H", header[5:7])[0] + 1
        assert data[position + 8] == 0x02  # VERBATIM subframe
        end = position + 9 + 2 * block
        decoded.extend(struct.unpack(f">{block}h", data[position + 9 : end]))
        assert _crc16(data[position:end]) == struct.unpack(">H", data[end : end + 2])[0]
        position = end + 2
    assert len(decoded) == total
    assert decoded[: len(samples)] == list(samples)


def test_mp3_is_a_run_of_valid_mpeg2_layer3_frames() -> None:
    data = mp3_bytes(1.0)
    assert len(data) % 96 == 0
    assert len(data) // 96 == math.ceil(24000 / 576)
    for offset in range(0, len(data), 96):
        header = int.from_bytes(data[offset : offset + 4], "big")
        assert header >> 21 == 0x7FF  # frame sync
        assert (header >> 19) & 3 == 0b10
        assert (header >> 17) & 3 == 0b01
        assert (header >> 12) & 0xF == 4
        assert (header >> 10) & 3 == 1


def test_wav_and_mp4_structure() -> None:
    with wave.open(io.BytesIO(wav_bytes(pcm_samples(0.5, 1)))) as reader:
        assert (
            reader.getnchannels(),
            reader.getsampwidth(),
            reader.getframerate(),
            reader.getnframes(),
        ) == (1, 2, 24000, 12000)
    data = mp4_bytes(8)
    size, kind = struct.unpack(">I4s", data[:8])
    assert kind == b"ftyp"
    assert data[8:12] == b"isom"
    moov_size, moov = struct.unpack(">I4s", data[size : size + 8])
    assert moov == b"moov"
    assert size + moov_size == len(data)
    assert data[size + 12 : size + 16] == b"mvhd"
    timescale, duration = struct.unpack(">II", data[size + 28 : size + 36])
    assert duration / timescale == 8
