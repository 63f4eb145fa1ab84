"""One HTTP request on the wire, timed at every SSE event as it arrives: the harness's measuring
reader.

Reads with geventhttpclient's ``HTTPSocketResponse.readline(b"\\n")``, which returns as soon as a
line is buffered, and stamps ``time.perf_counter()`` before parsing. Locust's
``FastHttpSession.iter_lines()`` is avoided on purpose: it reads 1 KiB blocks
(``chunk_size=1024``) and geventhttpclient's ``read(n)`` waits for all n bytes, so small events
arrive batched: a late TTFT and collapsed gaps (``locust/contrib/fasthttp.py``).

SSE framing follows the WHATWG event-stream rules that OpenAI streams use: ``data:`` lines
accumulate until a blank line dispatches the event; an event is stamped when its first line
arrives. What an event means is :mod:`load.events`' business (chat chunks end with
``data: [DONE]``; Responses streams with their terminal event). Bodies that are not streams
(embeddings, images, audio, transcriptions) are read whole; their size is recorded.

Timeouts without a timer per read: gevent arms a ``Timeout`` for every ``recv`` of a socket
that has one (about a quarter of the client's CPU per event, measured with
``tests/benchmarks/bench_harness.py``), so connections carry none. The wait for the headers is
bounded by one ``gevent.Timeout`` per request; after them, an :class:`IdleWatch` greenlet closes
any response that made no progress for ``--timeout`` seconds (the reader stamps each line it
reads; the watch looks twice a second), which the request then reports as ``timeout``.

Must not: import locust (it runs inside locust users, but stays testable and light); log secrets.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from http.client import HTTPException
from typing import Any

import gevent
import orjson
from geventhttpclient import HTTPClient
from geventhttpclient.response import HTTPSocketPoolResponse

from load.clock import wall
from load.events import (
    EventKind,
    classify_chunk,
    classify_response_event,
    error_class,
    normalize_usage,
)
from load.metrics import TOKEN_KINDS, ErrorClass, RequestRecord, Usage
from load.scenarios.payloads import Outgoing

__all__ = ["IdleWatch", "execute"]

_DONE = b"[DONE]"

# One decoded SSE event -> (kind, usage, ends the stream).
Classifier = Callable[[Any], tuple[EventKind, Usage | None, bool]]


class IdleWatch:
    """In-flight responses and when each last made progress; :meth:`sweep` closes the idle."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        # id -> [last progress (perf_counter), socket, timed out]
        self.active: dict[int, list[Any]] = {}

    def sweep(self, now: float) -> int:
        """Close every response idle for longer than the timeout; how many were closed."""
        stale = [e for e in self.active.values() if now - e[0] > self.timeout and not e[2]]
        for entry in stale:
            entry[2] = True
            sock = entry[1]
            if sock is not None:
                sock.close()  # the reader's recv raises at once (gevent cancels its wait)
        return len(stale)

    def run(self) -> None:
        """The watch's greenlet: sweep twice a second (or faster for short timeouts)."""
        interval = min(0.5, self.timeout / 4)
        while True:
            gevent.sleep(interval)
            self.sweep(time.perf_counter())


def _chat_event(payload: Any) -> tuple[EventKind, Usage | None, bool]:
    kind, usage = classify_chunk(payload)
    return kind, usage, False  # chat streams end with data: [DONE]


_CLASSIFIERS: dict[str, Classifier] = {
    "chat-sse": _chat_event,
    "responses-sse": classify_response_event,
}


