"""The runner: runs selected checks against one target and turns their outcomes into results.

Owns: the run's :class:`CheckContext` implementation (model per capability, ``shared()``
memoisation, the request budget through the recording client), model discovery from the
target's listings, check selection (level, ``--only`` areas, ``--skip`` ids), bounded
concurrency and the per-check timeout.

Outcomes: a check that returns passed; ``CheckFailed``/``CheckWarning``/``CheckSkipped`` give
their outcome; running past the timeout is a failure (an OpenAI client would hang too); any
other exception is reported as a failure that names the exception, because it means the
response surprised the check (an honest "failed", never a silent pass).

Must not: print or write files (the command line and the report writers do), or import a check
module by name (checks are discovered from the ``conformance.checks`` package).
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import pkgutil
import time
import traceback
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import httpx

from conformance.client import RecordingClient
from conformance.discovery import choose_models, parse_listings
from conformance.exchange import Exchange
from conformance.profiles import OPENAI, Profile
from conformance.registry import (
    LEVELS,
    Capability,
    CheckFailed,
    CheckSkipped,
    CheckSpec,
    CheckWarning,
    Level,
    Outcome,
    Registry,
    registry,
)
from conformance.results import CheckResult, RunResult
from conformance.target import Target

if TYPE_CHECKING:
    from conformance.context import CheckContext

__all__ = [
    "CATALOG_KEY",
    "CHECK_PACKAGES",
    "DEFAULT_CHECK_TIMEOUT",
    "DEFAULT_CONCURRENCY",
    "MODELS_LIST_KEY",
    "CheckLoadError",
    "CheckResult",
    "RunContext",
    "RunResult",
    "RunSession",
    "TargetRefusedError",
    "TargetUnreachableError",
    "load_checks",
    "run_check_ids",
    "run_checks",
    "select_checks",
]

DEFAULT_CONCURRENCY = 4
DEFAULT_CHECK_TIMEOUT = 120.0
# shared() keys under which discovery leaves its exchanges, so model checks reuse them.
MODELS_LIST_KEY = "GET /models"
CATALOG_KEY = "GET /api/models"


class TargetUnreachableError(Exception):
    """The target did not answer at all (connection refused, DNS, TLS, timeout)."""


class TargetRefusedError(TargetUnreachableError):
    """The target answered, but refused the run's credentials before any check ran."""


class CheckLoadError(Exception):
    """A module under ``conformance.checks`` failed to import."""


class RunContext:
    """The :class:`CheckContext` of one run: shared by every check of the run."""

    def __init__(self, target: Target, client: RecordingClient) -> None:
        self._target = target
        self._client = client
        self._shared: dict[str, asyncio.Future[Exchange]] = {}

    @property
    def target(self) -> Target:
        return self._target

    @property
    def client(self) -> RecordingClient:
        return self._client

    def model(self, capability: Capability) -> str:
        model = self._target.models.get(capability)
        if not model:
            raise CheckSkipped(_not_offered(capability))
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


def _not_offered(capability: Capability) -> str:
    return (
        f"the target offers no {capability} model (none found in /v1/models or /api/models); "
        f"pin one with --model {capability}=MODEL"
    )


# Where checks live: every module under these packages (or the module itself) is imported and
# registers its checks with the global registry. The drills keep a registry of their own.
CHECK_PACKAGES: tuple[str, ...] = (
    "conformance.checks",
    "conformance.properties",
    "conformance.fuzz.checks",
)


def _import(name: str) -> object:
    try:
        return importlib.import_module(name)
    except Exception as exc:  # reported as one line naming the module
        raise CheckLoadError(f"cannot import {name}: {type(exc).__name__}: {exc}") from exc


def load_checks(packages: Iterable[str] = CHECK_PACKAGES) -> Registry:
    """Import every module under ``packages`` (each registers its checks); return the registry.

    A package that is not installed is passed over; one that fails to import raises
    :class:`CheckLoadError` naming it.
    """
    for package in packages:
        try:
            found = importlib.util.find_spec(package)
        except ModuleNotFoundError:
            found = None
        if found is None:
            continue
        root = _import(package)
        path = getattr(root, "__path__", None)
        if path is None:
            continue
        for info in pkgutil.walk_packages(path, prefix=f"{package}."):
            _import(info.name)
    return registry


def select_checks(
    specs: Iterable[CheckSpec],
    *,
    level: Level = "standard",
    only: Collection[str] = (),
    ids: Collection[str] = (),
) -> list[CheckSpec]:
    """Checks that run at ``level``, in the ``only`` areas (all when empty), or with ``ids``."""
    if level not in LEVELS:
        raise ValueError(f"level {level!r} is not one of {', '.join(LEVELS)}")
    chosen = [s for s in specs if s.runs_at(level)]
    if only:
        chosen = [s for s in chosen if s.area in only]
    if ids:
        chosen = [s for s in chosen if s.id in ids]
    return chosen


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


