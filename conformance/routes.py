"""Which route serves which capability, and when a 404 says the target does not serve it.

An "OpenAI-compatible" target rarely serves every endpoint: llama.cpp serves no Responses API,
an embeddings server no chat. Discovery cannot tell (a chat model id is assumed to serve
Responses too), so the run learns it from the answers: a ``POST`` to a capability's creation
route, with the run's model for that capability, answered ``404`` by a body that does not name
the model (``Not Found``, ``{"detail": "Not Found"}``, OpenAI's own ``Invalid URL (POST
/v1/...)``), shows that the route itself is not served. The checks of that capability are then
skipped with that reason, unless the capability is promised: by the profile (``offers``) or by
a ``--model CAPABILITY=MODEL`` pin, where a 404 on the route stays the failure it is. A 404 that
names the model (OpenAI's ``model_not_found``) is a model error, never a missing route.

Must not: perform I/O, or decide any other verdict.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conformance.exchange import Exchange
    from conformance.vocabulary import Capability

__all__ = ["CREATE_ROUTES", "ServedRoutes", "unserved_capability"]

# The route that creates a capability's answer (OpenAI API reference, each endpoint's path),
# relative to the base URL. Realtime upgrades a WebSocket: its refusal is judged by its checks.
CREATE_ROUTES: Mapping[Capability, str] = {
    "chat": "/chat/completions",
    "responses": "/responses",
    "embedding": "/embeddings",
    "image": "/images/generations",
    "speech": "/audio/speech",
    "transcription": "/audio/transcriptions",
    "video": "/videos",
}
_MULTIPART_MODEL = re.compile(rb'name="model"\r\n(?:[^\r\n]*\r\n)*?\r\n([^\r\n]*)\r\n')


def _requested_model(exchange: Exchange) -> str | None:
    """The ``model`` the request named (a JSON body or a multipart form), or None."""
    content_type = exchange.request_headers.get("content-type", "")
    if content_type.startswith("multipart/"):
        match = _MULTIPART_MODEL.search(exchange.request_body)
        return match.group(1).decode("utf-8", errors="replace") if match else None
    try:
        body = json.loads(exchange.request_body) if exchange.request_body else None
    except ValueError:
        return None
    model = body.get("model") if isinstance(body, dict) else None
    return model if isinstance(model, str) else None


def _names_the_model(exchange: Exchange) -> bool:
    """The 404 is about the model: OpenAI's ``model_not_found`` code, ``param: model``, or a
    body that mentions a model at all (a gateway's "model x does not exist")."""
    try:
        body = exchange.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and (
        error.get("code") == "model_not_found" or error.get("param") == "model"
    ):
        return True
    return "model" in exchange.text.lower()


def unserved_capability(
    exchange: Exchange, base_url: str, models: Mapping[Capability, str]
) -> Capability | None:
    """The capability whose creation route ``exchange`` shows is not served, or None."""
    if exchange.status != 404 or exchange.method != "POST":
        return None
    path = exchange.url.split("?", 1)[0]
    base = base_url.rstrip("/")
    if not path.startswith(base):
        return None
    route = path[len(base) :].rstrip("/")
    for capability, create in CREATE_ROUTES.items():
        if route != create:
            continue
        model = models.get(capability)
        if model and _requested_model(exchange) == model and not _names_the_model(exchange):
            return capability
    return None


class ServedRoutes:
    """What one run has learned about the routes its target serves."""

    def __init__(self, base_url: str, promised: Collection[Capability] = ()) -> None:
        self.base_url = base_url
        self.promised = frozenset(promised)
        self._unserved: dict[Capability, str] = {}

    def reason(self, capability: Capability | None) -> str | None:
        """Why checks of ``capability`` are skipped, once its route was found not served."""
        return None if capability is None else self._unserved.get(capability)

    def learn(self, exchange: Exchange | None, models: Mapping[Capability, str]) -> str | None:
        """Note a 404 on a route that is not promised; returns the reason to skip, or None."""
        if exchange is None:
            return None
        capability = unserved_capability(exchange, self.base_url, models)
        if capability is None or capability in self.promised:
            return None
        return self._unserved.setdefault(
            capability,
            f"the target does not serve POST {CREATE_ROUTES[capability]} (404 on the route, "
            f"not a model error): it offers no {capability} endpoint; a profile that promises "
            f"it (offers: [{capability}]) or --model {capability}=MODEL makes this a failure",
        )
