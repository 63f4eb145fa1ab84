"""The JSON codec: orjson's speed, the standard library's answers at the edges."""

from __future__ import annotations

import json
import math

import pytest

from reference_server import json_codec

BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "héllo ✓"}], "n": 1}


def test_json_codec_round_trips_a_request_body():
    raw = json.dumps(BODY).encode()
    assert json_codec.decode(raw) == BODY
    assert json.loads(json_codec.encode(BODY)) == BODY
    assert "✓".encode() in json_codec.encode(BODY)  # UTF-8, not \\u escapes


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (json.dumps(BODY).encode("utf-16"), BODY),  # RFC 8259 8.1: json.loads accepts it
        (b'{"seed": 123456789012345678901234567890}', {"seed": 123456789012345678901234567890}),
        (b'{"max_tokens": 18446744073709551616}', {"max_tokens": 2**64}),
        (b'{"seed": -9223372036854775809}', {"seed": -(2**63) - 1}),
        (b'{"user": "\\ud800"}', {"user": "\ud800"}),
    ],
    ids=["utf-16", "big-int", "u64-plus-one", "i64-minus-one", "lone-surrogate"],
)
def test_json_codec_decodes_what_the_standard_library_decodes(raw, expected):
    assert repr(json_codec.decode(raw)) == repr(expected)  # repr: 2**64 is not 2.0**64


def test_json_codec_decodes_nan_like_the_standard_library():
    assert math.isnan(json_codec.decode(b'{"temperature": NaN}')["temperature"])


@pytest.mark.parametrize(
    "raw",
    [b"", b"{", b'{"a": 1,}', b"\xff\xfe\x00", b"[" * 100_000 + b"]" * 100_000],
    ids=["empty", "truncated", "trailing-comma", "bad-bytes", "too-deep"],
)
def test_json_codec_refuses_non_json_with_value_error(raw):
    with pytest.raises(ValueError, match=r".+"):
        json_codec.decode(raw)


def test_json_codec_error_names_the_position():
    with pytest.raises(ValueError, match=r"line 1 column \d+"):
        json_codec.decode(b'{"model": }')


@pytest.mark.parametrize(
    "payload",
    [{"user": "\ud800"}, {"seed": 2**70}, {1: "int key"}],
    ids=["lone-surrogate", "big-int", "int-key"],
)
def test_json_codec_encodes_what_orjson_cannot_as_valid_json(payload):
    raw = json_codec.encode(payload)
    raw.decode("ascii")  # escaped, so valid UTF-8 whatever the payload held
    assert json.loads(raw) == json.loads(json.dumps(payload))
