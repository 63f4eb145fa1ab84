"""parity's own schemathesis checks: the error object, every stream chunk, listed models.

- ``openai_error_object``: every 4xx/5xx body is OpenAI's error object, the spec's
  ``ErrorResponse`` (``{"error": {"message", "type", "param", "code"}}``; API reference,
  "Error codes"). The official SDK builds ``APIStatusError.message`` from it. A profile with a
  documented auth error shape (``Profile.auth_error_shape``) exempts the shape (not the JSON)
  of 401 bodies.
- ``stream_chunk_conformance``: a ``text/event-stream`` answer is decoded with
  :class:`conformance.sse.SSEDecoder`, event by event in arrival order, and EVERY chunk (the
  ``data`` of each event but the ``[DONE]`` sentinel) must be JSON valid against the component
  the spec names for the stream (``CreateChatCompletionStreamResponse`` for chat); the first
  chunk that is not is reported with its position. Schemathesis' transport reads the stream
  as it arrives (up to ``max-stream-events``) and hands checks the bytes once it ends, so a
  chunk's position, not its arrival time, is what the report can name.

- ``listed_model_retrievable``: in the stateful phase, a model id that ``GET /models`` listed
  (followed through the spec's ``listModels -> retrieveModel`` link) must not answer 404.

All find their run through :func:`conformance.fuzz.session.session_for` and do nothing for
a schemathesis run that is not parity's.

Must not: send requests, or fail a response its run's profile documents as a deviation.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from conformance.fuzz.session import session_for
from conformance.sse import SSEDecoder

__all__ = [
    "CUSTOM_CHECKS",
    "install_checks",
    "listed_model_retrievable",
    "openai_error_object",
    "stream_chunk_conformance",
]

CUSTOM_CHECKS: tuple[str, ...] = (
    "openai_error_object",
    "stream_chunk_conformance",
    "listed_model_retrievable",
)

_DONE = "[DONE]"
_INSTALLED = threading.Event()
_LOCK = threading.Lock()


def _schema_errors(component: str, instance: Any, document: str) -> list[str]:
    from conformance.schemas import schema_errors

    return schema_errors(component, instance, document)


def _media_type(response: Any) -> str:
    # schemathesis' Response.headers: lowercase names, list values.
    values = response.headers.get("content-type") or [""]
    return str(values[0]).split(";", 1)[0].strip().lower()


def openai_error_object(ctx: Any, response: Any, case: Any) -> bool | None:
    """A 4xx/5xx answer carries OpenAI's error object (``ErrorResponse``)."""
    session = session_for(case)
    if session is None or response.status_code < 400:
        return None
    excerpt = response.content[:200].decode("utf-8", errors="replace")
    try:
        body = json.loads(response.content)
    except ValueError:
        raise AssertionError(
            f"status {response.status_code} with a body that is not JSON "
            f"(content-type {_media_type(response)!r}): {excerpt!r}; OpenAI answers every error "
            'with {"error": {"message", "type", "param", "code"}}'
        ) from None
    if response.status_code == 401 and session.auth_error_shape is not None:
        return None  # the profile documents its own JSON shape for auth failures
    errors = _schema_errors("ErrorResponse", body, session.document)
    if errors:
        raise AssertionError(
            f"status {response.status_code}: the body is not the OpenAI error object "
            f"(ErrorResponse): {'; '.join(errors[:3])}; body {excerpt!r}"
        )
    return None


def stream_chunk_conformance(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every chunk of an event stream matches the stream's chunk schema, in arrival order."""
    session = session_for(case)
    if session is None or not 200 <= response.status_code < 300:
        return None
    if _media_type(response) != "text/event-stream":
        return None
    component = session.stream_components.get((case.method.upper(), case.operation.path))
    if component is None:
        return None
    decoder = SSEDecoder()
    events = [*decoder.feed(response.content), *decoder.close()]
    chunks = [event for event in events if event.data.strip() != _DONE]
    for position, event in enumerate(chunks, start=1):
        try:
            chunk = json.loads(event.data)
        except ValueError:
            raise AssertionError(
                f"stream chunk {position} of {len(chunks)} is not JSON: {event.data[:200]!r}"
            ) from None
        errors = _schema_errors(component, chunk, session.document)
        if errors:
            raise AssertionError(
                f"stream chunk {position} of {len(chunks)} violates {component}: "
                f"{'; '.join(errors[:3])}; chunk {event.data[:300]!r}"
            )
    return None


def listed_model_retrievable(ctx: Any, response: Any, case: Any) -> bool | None:
    """A model id that ``GET /models`` listed is retrievable (stateful link list -> retrieve)."""
    if session_for(case) is None or case.operation.label != "GET /models/{model}":
        return None
    # CheckContext.internals (the run's recorder) is schemathesis' own API for built-in checks,
    # "may change without notice": pyproject pins schemathesis ~=4.32; without it, no verdict.
    internals = getattr(ctx, "internals", None)
    if internals is None:
        return None
    parent = internals.find_parent(case_id=case.id)
    if parent is None or parent.operation.label != "GET /models":
        return None
    listing = internals.find_response(case_id=parent.id)
    model = (case.path_parameters or {}).get("model")
    if response.status_code == 404 and model in _listed_ids(listing):
        raise AssertionError(
            f"GET /models listed {model!r} but GET /models/{{model}} answers 404; OpenAI's API "
            "reference (Models) retrieves any listed model"
        )
    return None


def _listed_ids(listing: Any) -> set[str]:
    """The ids of a ``ListModelsResponse`` (empty when it is not one)."""
    try:
        body = json.loads(listing.content) if listing is not None else None
    except ValueError:
        return set()
    data = body.get("data") if isinstance(body, dict) else None
    items = data if isinstance(data, list) else []
    return {
        item["id"] for item in items if isinstance(item, dict) and isinstance(item.get("id"), str)
    }


def install_checks() -> None:
    """Register both checks with schemathesis once per process."""
    if _INSTALLED.is_set():
        return
    import schemathesis

    with _LOCK:
        if _INSTALLED.is_set():
            return
        schemathesis.check(openai_error_object)
        schemathesis.check(stream_chunk_conformance)
        schemathesis.check(listed_model_retrievable)
        _INSTALLED.set()
