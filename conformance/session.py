"""One run's state: its recording client, the context its checks share, and its models.

Owns: :class:`RunContext` (the run's :class:`CheckContext`: model per capability, ``shared()``
memoisation, the request budget through the recording client), model discovery from the
target's listings at the start of a run (the listings are seeded as shared exchanges, so the
model checks reuse them), the promise checks' keys (minted through the profile's key API at the
start, revoked at the end: ``conformance.keyring``), and :class:`RunSession`, which the runner
drives for a whole selection and the pytest plugin drives one check at a time. A profile check
the run could not judge is named in the run's notes with its reason (no silent skip).

Must not: print or write files, or decide how many checks run at once (the runner does).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import httpx

from conformance.client import RecordingClient
from conformance.context import CATALOG_KEY, MODELS_LIST_KEY
from conformance.discovery import choose_models, parse_listings
from conformance.errors import CheckSkipped, TargetRefusedError, TargetUnreachableError
from conformance.evidence import redactor_for
from conformance.keyring import Minted, mint_keys, revoke_keys
from conformance.outcomes import not_offered, run_one
from conformance.results import CheckResult, RunResult
from conformance.routes import ServedRoutes

if TYPE_CHECKING:
    from conformance.exchange import Exchange
    from conformance.registry import CheckSpec
    from conformance.target import Target
    from conformance.vocabulary import Capability

__all__ = ["DEFAULT_CHECK_TIMEOUT", "RunContext", "RunSession"]

DEFAULT_CHECK_TIMEOUT = 120.0


class RunContext:
    """The :class:`CheckContext` of one run: shared by every check of the run."""

    def __init__(
        self, target: Target, client: RecordingClient, routes: ServedRoutes | None = None
    ) -> None:
        self._target = target
        self._client = client
        self._shared: dict[str, asyncio.Future[Exchange]] = {}
        self.routes = routes or ServedRoutes(target.base_url)

    @property
    def target(self) -> Target:
        return self._target

    @property
    def client(self) -> RecordingClient:
        return self._client

    def model(self, capability: Capability) -> str:
        model = self._target.models.get(capability)
        if not model:
            raise CheckSkipped(not_offered(capability), kind="not_offered")
        unserved = self.routes.reason(capability)
        if unserved is not None:
            raise CheckSkipped(unserved, kind="not_served")
        return model

    async def shared(self, key: str, make: Callable[[], Awaitable[Exchange]]) -> Exchange:
        future = self._shared.get(key)
        if future is None:
            future = asyncio.ensure_future(make())
            self._shared[key] = future
        # shield: one check timing out must not cancel the request the others wait for.
        return await asyncio.shield(future)

    def seed(self, key: str, exchange: Exchange) -> None:
        """Make ``exchange`` the shared result for ``key`` (discovery uses this)."""
        future: asyncio.Future[Exchange] = asyncio.get_running_loop().create_future()
        future.set_result(exchange)
        self._shared[key] = future

    def note_tokens(self, exchange: Exchange) -> None:
        self._client.note_tokens(exchange)

    def spend(self, requests: int = 1) -> None:
        """Count requests made outside ``client`` (say, by the official SDK) against the budget."""
        self._client.spend(requests)


async def _get_json(client: RecordingClient, path: str, auth: bool) -> tuple[Exchange, object]:
    exchange = await client.request("GET", path, auth=auth)
    payload: object = None
    if exchange.status is not None and 200 <= exchange.status < 300:
        try:
            payload = exchange.json()
        except ValueError:
            payload = None
    return exchange, payload


async def _discover(context: RunContext, target: Target) -> tuple[dict[Capability, str], list[str]]:
    """Fetch the listings, seed them as shared exchanges, and choose a model per capability."""
    client = context.client
    notes: list[str] = []
    listing, models = await _get_json(client, "/models", auth=True)
    if listing.status is None:
        raise TargetUnreachableError(
            f"cannot reach {target.base_url} ({listing.error}); is the server running? "
            "start the reference server with `parity serve` or pass --base-url"
        )
    context.seed(MODELS_LIST_KEY, listing)
    if listing.status == 401 and not target.models:
        # Every check would be skipped or fail for the same reason: say it once, up front.
        given = "the API key was refused" if target.api_key else "no API key was given"
        raise TargetRefusedError(
            f"GET {target.base_url}/models answered 401: {given}; pass --api-key or set "
            "PARITY_API_KEY (or pin models with --model CAP=MODEL to run anyway)"
        )
    if listing.status in (401, 403):
        notes.append(
            f"GET /models answered {listing.status}: is the API key right? "
            "(--api-key, PARITY_API_KEY or OPENAI_API_KEY)"
        )
    elif listing.status == 404 and not target.base_url.rstrip("/").endswith("/v1"):
        notes.append(
            "GET /models answered 404: the base URL usually ends with /v1 "
            f"(try {target.base_url.rstrip('/')}/v1)"
        )
    elif models is None:
        notes.append(f"GET /models answered {listing.status} without a JSON model list")
    catalog_exchange, catalog = await _get_json(client, f"{target.origin}/api/models", auth=False)
    context.seed(CATALOG_KEY, catalog_exchange)
    chosen = choose_models(parse_listings(models, catalog), target.models)
    if not chosen:
        notes.append("no model found for any capability: pin models with --model CAP=MODEL")
    return chosen, notes


class RunSession:
    """One run's state: the client, the context and the discovered models.

    ``run_checks`` drives it for a whole selection; the pytest plugin drives it one check at a
    time. Use as an async context manager; :meth:`start` discovers the models.
    """

    def __init__(
        self,
        target: Target,
        *,
        discover: bool = True,
        skip: Collection[str] = (),
        check_timeout: float = DEFAULT_CHECK_TIMEOUT,
        request_timeout: float | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if check_timeout <= 0:
            raise ValueError(f"check_timeout must be > 0 seconds, got {check_timeout!r}")
        options = {} if request_timeout is None else {"timeout": request_timeout}
        self.client = RecordingClient(
            target.base_url,
            target.api_key,
            max_requests=target.max_requests,
            transport=transport,
            allow_fetch=target.allow_fetch,
            **options,
        )
        # A capability is promised by the profile or by a pin; its route's 404 stays a failure.
        pinned = [cap for cap, model in target.models.items() if model]
        self.declined = frozenset(cap for cap, model in target.models.items() if not model)
        promised = {*target.profile.offers, *pinned}
        self.context = RunContext(target, self.client, ServedRoutes(target.base_url, promised))
        self.discover = discover
        self._transport = transport
        self._minted: list[Minted] = []
        self.skip = frozenset(skip)
        self.check_timeout = check_timeout
        self.notes: list[str] = []
        self.started_at = datetime.now(UTC)
        self._start = time.perf_counter()
        self._started = False

    @property
    def target(self) -> Target:
        return self.context.target

    async def __aenter__(self) -> RunSession:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def start(self) -> Target:
        """Discover the models (once); returns the target as it will be run."""
        if not self._started:
            self._started = True
            target = self.context.target
            if self.discover:
                models, self.notes = await _discover(self.context, target)
            else:
                models = {cap: model for cap, model in target.models.items() if model}
            roles, self._minted = await mint_keys(target, transport=self._transport)
            self.context._target = replace(target, models=models, roles=roles)
        return self.context.target

    async def release_keys(self) -> None:
        """Revoke the keys minted at the start (once); a key that stays is named in the notes."""
        minted, self._minted = self._minted, []
        self.notes.extend(await revoke_keys(self.context.target, minted, transport=self._transport))

    async def run(self, spec: CheckSpec) -> CheckResult:
        await self.start()
        result = await run_one(
            spec,
            self.context,
            skip=self.skip,
            timeout=self.check_timeout,
            routes=self.context.routes,
            declined=self.declined,
        )
        # Only the session knows the keys minted at its start: a message that echoes one leaves
        # redacted, whoever prints it first (the terminal's progress line, the pytest plugin).
        if self._minted:
            redacted = redactor_for(self.context.target).text(result.message)
            if redacted != result.message:
                result = replace(result, message=redacted)
        return result

    def result(self, results: Iterable[CheckResult]) -> RunResult:
        results = list(results)
        # A promise not judged is said, with what would judge it (a skip looks like a pass).
        unjudged = [
            f"not judged: {r.id}: {r.message}"
            for r in results
            if r.area == "profile" and r.outcome == "skipped"
        ]
        return RunResult(
            target=self.context.target,
            results=results,
            requests=self.client.requests,
            tokens=self.client.tokens,
            started_at=self.started_at,
            duration=round(time.perf_counter() - self._start, 3),
            notes=(*self.notes, *unjudged),
        )

    async def close(self) -> None:
        # Shared requests nobody awaited to the end (their checks timed out) stop here.
        leftovers = list(self.context._shared.values())
        for future in leftovers:
            future.cancel()
        await asyncio.gather(*leftovers, return_exceptions=True)
        await self.release_keys()
        await self.client.aclose()
