from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.exchange import Exchange, Read
from conformance.sse import ServerSentEvent, SSEDecoder, decode_exchange, decode_stream

ENDINGS = {"lf": "\n", "cr": "\r", "crlf": "\r\n"}

STREAM = (
    ": a comment{nl}"
    'data: {{"a": 1}}{nl}{nl}'
    "event: custom{nl}data:no-space{nl}{nl}"
    "data: line one{nl}data: line two{nl}{nl}"
    "retry: 2500{nl}data: x{nl}{nl}"
    "data: caf\u00e9 \u2603{nl}{nl}"
    "data: [DONE]{nl}{nl}"
)
EXPECTED = [
    ServerSentEvent("message", '{"a": 1}'),
    ServerSentEvent("custom", "no-space"),
    ServerSentEvent("message", "line one\nline two"),
    ServerSentEvent("message", "x", retry=2500),
    ServerSentEvent("message", "caf\u00e9 \u2603"),
    ServerSentEvent("message", "[DONE]"),
]


def decode(*parts: bytes) -> tuple[list[ServerSentEvent], SSEDecoder]:
    decoder = SSEDecoder()
    events: list[ServerSentEvent] = []
    for part in parts:
        events.extend(decoder.feed(part))
    events.extend(decoder.close())
    return events, decoder


@pytest.mark.parametrize("ending", list(ENDINGS.values()), ids=list(ENDINGS))
def test_sse_decoder_same_events_at_every_split(ending: str) -> None:
    data = STREAM.format(nl=ending).encode()
    for offset in range(len(data) + 1):
        events, decoder = decode(data[:offset], data[offset:])
        assert events == EXPECTED, f"split at byte {offset}"
        kinds = [issue.kind for issue in decoder.issues]
        assert kinds == ["multiline_data"], f"split at byte {offset}: {decoder.issues}"


@pytest.mark.parametrize("ending", list(ENDINGS.values()), ids=list(ENDINGS))
def test_sse_decoder_one_byte_reads(ending: str) -> None:
    data = STREAM.format(nl=ending).encode()
    events, _ = decode(*(data[i : i + 1] for i in range(len(data))))
    assert events == EXPECTED


def test_sse_decoder_cr_then_lf_in_next_read_is_one_line_end() -> None:
    events, decoder = decode(b"data: a\r", b"\ndata: b\r", b"\n\r\n")
    assert events == [ServerSentEvent("message", "a\nb")]
    assert [i.kind for i in decoder.issues] == ["multiline_data"]


def test_sse_decoder_cr_then_cr_is_a_blank_line() -> None:
    events, _ = decode(b"data: a\r", b"\rdata: b\r\r")
    assert events == [ServerSentEvent("message", "a"), ServerSentEvent("message", "b")]


def test_sse_decoder_strips_one_leading_bom_even_split() -> None:
    events, _ = decode(b"\xef", b"\xbb", b"\xbfdata: x\n\n")
    assert events == [ServerSentEvent("message", "x")]
    events, _ = decode(b"\xef\xbb\xbf\xef\xbb\xbfdata: x\n\n")
    assert events == []  # only the first BOM is dropped; the second makes an unknown field


def test_sse_decoder_field_rules() -> None:
    events, _ = decode(b"data\n\ndata:  two spaces\nid: 7\nunknown: z\n\n")
    assert events == [
        ServerSentEvent("message", ""),
        ServerSentEvent("message", " two spaces", "7"),
    ]


def test_sse_decoder_id_persists_and_null_id_is_ignored() -> None:
    events, _ = decode(b"id: 1\ndata: a\n\ndata: b\n\nid: x\x00y\ndata: c\n\n")
    assert [e.id for e in events] == ["1", "1", "1"]


def test_sse_decoder_retry_must_be_digits() -> None:
    events, _ = decode(b"retry: 12a\ndata: x\n\n")
    assert events == [ServerSentEvent("message", "x")]


@pytest.mark.parametrize(
    ("wire", "dispatched"),
    [
        (b"event: ping\n\n", []),
        (b"data:\n\n", [ServerSentEvent("message", "")]),
        (b"retry: 3000\n\n", []),
        (b"id: 1\ndata: {}\n\n: ping\n\n", [ServerSentEvent("message", "{}", "1")]),
        (b"id: 1\ndata: {}\n\n\n", [ServerSentEvent("message", "{}", "1")]),
    ],
    ids=["event-only", "bare-data", "retry-only", "comment-after-id", "extra-blank-after-id"],
)
def test_sse_decoder_flags_what_the_sdk_dispatches_empty(
    wire: bytes, dispatched: list[ServerSentEvent]
) -> None:
    events, decoder = decode(wire)
    assert events == dispatched  # WHATWG dispatch rules
    assert [i.kind for i in decoder.issues] == ["empty_data"]


@pytest.mark.parametrize(
    "wire",
    [b": ping\n\ndata: {}\n\n", b"data: {}\n\n: ping\n\n\n", b"id:\ndata: {}\n\n: ping\n\n"],
    ids=["comment-before-any-id", "comment-without-id", "empty-id-resets"],
)
def test_sse_decoder_harmless_keepalives_are_not_flagged(wire: bytes) -> None:
    _, decoder = decode(wire)
    assert decoder.issues == []


