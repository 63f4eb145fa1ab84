"""The gateway admin API, as the budget and rate-limit scenarios use it (``spec/admin.yaml``).

``POST /admin/keys`` ``{name, owner, scopes, budget_credits, rpm, tpm}`` -> 201 ``{id, key, ...}``
(the secret is shown once); ``GET /admin/keys/{id}`` -> settings plus ``spent_credits`` and
``reserved_credits``; ``DELETE /admin/keys/{id}``. The admin API lives at the target's origin
(the base URL without ``/v1``), authenticated by the admin key (``--admin-key`` or
``PARITY_ADMIN_KEY``).

Must not: log or return secrets except to the caller that created the key; import locust.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from load.errors import AdminError

__all__ = ["AdminClient", "CreatedKey", "origin_of"]


@dataclass(frozen=True, slots=True)
class CreatedKey:
    id: str
    secret: str  # shown once by the gateway; passed to the locust process through its env only

    def __repr__(self) -> str:  # never print the secret
        return f"CreatedKey(id={self.id!r}, secret='***')"


def origin_of(base_url: str) -> str:
    """``http://h:p/v1`` -> ``http://h:p`` (the admin API and catalog live at the origin)."""
    url = httpx.URL(base_url)
    return str(url.copy_with(path="/", query=None, fragment=None)).rstrip("/")


class AdminClient:
    def __init__(self, base_url: str, admin_key: str, *, timeout: float = 10.0) -> None:
        self._origin = origin_of(base_url)
        self._http = httpx.Client(
            base_url=self._origin,
            headers={"Authorization": f"Bearer {admin_key}"},
            timeout=timeout,
        )

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise AdminError(f"admin API {method} {path}: {type(exc).__name__}") from None
        if response.status_code == 404 and method == "POST":
            raise AdminError(f"the target has no admin API ({method} {self._origin}{path} -> 404)")
        if response.status_code in (401, 403):
            raise AdminError(
                f"the admin API refused the admin key ({response.status_code}); "
                "pass --admin-key or set PARITY_ADMIN_KEY"
            )
        if response.status_code >= 400:
            raise AdminError(f"admin API {method} {path} -> {response.status_code}")
        if method == "DELETE":
            return None
        try:
            return response.json()
        except ValueError:
            raise AdminError(
                f"admin API {method} {path} answered a body that is not JSON"
            ) from None

    def create_key(
        self,
        name: str,
        *,
        budget_credits: float | None = None,
        rpm: int | None = None,
        tpm: int | None = None,
    ) -> CreatedKey:
        body = {
            "name": name,
            "owner": name,
            "scopes": ["ai:consume"],
            "budget_credits": budget_credits,
            "rpm": rpm,
            "tpm": tpm,
        }
        data = self._call("POST", "/admin/keys", json=body)
        if not isinstance(data, dict) or not data.get("id") or not data.get("key"):
            raise AdminError("POST /admin/keys answered without 'id' and 'key'")
        return CreatedKey(id=str(data["id"]), secret=str(data["key"]))

    def key_spend(self, key_id: str) -> tuple[float, float]:
        """(spent_credits, reserved_credits) of a key."""
        data = self._call("GET", f"/admin/keys/{key_id}")
        try:
            return float(data["spent_credits"]), float(data.get("reserved_credits") or 0.0)
        except (KeyError, TypeError, ValueError):
            raise AdminError(f"GET /admin/keys/{key_id} has no numeric 'spent_credits'") from None

    def delete_key(self, key_id: str) -> None:
        self._call("DELETE", f"/admin/keys/{key_id}")
