"""One Realtime session on the wire (OpenAI Realtime API over WebSocket), timed at every event.

A session: open the WebSocket (``GET /v1/realtime?model=...`` upgraded, the key as
``Authorization: Bearer``), wait for ``session.created``, send ``conversation.item.create`` and
``response.create``, read events until ``response.done``, close. The record's ``send`` is the
connect; ``headers_ms`` the 101 answer; marks ``session_created_ms`` and ``request_ms`` (when
``response.create`` left, where TTFT starts); one chunk row per server event as in an SSE
stream, so TTFT (first text delta after ``response.create``), ITL and deltas per second come out
of :func:`load.metrics.derive` like any stream's.

The WebSocket protocol is websockets' sans-I/O ``ClientProtocol`` over a plain ``socket`` (which
locust's gevent monkey-patching makes cooperative), with no compression extension: events are
stamped with ``time.perf_counter()`` as their bytes return from ``recv``.

Must not: import locust or gevent (it runs in locust users but also in a plain process); log
secrets or frame payloads.
"""

from __future__ import annotations

import socket
import ssl
import time
from urllib.parse import urlsplit

import orjson
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri

from load.clock import wall
from load.events import classify_realtime, error_class
from load.metrics import TOKEN_KINDS, ErrorClass, RequestRecord, Usage
from load.scenarios.payloads import Outgoing

__all__ = ["realtime_session"]


class _Failed(Exception):
    def __init__(self, error: ErrorClass, detail: str, status: int | None = None) -> None:
        super().__init__(detail)
        self.error: ErrorClass = error
        self.detail = detail
        self.status = status


def _ws_url(base_url: str, path: str) -> str:
    parts = urlsplit(base_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return f"{scheme}://{parts.netloc}{parts.path.rstrip('/')}{path}"


class _Session:
    def __init__(self, url: str, api_key: str, timeout: float) -> None:
        uri = parse_uri(url)
        self.protocol = ClientProtocol(uri, max_size=None)
        raw = socket.create_connection((uri.host, uri.port), timeout=timeout)
        if uri.secure:
            raw = ssl.create_default_context().wrap_socket(raw, server_hostname=uri.host)
        self.sock = raw
        self.sock.settimeout(timeout)
        request = self.protocol.connect()
        if api_key:
            request.headers["Authorization"] = f"Bearer {api_key}"
        self.protocol.send_request(request)
        self._flush()
        self.partial: list[bytes] = []

    def _flush(self) -> None:
        for data in self.protocol.data_to_send():
            if data:
                self.sock.sendall(data)

    def send(self, message: bytes) -> None:
        self.protocol.send_text(message)
        self._flush()

    def receive(self) -> tuple[float, list[Response | bytes]]:
        """The next batch of events: (arrival stamp, handshake response or text messages)."""
        data = self.sock.recv(65536)
        at = time.perf_counter()
        if not data:
            self.protocol.receive_eof()
            raise _Failed("disconnect", "the server closed the connection")
        self.protocol.receive_data(data)
        out: list[Response | bytes] = []
        for event in self.protocol.events_received():
            if isinstance(event, Response):
                out.append(event)
            elif isinstance(event, Frame):
                self._frame(event, out)
        self._flush()  # pongs and close replies
        return at, out

    def _frame(self, frame: Frame, out: list[Response | bytes]) -> None:
        if frame.opcode in (Opcode.TEXT, Opcode.BINARY, Opcode.CONT):
            self.partial.append(bytes(frame.data))
            if frame.fin:
                out.append(b"".join(self.partial))
                self.partial = []
        elif frame.opcode is Opcode.CLOSE:
            raise _Failed(
                "disconnect", f"the server closed the session ({self.protocol.close_code})"
            )

    def close(self) -> None:
        try:
            self.protocol.send_close()
            self._flush()
        except OSError:
            pass  # the peer is gone: nothing left to tell it
        finally:
            self.sock.close()


def realtime_session(
    base_url: str,
    request: Outgoing,
    *,
    api_key: str,
    timeout: float,
    model: str,
    key_label: str | None,
    sched: float | None,
    step: int | None,
) -> RequestRecord:
    """Run one session and return its record (``kind`` ``realtime``)."""
    chunks: list[tuple[float, str, int]] = []
    marks: dict[str, float] = {}
    usage: Usage | None = None
    status: int | None = None
    headers_ms = end_ms = None
    error: ErrorClass | None = None
    detail: str | None = None
    sent = time.perf_counter()

    def ms(at: float) -> float:
        return round((at - sent) * 1000.0, 3)

    session: _Session | None = None
    try:
        session = _Session(_ws_url(base_url, request.path), api_key, timeout)
        done = False
        while not done:
            at, events = session.receive()
            for event in events:
                if isinstance(event, Response):
                    status, headers_ms = event.status_code, ms(at)
                    if event.status_code != 101:
                        raise _Failed(
                            *error_class(event.status_code, bytes(event.body or b"")), status
                        )
                    continue
                kind, event_usage, ends = classify_realtime(orjson.loads(event))
                chunks.append((ms(at), kind, 1 if kind in TOKEN_KINDS else 0))
                usage = event_usage or usage
                if kind == "session" and "session_created_ms" not in marks:
                    marks["session_created_ms"] = ms(at)
                    session.send(request.body)
                    marks["request_ms"] = ms(time.perf_counter())
                    session.send(request.follow_up)
                if kind == "error":
                    raise _Failed("stream_error", "in-session error event")
                if ends and "request_ms" in marks:
                    done, end_ms = True, ms(at)
                    break
    except _Failed as exc:
        error, detail = exc.error, exc.detail
        status = exc.status or status
    except orjson.JSONDecodeError:
        error, detail = "protocol", "a Realtime event that is not JSON"
    except TimeoutError:
        error, detail = "timeout", "no event within the request timeout"
    except ConnectionRefusedError:
        error, detail = "connect", "connection refused"
    except (OSError, ValueError) as exc:
        error = "disconnect" if headers_ms is not None else "connect"
        detail = type(exc).__name__
    finally:
        if session is not None:
            session.close()
    if error is not None and end_ms is None and chunks:
        end_ms = chunks[-1][0]
    record = RequestRecord(
        kind="realtime",
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
        credits=float(usage["credits_used"]) if usage and "credits_used" in usage else None,
        retry_after=None,
        deployment=None,
    )
    record["marks"] = marks
    return record
