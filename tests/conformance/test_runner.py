from __future__ import annotations

import asyncio
import time

import pytest

from conformance.context import CheckContext
from conformance.registry import CheckFailed, CheckSkipped, CheckWarning, Registry, check
from conformance.runner import (
    MODELS_LIST_KEY,
    TargetUnreachableError,
    run_check_ids,
    select_checks,
)


def _registry() -> Registry:
    reg = Registry()

    def add(id: str, level: str = "smoke", capability: str | None = None, area: str = "engine"):
        return check(
            id,
            area=area,
            level=level,  # type: ignore[arg-type]
            endpoint="POST /v1/chat/completions",
            asserts="a test rule",
            source="tests",
            capability=capability,  # type: ignore[arg-type]
            into=reg,
        )

    @add("engine.outcome.passes", capability="chat")
    async def check_passes(ctx: CheckContext) -> None:
        exchange = await ctx.client.request(
            "POST", "/chat/completions", json={"model": ctx.model("chat")}
        )
        assert exchange.status == 200

    @add("engine.outcome.fails")
    async def check_fails(ctx: CheckContext) -> None:
        exchange = await ctx.client.request("GET", "/models", auth=False)
        raise CheckFailed(f"status {exchange.status}", evidence=exchange)

    @add("engine.outcome.warns")
    async def check_warns(ctx: CheckContext) -> None:
        raise CheckWarning("unusual")

    @add("engine.outcome.skips")
    async def check_skips(ctx: CheckContext) -> None:
        raise CheckSkipped("not applicable")

    @add("engine.outcome.crashes")
    async def check_crashes(ctx: CheckContext) -> None:
        {}["choices"]

    @add("engine.outcome.hangs")
    async def check_hangs(ctx: CheckContext) -> None:
        await asyncio.sleep(30)

    @add("engine.capability.video", capability="video")
    async def check_video(ctx: CheckContext) -> None:
        raise CheckFailed("must not run: no video model")

    @add("engine.models.embedding", capability="embedding")
    async def check_embedding_model(ctx: CheckContext) -> None:
        if ctx.model("embedding") != "text-embedding-test":
            raise CheckFailed(f"embedding model {ctx.model('embedding')!r}")

    @add("engine.shared.listing", level="standard")
    async def check_shared_listing(ctx: CheckContext) -> None:
        async def make():
            raise AssertionError("discovery must have seeded the listing")

        listing = await ctx.shared(MODELS_LIST_KEY, make)
        assert listing.status == 200

    calls: list[int] = []

    async def make_once(ctx: CheckContext):
        calls.append(1)
        await asyncio.sleep(0.05)
        return await ctx.client.request("GET", "/models")

    for n in range(4):

        @add(f"engine.shared.user{n}", level="deep")
        async def check_shared_user(ctx: CheckContext) -> None:
            exchange = await ctx.shared("models-again", lambda: make_once(ctx))
            if len(calls) != 1:
                raise CheckFailed(f"shared request made {len(calls)} times")
            assert exchange.status == 200

    return reg


def test_runner_maps_every_outcome(engine_origin: str) -> None:
    reg = _registry()
    ids = [
        s.id for s in reg if s.id.startswith("engine.outcome.") and s.id != "engine.outcome.hangs"
    ]
    result = run_check_ids(engine_origin + "/v1", "sk-test", ids, checks=reg)
    got = {r.id: r.outcome for r in result.results}
    assert got == {
        "engine.outcome.passes": "passed",
        "engine.outcome.fails": "failed",
        "engine.outcome.warns": "warning",
        "engine.outcome.skips": "skipped",
        "engine.outcome.crashes": "failed",
    }
    by_id = result.by_id()
    assert by_id["engine.outcome.fails"].evidence is not None
    assert by_id["engine.outcome.fails"].evidence.status == 401
    assert "KeyError" in by_id["engine.outcome.crashes"].message
    assert result.summary == {
        "passed": 1,
        "failed": 2,
        "skipped": 1,
        "warnings": 1,
        "accepted": 0,
    }
    assert result.exit_status == 1
    # discovery (models + catalog) + one chat + one models request
    assert result.requests == 4
    assert result.tokens.total == 12
    assert result.target.models["chat"] == "gpt-test-mini"


def test_runner_timeout_fails_the_check_only(engine_origin: str) -> None:
    reg = _registry()
    start = time.monotonic()
    result = run_check_ids(
        engine_origin + "/v1",
        "sk-test",
        ["engine.outcome.hangs", "engine.outcome.warns"],
        checks=reg,
        check_timeout=0.3,
    )
    assert time.monotonic() - start < 5
    by_id = result.by_id()
    assert by_id["engine.outcome.hangs"].outcome == "failed"
    assert "0.3 s" in by_id["engine.outcome.hangs"].message
    assert by_id["engine.outcome.warns"].outcome == "warning"
    assert result.exit_status == 0 or by_id["engine.outcome.hangs"].outcome == "failed"


def test_runner_capability_not_offered_is_skipped_with_reason(engine_origin: str) -> None:
    result = run_check_ids(
        engine_origin + "/v1",
        "sk-test",
        ["engine.capability.video", "engine.models.embedding"],
        checks=_registry(),
    ).by_id()
    assert result["engine.capability.video"].outcome == "skipped"
    assert "--model video=MODEL" in result["engine.capability.video"].message
    assert result["engine.models.embedding"].outcome == "passed"


