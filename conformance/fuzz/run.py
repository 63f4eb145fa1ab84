"""One bounded schemathesis run against a target, turned into a :class:`FuzzReport`.

Drives schemathesis 4 through its Python API (``schemathesis.openapi.from_dict`` and
``schemathesis.engine.from_schema(...).execute()``, the event stream its CLI consumes): the
examples, coverage, fuzzing and stateful phases over ``spec/openai.yaml`` (and
``spec/catalog.yaml`` when the target serves ``GET /api/models``), the built-in checks named
in :data:`~conformance.fuzz.settings.BUILTIN_CHECKS` plus parity's
:mod:`~conformance.fuzz.oracles`. Every failure becomes a :class:`FuzzFinding`; schemathesis'
own errors (network errors, schemas it cannot generate from) become report lines.

Synchronous and blocking (schemathesis sends with ``requests`` from its own threads): async
callers run it in a worker thread.

Must not: import the runner, or send a request the budget does not admit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from conformance.fuzz.collector import Collector
from conformance.fuzz.document import Deviations, Document, load_document, prepare_document
from conformance.fuzz.findings import FuzzReport, redact
from conformance.fuzz.oracles import CUSTOM_CHECKS, install_checks
from conformance.fuzz.session import FuzzSession, install_hooks
from conformance.fuzz.settings import FuzzSettings, schemathesis_config
from conformance.registry import Capability

__all__ = ["FuzzTarget", "run_fuzz"]

# The catalog is a gateway extension, not OpenAI's API: a small share of the budget.
_CATALOG_SHARE = 0.1
# Coverage enumerates boundary and invalid values deterministically and could spend the whole
# budget on the first large request schema: it gets half, split evenly between operations and
# between valid and invalid cases; the generative phases get the rest.
_COVERAGE_SHARE = 0.5
# The fuzzing phase gets this share, split evenly between operations (its example count), so
# every operation is fuzzed and the stateful phase keeps what the others leave.
_FUZZING_SHARE = 0.4
_TARGET_ERROR_KINDS = ("connection_", "network_", "server_unavailable")
_TIME_CAPPED = "max_time (cut by the clock: a replay may reach further or less far)"


@dataclass(frozen=True, slots=True)
class FuzzTarget:
    """Where to fuzz: base URL (``.../v1``), key, one model per offered capability, and the
    profile's documented deviations (auth error shape, default model, images as b64 only)."""

    base_url: str
    api_key: str | None
    models: Mapping[Capability, str] = field(default_factory=dict)
    auth_error_shape: str | None = None
    deviations: Deviations = field(default_factory=Deviations)

    @property
    def origin(self) -> str:
        scheme, _, rest = self.base_url.partition("://")
        return f"{scheme}://{rest.split('/', 1)[0]}"


def _serves_catalog(target: FuzzTarget, timeout: float) -> bool:
    import httpx

    try:
        response = httpx.get(f"{target.origin}/api/models", timeout=timeout)
    except httpx.HTTPError:
        return False
    return response.status_code == 200 and "json" in response.headers.get("content-type", "")


def _execute(schema: Any) -> tuple[Iterable[Any], Any]:
    """``Engine.execute()`` of schemathesis 4.32, keeping hold of the run's ExecutionControl."""
    import threading

    from schemathesis.config import InferenceAlgorithm
    from schemathesis.engine import from_schema
    from schemathesis.engine.context import EngineContext
    from schemathesis.engine.observations import Observations
    from schemathesis.engine.run import PhaseName, PhaseSkipReason

    plan = from_schema(schema)._create_execution_plan()
    inference = schema.config.phases.stateful.inference
    wants_observations = any(
        phase.name == PhaseName.STATEFUL_TESTING
        and phase.skip_reason in (None, PhaseSkipReason.NOT_APPLICABLE)
        for phase in plan.phases
    ) and inference.is_algorithm_enabled(InferenceAlgorithm.LOCATION_HEADERS)
    ctx = EngineContext(
        schema=schema,
        stop_event=threading.Event(),
        observations=Observations() if wants_observations else None,
        max_time=schema.config.max_time,
    )
    return plan.execute(ctx), ctx.control