def _credits(headers: HTTPSocketPoolResponse, usage: Usage | None) -> float | None:
    if usage and isinstance(usage.get("credits_used"), int | float):
        return float(usage["credits_used"])
    value = headers.get("x-monday-credits-used")
    try:
        return float(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _retry_after(response: HTTPSocketPoolResponse) -> float | None:
    value = response.get("retry-after")
    try:
        return float(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _read_stream(
    response: HTTPSocketPoolResponse,
    sent: float,
    chunks: list[tuple[float, str, int]],
    classify: Classifier,
    progress: list[Any],
    *,
    needs_done: bool,
) -> tuple[float, Usage | None, ErrorClass | None, str | None]:
    """Read SSE events until the body ends; returns (end, usage, error class, detail)."""
    usage: Usage | None = None
    data: list[bytes] = []
    first_at = 0.0
    done = False
    error: ErrorClass | None = None
    detail = None
    end = time.perf_counter()
    readline = response.readline
    append = chunks.append
    while True:
        line = readline(b"\n")
        at = time.perf_counter()
        if not line:
            break
        end = progress[0] = at
        if line[:5] == b"data:":
            if not data:
                first_at = at
            line = line.rstrip(b"\r\n")
            data.append(line[6:] if line[5:6] == b" " else line[5:])
            continue
        if not data or line.strip(b"\r\n"):
            continue  # comments, event:/id:/retry: fields, stray blank lines
        payload = data[0] if len(data) == 1 else b"\n".join(data)
        data = []
        if payload == _DONE:
            done = True
            continue
        try:
            kind, event_usage, ends = classify(orjson.loads(payload))
        except orjson.JSONDecodeError:
            kind, event_usage, ends = "other", None, False
            error, detail = "protocol", "an SSE data field that is not JSON"
        if event_usage:
            usage = event_usage
        if kind == "error":
            error, detail = "stream_error", "in-stream error event"
        done = done or ends
        # A tuple of atoms: the garbage collector stops tracking it (fewer, shorter pauses).
        append((round((first_at - sent) * 1000.0, 3), kind, 1 if kind in TOKEN_KINDS else 0))
    if error is None and not done:
        error = "disconnect"
        detail = "stream ended without data: [DONE]" if needs_done else "stream ended early"
    return end, usage, error, detail


def execute(
    client: HTTPClient,
    request: Outgoing,
    *,
    kind: str,
    model: str,
    base_path: str,
    headers: dict[str, str],
    key_label: str | None,
    sched: float | None,
    step: int | None,
    watch: IdleWatch,
) -> RequestRecord:
    """Send one request and return its record. ``sched`` is the perf_counter schedule time."""
    chunks: list[tuple[float, str, int]] = []
    usage: Usage | None = None
    status = headers_ms = end_ms = credits = retry_after = None
    error: ErrorClass | None = None
    detail = deployment = None
    body_bytes = 0
    progress: list[Any] = [0.0, None, False]
    sent = time.perf_counter()
    try:
        with gevent.Timeout(watch.timeout, TimeoutError()):
            response = client.request(
                "POST",
                base_path + request.path,
                body=request.body,
                headers={**headers, "Content-Type": request.content_type},
            )
        got_headers = progress[0] = time.perf_counter()
        progress[1] = response._sock
        watch.active[id(progress)] = progress
        headers_ms = round((got_headers - sent) * 1000.0, 3)
        status = response.status_code
        served_by = response.get("x-parity-deployment")
        deployment = served_by if isinstance(served_by, str) else None
        try:
            streaming = str(response.get("content-type", "")).startswith("text/event-stream")
            classify = _CLASSIFIERS.get(request.protocol)
            if status < 400 and streaming and classify is not None:
                needs_done = request.protocol == "chat-sse"
                end, usage, error, detail = _read_stream(
                    response, sent, chunks, classify, progress, needs_done=needs_done
                )
            else:
                raw = response.read()
                end = time.perf_counter()
                body_bytes = len(raw)
                if status >= 400:
                    error, detail = error_class(status, raw)
                    retry_after = _retry_after(response)
                elif request.json_answer:
                    try:
                        parsed = orjson.loads(raw)
                        if isinstance(parsed, dict):
                            usage = normalize_usage(parsed.get("usage"))
                    except orjson.JSONDecodeError:
                        error, detail = "protocol", "a response body that is not JSON"
            end_ms = round((end - sent) * 1000.0, 3)
            credits = _credits(response, usage)
        finally:
            watch.active.pop(id(progress), None)
            response.release()
    except TimeoutError:
        error, detail = "timeout", "no answer within the request timeout"
    except ConnectionRefusedError:
        error, detail = "connect", "connection refused"
    except (OSError, ValueError, HTTPException) as exc:
        if progress[2]:  # the idle watch closed it
            error, detail = "timeout", "no progress within the request timeout"
        else:
            # Resets, parse errors of a broken response: the class, never the payload.
            error = "disconnect" if headers_ms is not None else "connect"
            detail = type(exc).__name__
    record = RequestRecord(
        kind=kind,
        model=model,
        key=key_label,
        step=step,
        sched=None if sched is None else wall(sched),
        send=wall(sent),
        headers_ms=headers_ms,
        end_ms=end_ms,
        status=status,
        error=error,
        detail=detail,
        chunks=chunks,
        usage=usage,
        credits=credits,
        retry_after=retry_after,
        deployment=deployment,
    )
    if body_bytes:
        record["body_bytes"] = body_bytes
    return record
