"""Every check is proven, and kept proven: it fails on a broken server and passes on a legal one.

The proofs are declared in ``tests/conformance/fakes/proofs.py``; this module runs each of them
and fails when the catalogue (``parity checks list``) holds a check that no broken proof makes
fail or no legal proof makes pass.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
from typing import Any

import pytest

from conformance.cli import main
from conformance.fuzz.checks import CHECK_IDS
from conformance.profiles import OPENAI
from conformance.runner import CheckResult, load_checks, run_check_ids, run_checks
from conformance.target import Target
from tests.conformance.fakes import variants
from tests.conformance.fakes.asgi_edits import DEFECTS, defect, freedoms
from tests.conformance.fakes.base import API_KEY, Switch
from tests.conformance.fakes.breadth import create_breadth_app
from tests.conformance.fakes.breadth_run import breadth_origin, run_variant  # noqa: F401
from tests.conformance.fakes.promises_run import promises_origin, run_promises  # noqa: F401
from tests.conformance.fakes.proofs import ENGINE_PROVEN, WARN_ONLY, Proof, proofs
from tests.live import serve


def _catalogue(capsys: pytest.CaptureFixture[str]) -> set[str]:
    assert main(["checks", "list", "--format", "json"]) == 0
    return {entry["id"] for entry in json.loads(capsys.readouterr().out)}


def test_every_check_has_a_broken_proof_and_a_legal_proof(
    capsys: pytest.CaptureFixture[str],
) -> None:
    catalogue = _catalogue(capsys)
    assert catalogue == {spec.id for spec in load_checks()}
    broken = {c for p in proofs() if not p.legal for c, o in p.must.items() if o != "passed"}
    legal = {c for p in proofs() if p.legal for c, o in p.must.items() if o == "passed"}
    assert sorted(catalogue - broken - set(ENGINE_PROVEN)) == [], "no broken proof"
    assert sorted(catalogue - legal) == [], "no legal proof"
    assert set(ENGINE_PROVEN) | set(WARN_ONLY) <= catalogue


def test_broken_proofs_expect_a_failure_except_for_warning_only_checks() -> None:
    warned = {c for p in proofs() if not p.legal for c, o in p.must.items() if o == "warning"}
    assert warned == set(WARN_ONLY)


@pytest.mark.parametrize("check_id", sorted(ENGINE_PROVEN), ids=sorted(ENGINE_PROVEN))
def test_engine_proven_check_names_a_test_that_finds_its_kind(check_id: str) -> None:
    path, name = ENGINE_PROVEN[check_id].split("::")
    test = getattr(importlib.import_module(path.removesuffix(".py").replace("/", ".")), name)
    kind = next(k for k, v in CHECK_IDS.items() if v == check_id)
    assert f'report.of("{kind}")' in inspect.getsource(test)


class _Servers:
    """Live fakes for the proofs: the core and breadth fakes stay up; others start per proof."""

    def __init__(self, switch: Switch, core: str, breadth: str, promises: str) -> None:
        self.switch, self.core, self.breadth, self.promises = switch, core, breadth, promises

    def run(self, proof: Proof) -> dict[str, CheckResult]:
        if proof.fake == "core":
            table: Any = variants.LEGAL if proof.legal else variants.BROKEN
            self.switch.use(table[proof.variant])
            return run_check_ids(f"{self.core}/v1", API_KEY, proof.run, level="deep").by_id()
        if proof.fake == "breadth":
            return run_variant(self.breadth, proof.variant, proof.areas, ids=proof.run)
        if proof.fake == "catalog":
            with serve(create_breadth_app(catalog_variant=proof.variant)) as origin:
                return run_variant(origin, "ok", ("catalog",), ids=proof.run)
        if proof.fake == "promises":
            return run_promises(self.promises, proof.variant, proof.run).by_id()
        return _engine_run(proof)


def _engine_run(proof: Proof) -> dict[str, CheckResult]:
    if proof.fake == "properties":
        from tests.properties import apps as properties

        app: Any = properties.build_app(proof.variant if proof.variant != "freedoms" else "legal")
        key, models, seed = (
            properties.KEY,
            {"chat": properties.CHAT, "embedding": properties.EMBED},
            5,
        )
    else:
        from tests.fuzz import apps as fuzz

        legal = proof.variant in (*DEFECTS, "freedoms")
        app = fuzz.build_app("legal" if legal else proof.variant)  # type: ignore[arg-type]
        if proof.variant in DEFECTS:
            app = defect(app, proof.variant)  # type: ignore[arg-type]
        key, models, seed = fuzz.KEY, {"chat": fuzz.MODEL}, 1
    if proof.variant == "freedoms":
        app = freedoms(app)
    registry = load_checks()
    with serve(app) as origin:
        target = Target(
            base_url=f"{origin}/v1",
            api_key=key,
            level="deep",
            profile=OPENAI,
            models=models,  # type: ignore[arg-type]
            seed=seed,
            fuzz_requests=60,
        )
        specs = [registry.get(check_id) for check_id in proof.run]
        return asyncio.run(run_checks(target, specs, discover=False, check_timeout=90)).by_id()


@pytest.fixture(scope="module")
def servers(
    fake: tuple[Switch, str],
    breadth_origin: str,  # noqa: F811
    promises_origin: str,  # noqa: F811
) -> _Servers:
    switch, origin = fake
    return _Servers(switch, origin, breadth_origin, promises_origin)


def _params() -> list[Any]:
    slow = [pytest.mark.slow]
    return [pytest.param(p, id=p.name, marks=slow if p.fake == "fuzz" else []) for p in proofs()]


@pytest.mark.parametrize("proof", _params())
def test_proof_holds(servers: _Servers, proof: Proof) -> None:
    results = servers.run(proof)
    assert set(results) == set(proof.run), sorted(set(proof.run) - set(results))
    wrong = {
        c: f"{results[c].outcome}, expected {o}: {results[c].message[:300]}"
        for c, o in proof.must.items()
        if results[c].outcome != o
    }
    assert wrong == {}
    barred = ("failed", "warning") if proof.legal else ("failed",)
    stray = {
        c: f"{r.outcome}: {r.message[:300]}"
        for c, r in results.items()
        if c not in proof.must and r.outcome in barred
    }
    assert stray == {}