def _run_document(
    document: Document,
    target: FuzzTarget,
    settings: FuzzSettings,
    *,
    seed: int,
    budget: int,
    max_time: int,
    collector: Collector,
    on_send: Callable[[], bool] | None,
) -> tuple[int, str]:
    import schemathesis
    from schemathesis.engine import events

    headers = {"Authorization": f"Bearer {target.api_key}"} if target.api_key else {}
    base_url = document.raw["servers"][0]["url"]
    config = schemathesis.Config.from_dict(
        schemathesis_config(
            settings,
            base_url=base_url,
            seed=seed,
            headers=headers,
            custom_checks=CUSTOM_CHECKS,
            fuzz_examples=int(budget * _FUZZING_SHARE / len(document.operation_ids)),
        )
    )
    schema = schemathesis.openapi.from_dict(document.raw, config=config)
    session = FuzzSession(
        models=target.models,
        stream_components=document.stream_components,
        budget=budget,
        max_tokens=settings.max_tokens,
        max_choices=settings.max_choices,
        auth_error_shape=target.auth_error_shape,
        document=document.name,
        on_send=on_send,
        coverage_cap=max(1, int(budget * _COVERAGE_SHARE / 2 / len(document.operation_ids))),
    )
    session.open(schema)
    collector.document = document
    stop_reason = "completed"
    # The clock is parity's, not schemathesis': given a time budget, schemathesis splits it
    # into per-operation slices and cuts each operation's cases when its slice runs out, so
    # how many cases run (and which findings appear) would follow the target's speed. Without
    # one, the seed, the example caps and the request budget decide; this timer only ends a
    # run that outlives ``max_time``, and the report says so (stop reason ``max_time``).
    clock = threading.Timer(max_time, session.expire)
    clock.daemon = True
    try:
        stream, control = _execute(schema)
        # A spent request budget winds the run down the way a spent time budget does: the
        # engine stops before the next case and still reports the scenarios under way
        # (an interrupt would drop them).
        session.stop = lambda: setattr(control, "max_time", 0)
        clock.start()
        for event in stream:
            if isinstance(event, events.ScenarioFinished | events.FuzzScenarioFinished):
                collector.scenario(event.recorder)
            elif isinstance(event, events.NonFatalError):
                text = redact(
                    f"{event.label}: {event.info.title}: {event.info.message}", target.api_key
                )
                kind = str(getattr(event.info, "_kind", ""))
                # Connection and network errors are the target's; the rest are generation
                # limits (schemas schemathesis cannot satisfy) worth a warning.
                if kind.startswith(_TARGET_ERROR_KINDS):
                    collector.network_errors.append(text)
                else:
                    collector.errors.append(text)
            elif isinstance(event, events.FatalError):
                collector.errors.append(redact(f"fatal: {event.exception!r}", target.api_key))
            elif isinstance(event, events.EngineFinished):
                stop_reason = str(event.stop_reason.value)
    finally:
        clock.cancel()
        session.close(schema)
    if session.budget_spent:
        stop_reason = "request_budget"
    if session.expired:
        stop_reason = _TIME_CAPPED
    return session.sent, stop_reason


def run_fuzz(
    target: FuzzTarget,
    settings: FuzzSettings,
    *,
    seed: int,
    on_send: Callable[[], bool] | None = None,
) -> FuzzReport:
    """Fuzz ``target`` within ``settings``; blocking. Raises only for a spec that will not load.

    ``on_send`` is asked before every request (from schemathesis' threads) and stops the run
    when it answers False: the caller's own request budget.
    """
    install_checks()
    install_hooks()
    started = time.monotonic()
    offered = [cap for cap, model in target.models.items() if model]
    documents = [
        prepare_document(
            "openai.yaml",
            load_document("openai.yaml"),
            server_url=target.base_url,
            offered=offered,
            only=settings.operations,
            deviations=target.deviations,
        )
    ]
    probes = 0
    if settings.catalog and not settings.operations:
        probes = 1
        if _serves_catalog(target, settings.request_timeout):
            documents.append(
                prepare_document(
                    "catalog.yaml",
                    load_document("catalog.yaml"),
                    server_url=target.origin,
                    offered=offered,
                    deviations=target.deviations,
                )
            )
    collector = Collector(target=target, seed=seed)
    sent = probes
    reasons: list[str] = []
    skipped: dict[str, str] = {}
    operations: list[str] = []
    for index, document in enumerate(documents):
        skipped.update(document.skipped)
        operations += document.operation_ids
        if not document.operation_ids:
            continue
        remaining = settings.max_requests - sent
        last = index == len(documents) - 1
        share = 1.0 if last else 1.0 - _CATALOG_SHARE
        if remaining <= 0:
            reasons.append("request_budget")
            break
        budget = max(1, int(remaining * share))
        time_left = max(1, int((settings.max_time - (time.monotonic() - started)) * share))
        used, reason = _run_document(
            document,
            target,
            settings,
            seed=seed,
            budget=budget,
            max_time=time_left,
            collector=collector,
            on_send=on_send,
        )
        sent += used
        reasons.append(reason)
    return FuzzReport(
        seed=seed,
        findings=tuple(collector.findings.values()),
        errors=tuple(dict.fromkeys(collector.errors)),
        network_errors=tuple(dict.fromkeys(collector.network_errors)),
        cases=collector.cases,
        cases_by_phase=dict(sorted(collector.by_phase.items())),
        requests=sent,
        tokens=(collector.prompt, collector.completion),
        duration=round(time.monotonic() - started, 3),
        stop_reason=", ".join(dict.fromkeys(reasons)) or "nothing to test",
        operations=tuple(operations),
        skipped=skipped,
        usage_exchanges=tuple(collector.usage),
    )