def _failure_message(exc: BaseException) -> str:
    frame = traceback.extract_tb(exc.__traceback__)[-1:]
    where = f" at {frame[0].filename.rsplit('/', 1)[-1]}:{frame[0].lineno}" if frame else ""
    return (
        f"the check raised {type(exc).__name__}: {exc}{where} (an unexpected response, or a "
        "bug in the check)"
    )


async def _run_one(
    spec: CheckSpec, context: RunContext, skip: Collection[str], timeout: float
) -> CheckResult:
    def result(outcome: Outcome, message: str, evidence: Exchange | None = None) -> CheckResult:
        return CheckResult(
            id=spec.id,
            area=spec.area,
            endpoint=spec.endpoint,
            outcome=outcome,
            message=message,
            source=spec.source,
            evidence=evidence,
            level=spec.level,
            asserts=spec.asserts,
            duration=round(time.perf_counter() - start, 3),
        )

    start = time.perf_counter()
    if spec.id in skip:
        return result("skipped", "skipped with --skip")
    if spec.capability is not None and not context.target.models.get(spec.capability):
        return result("skipped", _not_offered(spec.capability))
    check: Callable[[CheckContext], Awaitable[None]] = spec.func
    try:
        async with asyncio.timeout(timeout):
            await check(context)
    except CheckFailed as exc:
        return result("failed", exc.message, exc.evidence)
    except CheckWarning as exc:
        return result("warning", exc.message, exc.evidence)
    except CheckSkipped as exc:
        return result("skipped", exc.reason)
    except TimeoutError:
        return result(
            "failed", f"the check did not finish within {timeout:g} s: the target stopped answering"
        )
    except Exception as exc:  # noqa: BLE001 - becomes a failed result naming the exception
        return result("failed", _failure_message(exc))
    return result("passed", "")


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
            **options,
        )
        self.context = RunContext(target, self.client)
        self.discover = discover
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
            self.context._target = replace(target, models=models)
        return self.context.target

    async def run(self, spec: CheckSpec) -> CheckResult:
        await self.start()
        return await _run_one(spec, self.context, self.skip, self.check_timeout)

    def result(self, results: Iterable[CheckResult]) -> RunResult:
        return RunResult(
            target=self.context.target,
            results=list(results),
            requests=self.client.requests,
            tokens=self.client.tokens,
            started_at=self.started_at,
            duration=round(time.perf_counter() - self._start, 3),
            notes=tuple(self.notes),
        )

    async def close(self) -> None:
        # Shared requests nobody awaited to the end (their checks timed out) stop here.
        leftovers = list(self.context._shared.values())
        for future in leftovers:
            future.cancel()
        await asyncio.gather(*leftovers, return_exceptions=True)
        await self.client.aclose()


async def run_checks(
    target: Target,
    specs: Iterable[CheckSpec],
    *,
    discover: bool = True,
    skip: Collection[str] = (),
    concurrency: int = DEFAULT_CONCURRENCY,
    check_timeout: float = DEFAULT_CHECK_TIMEOUT,
    request_timeout: float | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    on_result: Callable[[CheckResult], None] | None = None,
) -> RunResult:
    """Run ``specs`` (already selected) against ``target``; results keep the order of ``specs``.

    With ``discover``, the models are read from the target's listings and ``target.models``
    act as pins (a pin of ``""`` marks a capability as not offered). Raises
    :class:`TargetUnreachableError` when discovery gets no answer at all.
    """
    if concurrency < 1:
        raise ValueError(f"concurrency must be >= 1, got {concurrency!r}")
    specs = list(specs)
    async with RunSession(
        target,
        discover=discover,
        skip=skip,
        check_timeout=check_timeout,
        request_timeout=request_timeout,
        transport=transport,
    ) as session:
        await session.start()
        gate = asyncio.Semaphore(concurrency)

        async def guarded(spec: CheckSpec) -> CheckResult:
            async with gate:
                outcome = await session.run(spec)
            if on_result is not None:
                on_result(outcome)
            return outcome

        results = await asyncio.gather(*(guarded(spec) for spec in specs))
        return session.result(results)


def run_check_ids(
    base_url: str,
    api_key: str | None,
    ids: Iterable[str],
    *,
    level: Level = "deep",
    models: Mapping[Capability, str] | None = None,
    profile: Profile | None = None,
    checks: Registry | None = None,
    discover: bool = True,
    max_requests: int | None = None,
    check_timeout: float = 30.0,
) -> RunResult:
    """Run the named checks (those of ``level`` or below) synchronously: for tests and scripts.

    ``checks`` defaults to every registered check (``load_checks()``); an unknown id raises
    ``KeyError`` naming it.
    """
    source = load_checks() if checks is None else checks
    wanted = list(ids)
    specs = [source.get(check_id) for check_id in wanted]
    target = Target(
        base_url=base_url,
        api_key=api_key,
        level=level,
        profile=profile or OPENAI,
        models=dict(models or {}),
        max_requests=max_requests,
    )
    return asyncio.run(
        run_checks(
            target,
            select_checks(specs, level=level),
            discover=discover,
            check_timeout=check_timeout,
        )
    )
