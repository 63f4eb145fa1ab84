"""Running the promise checks against the promises fake through the real runner.

``promises_origin`` (a session fixture; import it into a test module) serves
:func:`create_promises_app`; :func:`run_promises` runs checks against one variant with the
fake's profile (its key API included: the run mints its keys and revokes them) and returns
``{check id: CheckResult}``, with the run itself for its notes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping

import pytest

from conformance.keyapi import RoleKeys
from conformance.profiles import profile_from_mapping
from conformance.results import RunResult
from conformance.runner import load_checks, run_checks, select_checks
from conformance.target import Target
from tests.conformance.fakes.promises_fake import (
    ADMIN_KEY,
    API_KEY,
    MODELS,
    PROMISE_IDS,
    create_promises_app,
    profile_mapping,
)
from tests.live import serve

__all__ = ["promises_origin", "run_promises"]


@pytest.fixture(scope="session")
def promises_origin() -> Iterator[str]:
    with serve(create_promises_app()) as origin:
        yield origin


def run_promises(
    origin: str,
    variant: str,
    ids: tuple[str, ...] = PROMISE_IDS,
    *,
    admin_key: str | None = ADMIN_KEY,
    keys: Mapping[str, str] | None = None,
    profile_changes: Mapping[str, object] | None = None,
) -> RunResult:
    profile = profile_from_mapping(
        {**profile_mapping(variant), **(profile_changes or {})}, origin="promises-fake"
    )
    target = Target(
        base_url=f"{origin}/{variant}/v1",
        api_key=API_KEY,
        level="deep",
        profile=profile,
        models=dict(MODELS),  # type: ignore[arg-type]
        admin_key=admin_key,
        roles=RoleKeys(keys=dict(keys or {})),
    )
    registry = load_checks()
    specs = select_checks([registry.get(i) for i in ids], level="deep")
    return asyncio.run(run_checks(target, specs, discover=False, check_timeout=30.0))
