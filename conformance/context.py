"""The interface a check sees while it runs.

Checks depend on this Protocol, never on the runner, so the same checks run under
``parity check`` and under the pytest plugin.

Must not: hold state itself (its implementation, ``session.RunContext``, does).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from conformance.exchange import Exchange
    from conformance.target import Target
    from conformance.vocabulary import Capability

__all__ = ["CATALOG_KEY", "MODELS_LIST_KEY", "CheckContext", "Client"]

# shared() keys under which the run leaves its discovery requests (the model listings), so the
# checks that judge the listings reuse them instead of sending their own.
MODELS_LIST_KEY = "GET /models"
CATALOG_KEY = "GET /api/models"


class Client(Protocol):
    """Sends requests to the target and records them as :class:`Exchange` objects.

    Paths are relative to the target's base URL (``"/chat/completions"`` against a base URL
    ending in ``/v1``). The API key is sent as a bearer token unless ``auth=False`` or
    ``headers`` sets ``authorization`` itself. Transport errors do not raise: they come back
    as an Exchange with ``status=None`` and ``error`` set. Every request counts against the
    run's ``--max-requests``; when it is spent the client raises ``CheckSkipped``. An absolute
    URL on a host other than the target's (and not named with ``--allow-fetch``) is not
    fetched: the client raises ``CheckSkipped`` saying so.
    """

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        files: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: bool = True,
        timeout: float | None = None,
    ) -> Exchange: ...


class CheckContext(Protocol):
    """What a running check may use."""

    @property
    def target(self) -> Target: ...

    @property
    def client(self) -> Client: ...

    def model(self, capability: Capability) -> str:
        """The model to use for ``capability``; raises ``CheckSkipped`` when none is offered."""
        ...

    async def shared(self, key: str, make: Callable[[], Awaitable[Exchange]]) -> Exchange:
        """Run ``make`` once per run for ``key`` and hand every caller the same Exchange.

        Several checks judge one request (say, one streamed chat completion) this way, which
        keeps ``--level smoke`` under ~30 requests.
        """
        ...

    def note_tokens(self, exchange: Exchange) -> None:
        """Add the exchange's reported usage to the run's token count (for the summary).

        Exchanges made through ``client`` are counted already; counting one twice is ignored.
        Use this for exchanges made some other way.
        """
        ...

    def spend(self, requests: int = 1) -> None:
        """Count ``requests`` made outside ``client`` (say, by the official SDK) against
        ``--max-requests``; raises ``CheckSkipped`` when the budget cannot cover them."""
        ...
