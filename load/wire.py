"""One request on the wire, timed at every SSE event as it arrives: the harness's measuring reader.

Reads with geventhttpclient's ``HTTPSocketResponse.readline(b"\\n")``, which returns as soon as a
line is buffered, and stamps ``time.perf_counter()`` before parsing. Locust's
``FastHttpSession.iter_lines()`` is avoided on purpose: it reads 1 KiB blocks
(``chunk_size=1024``) and geventhttpclient's ``read(n)`` waits for all n bytes, so small events
arrive batched: a late TTFT and collapsed gaps (``locust/contrib/fasthttp.py``).

SSE framing follows the WHATWG event-stream rules that OpenAI streams use: ``data:`` lines
accumulate until a blank line dispatches the event; an event is stamped when its first line
arrives. Chunk kinds: ``role`` (a delta with only the role), ``content``, ``reasoning``, ``tool``
(tool_calls deltas), ``usage`` (``choices: []`` with usage), ``error`` (an in-stream error object).

Must not: import locust (it runs inside locust users, but stays testable and light); log secrets.
"""

from __future__ import annotations

import json
import time
from http.client import HTTPException
from typing import Any, cast

from geventhttpclient import HTTPClient
from geventhttpclient.response import HTTPSocketPoolResponse

from load.metrics import ErrorClass, RequestRecord, Usage

__all__ = ["classify_chunk", "execute"]

_TOKENS = frozenset({"content", "reasoning", "tool"})
# perf_counter -> Unix seconds, fixed once per process so records from several processes align.
_WALL_OFFSET = time.time() - time.perf_counter()


def classify_chunk(payload: Any) -> tuple[str, Usage | None]:
    """The kind of one decoded ``chat.completion.chunk`` and its usage, if it carries one."""
    if not isinstance(payload, dict):
        return "other", None
    if payload.get("error") is not None:
        return "error", None
    raw_usage = payload.get("usage")
    usage = cast("Usage | None", raw_usage if isinstance(raw_usage, dict) else None)
    choices = payload.get("choices")
    if not choices:
        return ("usage" if usage else "other"), usage
    delta = choices[0].get("delta") if isinstance(choices[0], dict) else None
    if not isinstance(delta, dict):
        return "other", usage
    if delta.get("tool_calls"):
        return "tool", usage
    if delta.get("content"):
        return "content", usage
    if delta.get("reasoning_content") or delta.get("reasoning"):
        return "reasoning", usage
    if delta.get("role"):
        return "role", usage
    return "other", usage


def _error_class(status: int, body: bytes) -> tuple[ErrorClass, str]:
    code = kind = None
    try:
        error = json.loads(body).get("error")
        if isinstance(error, dict):
            code, kind = error.get("code"), error.get("type")
            well_formed = isinstance(error.get("message"), str)
        else:
            well_formed = False
    except (ValueError, AttributeError):
        well_formed = False
    detail = f"{status} {code or kind or 'no error object'}"
    if status == 429:
        # OpenAI: an exhausted quota is 429 insufficient_quota; a rate limit is rate_limit_exceeded.
        if code == "insufficient_quota" and kind == "insufficient_quota" and well_formed:
            return "insufficient_quota", detail
        return "rate_limited", detail
    return ("http_5xx" if status >= 500 else "http_4xx"), detail


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
    response: HTTPSocketPoolResponse, sent: float, chunks: list[tuple[float, str, int]]
) -> tuple[float, Usage | None, ErrorClass | None, str | None]:
    """Read SSE events until the body ends; returns (end, usage, error class, detail)."""
    usage: Usage | None = None
    data: list[bytes] = []
    first_at = 0.0
    done = False
    error: ErrorClass | None = None
    detail = None
    end = time.perf_counter()
    while True:
        line = response.readline(b"\n")
        at = time.perf_counter()
        if not line:
            break
        end = at
        line = line.rstrip(b"\r\n")
        if line.startswith(b"data:"):
            if not data:
                first_at = at
            data.append(line[6:] if line[5:6] == b" " else line[5:])
            continue
        if line or not data:
            continue  # comments, event:/id:/retry: fields, stray blank lines
        payload = b"\n".join(data)
        data = []
        if payload == b"[DONE]":
            done = True
            continue
        try:
            kind, chunk_usage = classify_chunk(json.loads(payload))
        except ValueError:
            kind, chunk_usage = "other", None
            error, detail = "protocol", "an SSE data field that is not JSON"
        if chunk_usage:
            usage = chunk_usage
        if kind == "error":
            error, detail = "stream_error", "in-stream error event"
        # A tuple of atoms: the garbage collector stops tracking it (fewer, shorter pauses).
        chunks.append((round((first_at - sent) * 1000.0, 3), kind, 1 if kind in _TOKENS else 0))
    if error is None and not done:
        error, detail = "disconnect", "stream ended without data: [DONE]"
    return end, usage, error, detail


def execute(
    client: HTTPClient,
    *,
    kind: str,
    model: str,
    path: str,
    body: dict[str, Any],
    headers: dict[str, str],
    key_label: str | None,
    sched: float | None,
    step: int | None,
) -> RequestRecord:
    """Send one request and return its record. ``sched`` is the perf_counter schedule time."""
    payload = json.dumps(body).encode()
    chunks: list[tuple[float, str, int]] = []
    usage: Usage | None = None
    status = headers_ms = end_ms = credits = retry_after = None
    error: ErrorClass | None = None
    detail = deployment = None
    sent = time.perf_counter()
    try:
        response = client.request("POST", path, body=payload, headers=headers)
        got_headers = time.perf_counter()
        headers_ms = round((got_headers - sent) * 1000.0, 3)
        status = response.status_code
        served_by = response.get("x-parity-deployment")
        deployment = served_by if isinstance(served_by, str) else None
        try:
            streaming = str(response.get("content-type", "")).startswith("text/event-stream")
            if status < 400 and streaming:
                end, usage, error, detail = _read_stream(response, sent, chunks)
            else:
                raw = response.read()
                end = time.perf_counter()
                if status >= 400:
                    error, detail = _error_class(status, raw)
                    retry_after = _retry_after(response)
                else:
                    try:
                        parsed = json.loads(raw)
                        usage = parsed.get("usage") if isinstance(parsed, dict) else None
                    except ValueError:
                        error, detail = "protocol", "a response body that is not JSON"
            end_ms = round((end - sent) * 1000.0, 3)
            credits = _credits(response, usage)
        finally:
            response.release()
    except TimeoutError:
        error, detail = "timeout", "no answer within the request timeout"
    except ConnectionRefusedError:
        error, detail = "connect", "connection refused"
    except (OSError, ValueError, HTTPException) as exc:
        # Resets, parse errors of a broken response: the class, never the payload.
        error = "disconnect" if headers_ms is not None else "connect"
        detail = type(exc).__name__
    return RequestRecord(
        kind=kind,
        model=model,
        key=key_label,
        step=step,
        sched=None if sched is None else round(sched + _WALL_OFFSET, 6),
        send=round(sent + _WALL_OFFSET, 6),
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
