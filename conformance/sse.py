"""A sans-IO Server-Sent Events decoder that follows the WHATWG rules and records framing issues.

Layers, as in openai-python and httpx-sse: bytes -> lines -> events. Lines end at LF, CR or
CRLF (a CR at the end of one read followed by LF at the start of the next is one line end);
a leading UTF-8 BOM is dropped; lines starting with ``:`` are comments; ``field: value`` loses
one space after the colon; several ``data`` lines are joined with ``\\n``; a blank line
dispatches the event (WHATWG HTML, "9.2.6 Interpreting an event stream").

Besides the events, the decoder records :class:`FramingIssue` records for what breaks real
clients although a browser would shrug:

- ``empty_data``: a blank line that the official openai-python SDK turns into an event with
  empty data, which it then hands to ``json.loads`` and raises on. The SDK dispatches whenever
  an ``event``, ``data``, ``retry`` or (ever) an ``id`` field was seen, so ``event: ping``,
  ``data:``, ``retry: 3000`` and a ``: ping`` comment after any ``id:`` all count.
- ``invalid_utf8``: a line that is not UTF-8 (the WHATWG rules decode with replacement; the SDK
  raises ``UnicodeDecodeError``).
- ``unterminated_event``: the stream ended inside an event (no blank line after it), which
  WHATWG clients discard.
- ``multiline_data``: one event carried several ``data`` lines (legal, but OpenAI sends one;
  clients that split on lines mis-parse it).

Must not: perform I/O, or judge OpenAI semantics (``[DONE]``, chunk JSON: see ``streams.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from conformance.exchange import Exchange

__all__ = [
    "DecodedStream",
    "FramingIssue",
    "IssueKind",
    "SSEDecoder",
    "ServerSentEvent",
    "TimedEvent",
    "decode_exchange",
    "decode_stream",
]

IssueKind = Literal["empty_data", "invalid_utf8", "unterminated_event", "multiline_data"]

_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    """One dispatched event. ``event`` defaults to ``"message"``; ``id`` is the last event id."""

    event: str
    data: str
    id: str | None = None
    retry: int | None = None


@dataclass(frozen=True, slots=True)
class FramingIssue:
    """Something in the byte stream that breaks a real client; ``offset`` is a byte offset."""

    kind: IssueKind
    offset: int
    detail: str


@dataclass(frozen=True, slots=True)
class TimedEvent:
    """An event and the time (seconds after the request was sent) its last byte arrived."""

    event: ServerSentEvent
    at: float


@dataclass(frozen=True, slots=True)
class DecodedStream:
    """A whole body decoded: its timed events and the framing issues found on the way."""

    events: tuple[TimedEvent, ...]
    issues: tuple[FramingIssue, ...]


@dataclass(slots=True)
class _Pending:
    """Buffers of the event being assembled (WHATWG: data buffer, event type buffer)."""

    data: list[str] = field(default_factory=list)
    event: str | None = None
    retry: int | None = None
    sdk_retry: bool = False  # openai-python accepts whatever int() parses
    fields: int = 0  # any field line seen since the last dispatch
    start: int = 0


class SSEDecoder:
    """Feed bytes in any split; get events out. ``issues`` accumulates framing issues."""

    def __init__(self) -> None:
        self.issues: list[FramingIssue] = []
        self._buffer = bytearray()
        self._offset = 0  # stream offset of _buffer[0]
        self._after_cr = False  # the previous read ended with CR: skip one LF
        self._started = False  # the BOM check is done
        self._last_id: str | None = None  # kept across events (WHATWG and the SDK alike)
        self._pending = _Pending()
        self._closed = False

    def feed(self, data: bytes) -> list[ServerSentEvent]:
        """Decode ``data`` (any slice of the stream) and return the events it completes."""
        if self._closed:
            raise ValueError("feed() after close(): the decoder is finished")
        self._buffer += data
        if not self._started:
            if len(self._buffer) < len(_BOM) and _BOM.startswith(bytes(self._buffer)):
                return []  # could still be a BOM split across reads
            if self._buffer.startswith(_BOM):
                del self._buffer[: len(_BOM)]
                self._offset += len(_BOM)
            self._started = True
        return self._drain()

    def close(self) -> list[ServerSentEvent]:
        """End of stream: an unfinished line is processed; an unfinished event is discarded."""
        self._closed = True
        if not self._started and self._buffer:
            self._started = True
        events = self._drain()
        if self._buffer:
            line = bytes(self._buffer)
            start = self._offset
            self._buffer.clear()
            self._offset += len(line)
            event = self._line(line, start)
            if event is not None:  # pragma: no cover - a non-blank line never dispatches
                events.append(event)
        if self._pending.data or self._pending.fields:
            self.issues.append(
                FramingIssue(
                    "unterminated_event",
                    self._pending.start,
                    "the stream ended inside an event (no blank line after it); "
                    "WHATWG clients discard it",
                )
            )
        self._pending = _Pending(start=self._offset)
        return events

    def _drain(self) -> list[ServerSentEvent]:
        events: list[ServerSentEvent] = []
        buf = self._buffer
        pos = 0
        if self._after_cr and buf:
            if buf[0] == 0x0A:
                pos = 1
            self._after_cr = False
        # Each search runs once per line end of its kind (a -1 stays -1: the buffer does not
        # change in this loop), so an LF-only stream is not rescanned for CR on every line.
        cr = buf.find(b"\r", pos)
        lf = buf.find(b"\n", pos)
        while cr != -1 or lf != -1:
            end = cr if lf == -1 or (cr != -1 and cr < lf) else lf
            line = bytes(buf[pos:end])
            start = self._offset + pos
            pos = end + 1
            if buf[end] == 0x0D:
                if pos < len(buf):
                    if buf[pos] == 0x0A:
                        pos += 1
                else:
                    self._after_cr = True
            event = self._line(line, start)
            if event is not None:
                events.append(event)
            if cr != -1 and cr < pos:
                cr = buf.find(b"\r", pos)
            if lf != -1 and lf < pos:
                lf = buf.find(b"\n", pos)
        del buf[:pos]
        self._offset += pos
        return events

    def _line(self, raw: bytes, start: int) -> ServerSentEvent | None:
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            self.issues.append(
                FramingIssue("invalid_utf8", start + exc.start, f"line {raw[:60]!r}: {exc.reason}")
            )
            line = raw.decode("utf-8", errors="replace")
        pending = self._pending
        if not line:
            return self._dispatch(start)
        if not pending.fields and not pending.data:
            pending.start = start
        if line.startswith(":"):
            return None
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            pending.data.append(value)
        elif name == "event":
            pending.event = value
        elif name == "id":
            if "\0" not in value:  # WHATWG: an id containing NULL is ignored
                self._last_id = value
        elif name == "retry":
            if value.isascii() and value.isdigit():
                pending.retry = int(value)
            try:
                int(value)
            except ValueError:
                pass
            else:
                pending.sdk_retry = True
        else:
            return None  # unknown fields are ignored
        pending.fields += 1
        return None

    def _dispatch(self, offset: int) -> ServerSentEvent | None:
        pending = self._pending
        self._pending = _Pending(start=offset + 1)
        # openai-python's SSEDecoder (_streaming.py) dispatches when any of event, data, retry or
        # the last event id is set, and Stream passes every event but [DONE] to json.loads: with
        # no data that is json.loads("") and a JSONDecodeError (openai/openai-python#2722).
        sdk_dispatches = (
            bool(pending.data) or bool(pending.event) or pending.sdk_retry or bool(self._last_id)
        )
        if sdk_dispatches and not "\n".join(pending.data):
            what = (
                "a keep-alive or field-only event" if not pending.data else "'data:' with no value"
            )
            self.issues.append(
                FramingIssue(
                    "empty_data",
                    pending.start,
                    f"{what} ends at byte {offset}: the official SDK parses its empty data "
                    "as JSON and raises",
                )
            )
        if len(pending.data) > 1:
            self.issues.append(
                FramingIssue(
                    "multiline_data",
                    pending.start,
                    f"one event carries {len(pending.data)} 'data:' lines (OpenAI sends one)",
                )
            )
        if not pending.data:
            return None  # WHATWG: an empty data buffer dispatches nothing
        return ServerSentEvent(
            event=pending.event or "message",
            data="\n".join(pending.data),
            id=self._last_id,
            retry=pending.retry,
        )


def decode_stream(exchange: Exchange) -> DecodedStream:
    """Decode an exchange's body read by read, timing each event by the read that completed it.

    Falls back to the whole body (timed at ``finished_at``) when the exchange has no reads.
    """
    decoder = SSEDecoder()
    timed: list[TimedEvent] = []
    reads = [(r.at, r.data) for r in exchange.reads]
    if not reads and exchange.body:
        reads = [(exchange.finished_at or 0.0, exchange.body)]
    last = 0.0
    for at, data in reads:
        last = at
        timed.extend(TimedEvent(event, at) for event in decoder.feed(data))
    timed.extend(TimedEvent(event, exchange.finished_at or last) for event in decoder.close())
    return DecodedStream(events=tuple(timed), issues=tuple(decoder.issues))


def decode_exchange(exchange: Exchange) -> list[TimedEvent]:
    """The events of an exchange's body with their arrival times (issues: :func:`decode_stream`)."""
    return list(decode_stream(exchange).events)
