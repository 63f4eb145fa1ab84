"""One request before any load: is the target there, and does it answer this scenario at all?

An unreachable target or one that answers the scenario's request with an error raises
:class:`PreflightError` with a one-line explanation (``parity load`` exits 2, no load sent).
On success returns the credits the gateway reported for the request (header
``x-monday-credits-used`` or ``usage.credits_used`` on the final stream chunk), used to size the
budget scenario's budgets.

Must not: include the API key in any message; import locust.
"""

from __future__ import annotations

import json
import random

import httpx

from load.errors import PreflightError
from load.scenarios import RequestKind, build_request

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


def preflight(
    base_url: str, api_key: str, kind: RequestKind, model: str, *, timeout: float
) -> float | None:
    path, body = build_request(kind, model, random.Random(0), 4, "fixed")
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    url = base_url + path
    label = f"a preflight {kind} request for model {model!r}"
    try:
        with (
            httpx.Client(timeout=timeout) as client,
            client.stream("POST", url, json=body, headers=headers) as response,
        ):
            if response.status_code >= 400:
                response.read()
                raise PreflightError(
                    f"the target answered {response.status_code} ({_error_text(response)}) to "
                    f"{label} at {url}; no load sent"
                )
            credits = _float(response.headers.get("x-monday-credits-used"))
            if kind != "chat-stream":
                response.read()
                return credits
            for line in response.iter_lines():
                if not line.startswith("data:") or line[5:].strip() == "[DONE]":
                    continue
                try:
                    chunk = json.loads(line[5:])
                except ValueError:
                    raise PreflightError(
                        f"the target's stream for {label} carries data that is not JSON; "
                        "no load sent"
                    ) from None
                if isinstance(chunk, dict) and chunk.get("error"):
                    raise PreflightError(f"the target's stream for {label} ended in an error event")
                usage = chunk.get("usage") if isinstance(chunk, dict) else None
                if isinstance(usage, dict) and usage.get("credits_used") is not None:
                    credits = _float(usage["credits_used"])
            return credits
    except httpx.TimeoutException:
        raise PreflightError(f"{url} did not answer {label} within {timeout:g} s") from None
    except httpx.TransportError as exc:
        raise PreflightError(f"cannot reach {url} ({type(exc).__name__}); no load sent") from None