def test_sse_decoder_flags_invalid_utf8_with_offset() -> None:
    events, decoder = decode(b"data: ok\n\ndata: caf\xff\n\n")
    assert events[1].data == "caf\ufffd"
    assert [(i.kind, i.offset) for i in decoder.issues] == [("invalid_utf8", 19)]


def test_sse_decoder_multibyte_split_across_reads_is_fine() -> None:
    data = "data: \u2603\n\n".encode()
    for offset in range(len(data) + 1):
        events, decoder = decode(data[:offset], data[offset:])
        assert events == [ServerSentEvent("message", "\u2603")]
        assert decoder.issues == []


def test_sse_decoder_discards_and_flags_an_unterminated_event() -> None:
    events, decoder = decode(b"data: a\n\ndata: [DONE]")
    assert events == [ServerSentEvent("message", "a")]
    assert [i.kind for i in decoder.issues] == ["unterminated_event"]
    assert decoder.issues[0].offset == 9


def test_sse_decoder_refuses_feed_after_close() -> None:
    decoder = SSEDecoder()
    decoder.close()
    with pytest.raises(ValueError, match="after close"):
        decoder.feed(b"data: x\n\n")


def _exchange(*reads: tuple[float, bytes]) -> Exchange:
    return Exchange(
        method="POST",
        url="http://127.0.0.1/v1/chat/completions",
        request_headers={},
        request_body=b"",
        status=200,
        headers={"content-type": "text/event-stream"},
        body=b"".join(d for _, d in reads),
        reads=tuple(Read(at, d) for at, d in reads),
        finished_at=reads[-1][0] + 0.01 if reads else 0.0,
    )


def test_decode_exchange_times_events_by_the_read_that_completes_them() -> None:
    exchange = _exchange((0.1, b"data: a\n"), (0.2, b"\ndata: b\n\nda"), (0.5, b"ta: c\n\n"))
    timed = decode_exchange(exchange)
    assert [(t.event.data, t.at) for t in timed] == [("a", 0.2), ("b", 0.2), ("c", 0.5)]


def test_decode_stream_without_reads_uses_the_body() -> None:
    exchange = Exchange(
        method="GET", url="u", request_headers={}, request_body=b"", status=200,
        body=b"data: x\n\nevent: ping\n\n", finished_at=1.5,
    )  # fmt: skip
    decoded = decode_stream(exchange)
    assert [(t.event.data, t.at) for t in decoded.events] == [("x", 1.5)]
    assert [i.kind for i in decoded.issues] == ["empty_data"]


_fields = st.sampled_from(["data", "event", "id", "retry", "x"])
_values = st.text(alphabet=st.characters(blacklist_characters="\r\n\x00"), max_size=12)
_lines = st.one_of(
    st.tuples(_fields, _values).map(lambda fv: f"{fv[0]}: {fv[1]}"),
    _values.map(lambda v: f":{v}"),
    st.just(""),
)


@settings(max_examples=150, deadline=None)
@given(
    lines=st.lists(_lines, max_size=20),
    ending=st.sampled_from(list(ENDINGS.values())),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=6),
)
def test_sse_decoder_split_invariance(lines: list[str], ending: str, cuts: list[int]) -> None:
    data = "".join(line + ending for line in lines).encode("utf-8", "surrogatepass")
    whole, whole_decoder = decode(data)
    points = sorted({min(c, len(data)) for c in cuts})
    parts = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    split, split_decoder = decode(*parts)
    assert split == whole
    assert split_decoder.issues == whole_decoder.issues


@settings(max_examples=100, deadline=None)
@given(
    payloads=st.lists(
        st.text(max_size=20).filter(lambda s: "\r" not in s and "\n" not in s), max_size=8
    )
)
def test_sse_decoder_round_trips_single_line_payloads(payloads: list[str]) -> None:
    data = "".join(f"data: {p}\n\n" for p in payloads).encode()
    events, decoder = decode(data)
    assert [e.data for e in events] == payloads
    # A payload that is empty is exactly what the SDK chokes on, and nothing else is flagged.
    assert len(decoder.issues) == sum(1 for p in payloads if p == "")


_ascii = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=10)
_sdk_lines = st.one_of(
    st.tuples(_fields, _ascii).map(lambda fv: f"{fv[0]}: {fv[1]}"),
    st.tuples(_fields, _ascii).map(lambda fv: f"{fv[0]}:{fv[1]}"),
    _ascii.map(lambda v: f":{v}"),
    st.just(""),
)


@settings(max_examples=200, deadline=None)
@given(lines=st.lists(_sdk_lines, max_size=16), ending=st.sampled_from(list(ENDINGS.values())))
def test_sse_decoder_agrees_with_the_official_sdk(lines: list[str], ending: str) -> None:
    """openai-python's decoder is the oracle: same non-empty events, and every event it would
    hand to json.loads empty is flagged as ``empty_data``."""
    from openai._streaming import SSEDecoder as SdkDecoder

    data = "".join(line + ending for line in lines).encode()
    sdk = list(SdkDecoder().iter_bytes(iter([data])))
    ours, decoder = decode(data)
    assert [(e.data, e.id) for e in ours if e.data] == [(e.data, e.id) for e in sdk if e.data]
    flagged = [i for i in decoder.issues if i.kind == "empty_data"]
    assert len(flagged) == sum(1 for e in sdk if not e.data)
