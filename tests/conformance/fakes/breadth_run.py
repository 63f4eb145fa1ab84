"""Running breadth checks against the breadth fake: one live server per test session.

``breadth_origin`` (a session fixture; import it into a test module) serves
:func:`create_breadth_app`; :func:`run_variant` runs the checks of some areas against one
variant through the real runner and returns ``{check id: CheckResult}``.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest

from conformance.profiles import CATALOG, MONDAY, OPENAI, Profile
from conformance.runner import CheckResult, load_checks, run_checks, select_checks
from conformance.target import Target
from tests.conformance.fakes.breadth import API_KEY, EXHAUSTED_KEY, MODELS, create_breadth_app
from tests.live import serve

__all__ = ["PROFILE", "breadth_origin", "failed", "run_variant"]

# The monday profile, plus what the fake also offers: an exhausted key and rate-limit headers.
PROFILE = replace(MONDAY, exhausted_key=EXHAUSTED_KEY, rate_limit_headers=True)


@pytest.fixture(scope="session")
def breadth_origin() -> Iterator[str]:
    with serve(create_breadth_app()) as origin:
        yield origin


def run_variant(
    origin: str,
    variant: str,
    areas: tuple[str, ...],
    *,
    profile: Profile | None = None,
    api_key: str = API_KEY,
    discover: bool = False,
    ids: tuple[str, ...] = (),
    models: dict[str, str] | None = None,
) -> dict[str, CheckResult]:
    chosen = ids or tuple(spec.id for spec in load_checks() if spec.area in areas)
    if profile is None:
        # The profile checks need the gateway promises, the catalog checks a profile claiming
        # the catalog page; every other area is judged strictly.
        profile = PROFILE if "profile" in areas else CATALOG if "catalog" in areas else OPENAI
    target = Target(
        base_url=f"{origin}/{variant}/v1",
        api_key=api_key,
        level="deep",
        profile=profile,
        models={} if discover else {**MODELS, **(models or {})},  # type: ignore[arg-type]
    )
    registry = load_checks()
    specs = select_checks([registry.get(i) for i in chosen], level="deep")
    # A transport with one shared TLS context: building a default one costs ~0.2 s per run.
    transport = httpx.AsyncHTTPTransport(verify=_tls())
    result = asyncio.run(
        run_checks(target, specs, discover=discover, check_timeout=30.0, transport=transport)
    )
    return result.by_id()


@functools.cache
def _tls() -> ssl.SSLContext:
    return ssl.create_default_context()


def failed(results: dict[str, CheckResult]) -> dict[str, str]:
    return {i: r.message for i, r in results.items() if r.outcome == "failed"}
