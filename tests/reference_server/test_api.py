"""The reference server's small public surface, pinned; the ``response_model`` choice; the GC
tuning a server process applies (and an app built in-process does not)."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys

import httpx

import reference_server.app
import reference_server.config
import reference_server.gateway.flow
import reference_server.providers.base
from reference_server.app import create_app
from reference_server.config import settings_from_mapping
from tests.live import serve


def test_public_api_is_pinned() -> None:
    assert reference_server.app.__all__ == [
        "build_providers",
        "create_app",
        "default_controls",
        "factory",
    ]
    assert reference_server.providers.base.__all__ == [
        "Call",
        "Endpoint",
        "FailureKind",
        "Provider",
        "ProviderError",
        "Reply",
        "Upload",
    ]
    assert {"Settings", "load_settings", "settings_from_mapping", "ConfigError"} <= set(
        reference_server.config.__all__
    )
    assert reference_server.gateway.flow.__all__ == ["SCOPE", "Answer", "Gateway", "Job"]


def test_response_model_resolved_names_the_upstream_model() -> None:
    settings = settings_from_mapping({"server": {"response_model": "resolved"}})
    with serve(create_app(settings)) as origin:
        body = {"model": "monday-fast", "messages": [{"role": "user", "content": "hi"}]}
        response = httpx.post(
            f"{origin}/v1/chat/completions",
            json=body,
            headers={"authorization": "Bearer sk-parity-demo"},
        )
    assert response.json()["model"] == "claude-haiku-4-5"


def test_server_process_freezes_its_start_up_heap_and_raises_the_young_gc_threshold(
    tmp_path,
) -> None:
    # In a child interpreter: freezing the test process's heap would keep every test's garbage.
    script = """
import asyncio, gc, json
from reference_server.app import factory

async def main():
    app = factory()
    before = gc.get_freeze_count(), gc.get_threshold()[0]
    async with app.router.lifespan_context(app):
        after = gc.get_freeze_count(), gc.get_threshold()[0]
    print(json.dumps([before, after]))

asyncio.run(main())
"""
    env = {**os.environ, "PARITY_CONTROLS_DB": str(tmp_path / "controls.db")}
    done = subprocess.run(
        [sys.executable, "-c", script],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (frozen_before, young_before), (frozen_after, young_after) = json.loads(done.stdout)
    assert (frozen_before, young_before) == (0, 700)
    assert frozen_after > 10_000  # modules, compiled schemas, the catalog
    assert young_after > young_before


def test_apps_built_in_process_leave_the_collector_alone() -> None:
    threshold = gc.get_threshold()
    frozen = gc.get_freeze_count()
    with serve(create_app()):
        pass
    assert (gc.get_threshold(), gc.get_freeze_count()) == (threshold, frozen)