def test_runner_model_pins_win_and_empty_pin_removes(engine_origin: str) -> None:
    result = run_check_ids(
        engine_origin + "/v1",
        "sk-test",
        ["engine.models.embedding", "engine.outcome.passes"],
        models={"embedding": "pinned-embedder", "chat": ""},
        checks=_registry(),
    ).by_id()
    assert result["engine.models.embedding"].outcome == "failed"
    assert "pinned-embedder" in result["engine.models.embedding"].message
    assert result["engine.outcome.passes"].outcome == "skipped"


def test_runner_shared_runs_make_once(engine_origin: str) -> None:
    reg = _registry()
    ids = ["engine.shared.listing"] + [f"engine.shared.user{n}" for n in range(4)]
    result = run_check_ids(engine_origin + "/v1", "sk-test", ids, checks=reg)
    assert {r.outcome for r in result.results} == {"passed"}, result.results
    assert result.requests == 3  # models + catalog (discovery) + one shared request


def test_runner_level_filter_and_budget(engine_origin: str) -> None:
    reg = _registry()
    result = run_check_ids(
        engine_origin + "/v1",
        "sk-test",
        ["engine.shared.listing", "engine.outcome.passes"],
        level="smoke",
        checks=reg,
    )
    assert [r.id for r in result.results] == ["engine.outcome.passes"]
    budget = run_check_ids(
        engine_origin + "/v1", "sk-test", ["engine.outcome.passes"], checks=reg, max_requests=2
    ).by_id()
    assert budget["engine.outcome.passes"].outcome == "skipped"
    assert "--max-requests 2" in budget["engine.outcome.passes"].message


def test_runner_unreachable_target_raises() -> None:
    from tests.live import free_port

    with pytest.raises(TargetUnreachableError, match="parity serve"):
        run_check_ids(
            f"http://127.0.0.1:{free_port()}/v1", None, ["engine.outcome.warns"], checks=_registry()
        )


def test_runner_select_checks_by_level_area_ids() -> None:
    reg = _registry()
    assert {s.id for s in select_checks(reg, level="smoke", only={"nope"})} == set()
    smoke = select_checks(reg, level="smoke")
    assert all(s.level == "smoke" for s in smoke)
    assert [s.id for s in select_checks(reg, level="deep", ids={"engine.shared.user0"})] == [
        "engine.shared.user0"
    ]
    with pytest.raises(ValueError, match="'fast'"):
        select_checks(reg, level="fast")  # type: ignore[arg-type]


def test_runner_run_ids_fixture_serves_an_app(run_ids, engine_origin: str) -> None:
    from tests.conformance.conftest import _engine_app

    results = run_ids(engine_origin, ["engine.outcome.passes"], checks=_registry())
    assert results["engine.outcome.passes"].outcome == "passed"
    results = run_ids(
        _engine_app(), ["engine.outcome.passes", "engine.outcome.fails"], checks=_registry()
    )
    assert results["engine.outcome.passes"].outcome == "passed"
    assert results["engine.outcome.fails"].outcome == "failed"


def test_runner_public_api_is_pinned() -> None:
    from conformance import client, discovery, evidence, reporting, results, runner, schemas

    assert runner.__all__ == [
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
    assert client.__all__ == [
        "DEFAULT_TIMEOUT",
        "MAX_BODY_BYTES",
        "RecordingClient",
        "TokenCount",
        "usage_of",
    ]
    assert results.__all__ == ["NOT_JUDGED_BECAUSE", "CheckResult", "RunResult"]
    assert schemas.__all__ == ["component_names", "schema_errors", "spec_dir", "validator_for"]
    assert discovery.__all__ == ["ModelInfo", "capabilities_of", "choose_models", "parse_listings"]
    assert "write_reports" in reporting.__all__
    assert "render_evidence" in evidence.__all__
    for module in (client, discovery, evidence, reporting, results, runner, schemas):
        for name in module.__all__:
            assert hasattr(module, name), (module.__name__, name)


def test_runner_load_checks_walks_packages_and_names_broken_modules(tmp_path, monkeypatch) -> None:
    from conformance.runner import CheckLoadError, load_checks

    pkg = tmp_path / "parity_extra_checks"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "good.py").write_text("LOADED = True\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    load_checks(["parity_extra_checks", "no_such_package_here"])
    import sys

    assert sys.modules["parity_extra_checks.good"].LOADED
    (pkg / "broken.py").write_text("raise RuntimeError('half-written')\n")
    with pytest.raises(
        CheckLoadError, match=r"parity_extra_checks\.broken: RuntimeError: half-written"
    ):
        load_checks(["parity_extra_checks"])


def test_runner_refused_key_stops_before_checks(engine_origin: str) -> None:
    from conformance.runner import TargetRefusedError

    with pytest.raises(TargetRefusedError, match="the API key was refused"):
        run_check_ids(
            engine_origin + "/v1", "sk-wrong", ["engine.outcome.warns"], checks=_registry()
        )
    with pytest.raises(TargetRefusedError, match="no API key was given"):
        run_check_ids(engine_origin + "/v1", None, ["engine.outcome.warns"], checks=_registry())
    # pinned models: the run goes on, with a note
    result = run_check_ids(
        engine_origin + "/v1",
        None,
        ["engine.outcome.warns"],
        checks=_registry(),
        models={"chat": "m"},
    )
    assert result.by_id()["engine.outcome.warns"].outcome == "warning"
    assert any("answered 401" in note for note in result.notes)
