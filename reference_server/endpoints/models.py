"""``GET /v1/models``, ``GET /v1/models/{model}`` (auth) and ``GET /api/models`` (public catalog).

Must not: hold routing rules (``gateway/catalog.py``).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from reference_server.endpoints.http import gateway_of, json_response
from reference_server.errors import model_not_found
from reference_server.gateway.catalog import health, model_object, models_list, public_catalog

__all__ = ["catalog", "list_models", "retrieve_model"]


async def list_models(request: Request) -> Response:
    gateway = gateway_of(request)
    await gateway.authenticate(request.headers.get("authorization"))
    return json_response(models_list(gateway.settings, gateway.breakers))


async def retrieve_model(request: Request) -> Response:
    gateway = gateway_of(request)
    await gateway.authenticate(request.headers.get("authorization"))
    name = request.path_params["model"]
    entry = gateway.settings.model(name)
    if entry is None or health(entry, gateway.breakers) == "unhealthy":
        raise model_not_found(name)
    return json_response(model_object(entry))


async def catalog(request: Request) -> Response:
    gateway = gateway_of(request)
    return json_response(public_catalog(gateway.settings, gateway.breakers))
