"""One request before any load: is the target there, and does it answer this kind of request?

An unreachable target or one that answers with an error raises
:class:`~load.errors.PreflightError` with a one-line explanation (``parity load`` exits 2, no
load sent). Every kind of a run is probed once (a mixed run probes each). On success returns the
credits the gateway reported for the request (header ``x-monday-credits-used`` or
``usage.credits_used`` on the final stream chunk), used to size the budget scenario's budgets.

Must not: include the API key in any message; import locust or gevent.
"""

from __future__ import annotations

import dataclasses
import json
import random

import httpx

from load.errors import PreflightError
from load.realtime import realtime_session
from load.scenarios.payloads import Outgoing, Sizes, build_request

__all__ = ["preflight"]


def _error_text(response: httpx.Response) -> str:
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        error = None
    if isinstance(error, dict):
        return str(error.get("code") or error.get("type") or "error object")
    return "no OpenAI error object"


def _float(value: object) -> float | None:
    try:
        return float(value) if isinstance(value, str | int | float) else None
    except ValueError:
        return None


def _stream_credits(response: httpx.Response, label: str) -> float | None:
    credits = _float(response.headers.get("x-monday-credits-used"))
    for line in response.iter_lines():
        if not line.startswith("data:") or line[5:].strip() == "[DONE]":
            continue
        try:
            event = json.loads(line[5:])
        except ValueError:
            raise PreflightError(
                f"the target's stream for {label} carries data that is not JSON; no load sent"
            ) from None
        if not isinstance(event, dict):
            continue
        if event.get("error") or event.get("type") in ("error", "response.failed"):
            raise PreflightError(f"the target's stream for {label} ended in an error event")
        usage = event.get("usage")
        if isinstance(usage, dict) and usage.get("credits_used") is not None:
            credits = _float(usage["credits_used"])
    return credits


def _http(
    base_url: str, api_key: str, request: Outgoing, label: str, timeout: float
) -> float | None:
    headers = {"Content-Type": request.content_type}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    url = base_url + request.path
    try:
        with (
            httpx.Client(timeout=timeout) as client,
            client.stream("POST", url, content=request.body, headers=headers) as response,
        ):
            if response.status_code >= 400:
                response.read()
                raise PreflightError(
                    f"the target answered {response.status_code} ({_error_text(response)}) to "
                    f"{label} at {url}; no load sent"
                )
            if request.protocol in ("chat-sse", "responses-sse"):
                return _stream_credits(response, label)
            response.read()
            return _float(response.headers.get("x-monday-credits-used"))
    except httpx.TimeoutException:
        raise PreflightError(f"{url} did not answer {label} within {timeout:g} s") from None
    except httpx.TransportError as exc:
        raise PreflightError(f"cannot reach {url} ({type(exc).__name__}); no load sent") from None


def preflight(
    base_url: str, api_key: str, kind: str, model: str, *, timeout: float, sizes: Sizes
) -> float | None:
    """Send one request of ``kind`` with the run's payload sizes (a short answer, though)."""
    probe = dataclasses.replace(sizes, max_tokens=4, lengths="fixed")
    request = build_request(kind, model, random.Random(0), probe)
    label = f"a preflight {kind} request for model {model!r}"
    if request.protocol != "realtime":
        return _http(base_url, api_key, request, label, timeout)
    record = realtime_session(
        base_url,
        request,
        api_key=api_key,
        timeout=timeout,
        model=model,
        key_label=None,
        sched=None,
        step=None,
    )
    if record["error"] is not None:
        raise PreflightError(
            f"the target's Realtime session for {label} failed ({record['detail']}) at "
            f"{base_url}{request.path.split('?')[0]}; no load sent"
        )
    return record["credits"]
