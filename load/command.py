"""``parity load``: validate, probe the target, run locust in a subprocess, report and judge.

Flow: check every argument (:mod:`load.plan`: one line and exit 2 on a bad value); send one
preflight request (unreachable target or an error answer: one line, exit 2, no load sent); set
up the scenario (admin keys for budget and rate-limit); run locust headless in a subprocess
(:mod:`load.locust_process`); read the raw records, add the scenario's section and judge
(:mod:`load.verdict`). Exit: 0 ok, 1 an SLO failed, 2 bad input or a target that failed every
request, 3 the client itself saturated (the figures are not to be trusted).

Must not: import locust or gevent (``parity`` stays light; locust runs in its own process), print
or write secrets (keys go to the locust process through its environment only).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from typing import Any

from load import reporting, sections
from load.admin import AdminClient
from load.arguments import add_arguments
from load.catalog import Selection, select_models
from load.errors import AdminError, LoadError, UsageError
from load.locust_process import LocustRun, locust_command, run_locust, worker_command
from load.plan import Plan, Target, make_report_dir, plan_run, target_of
from load.preflight import preflight
from load.scenarios import budget as budget_scenario
from load.scenarios import ratelimit
from load.verdict import finish

__all__ = ["add_arguments", "run"]


def run(args: argparse.Namespace) -> int:
    try:
        if args.calibrate:
            from load.calibration import calibrate

            return calibrate(args)
        if args.worker:
            return subprocess.call(worker_command(args))
        return _run(args, plan_run(args), target_of(args))
    except LoadError as exc:
        print(f"parity load: {exc}", file=sys.stderr)
        return 2


class _Keys:
    """Keys made on the gateway's admin API for this run, deleted when it ends."""

    def __init__(self, admin: AdminClient | None) -> None:
        self.admin = admin
        self.made: list[tuple[str, str]] = []  # (id, secret)

    def create(self, name: str, **limits: Any) -> tuple[str, str]:
        assert self.admin is not None
        key = self.admin.create_key(name, **limits)
        self.made.append((key.id, key.secret))
        return key.id, key.secret

    def close(self) -> None:
        if self.admin is None:
            return
        for key_id, _ in self.made:
            try:
                self.admin.delete_key(key_id)
            except AdminError as exc:
                print(f"parity load: could not delete key {key_id}: {exc}", file=sys.stderr)
        self.admin.close()


def _admin(args: argparse.Namespace, plan: Plan, target: Target) -> AdminClient | None:
    if not plan.scenario.needs_admin:
        return None
    admin_key = args.admin_key or os.environ.get("PARITY_ADMIN_KEY")
    if not admin_key:
        raise UsageError(f"the {plan.scenario.name} scenario needs --admin-key or PARITY_ADMIN_KEY")
    return AdminClient(target.base_url, admin_key)


def _kind_flags(args: argparse.Namespace) -> dict[str, str | None]:
    return {
        "embeddings": args.embedding_model,
        "images": args.image_model,
        "speech": args.speech_model,
        "transcriptions": args.transcription_model,
        "realtime": args.realtime_model,
    }


def _probe(
    args: argparse.Namespace, plan: Plan, target: Target, api_key: str, chosen: Selection
) -> float | None:
    """Preflight every kind of the run (and the direct side of an overhead run); the credits
    the first answer reported (the budget scenario sizes its budgets with them)."""
    timeout = min(args.timeout, 30.0)
    credits = None
    for index, (kind, _) in enumerate(chosen.mix):
        model = chosen.kind_models.get(kind) or (
            args.baseline_model if plan.scenario.baseline else chosen.models[0]
        )
        found = preflight(target.base_url, api_key, kind, model, timeout=timeout, sizes=plan.sizes)
        credits = found if index == 0 else credits
    if plan.direct is not None:
        model = args.direct_model or chosen.models[0]
        kind = plan.scenario.mix[0][0]
        preflight(
            plan.direct.base_url,
            plan.direct.api_key,
            kind,
            model,
            timeout=timeout,
            sizes=plan.sizes,
        )
    return credits


def _locust_options(
    args: argparse.Namespace, plan: Plan, chosen: Selection
) -> tuple[tuple[str, str], ...]:
    options = [("kind-models", ",".join(f"{k}={m}" for k, m in chosen.kind_models.items()))]
    if plan.scenario.name == "mixed":
        options.append(("mix", ",".join(f"{k}={w:g}" for k, w in chosen.mix)))
    if plan.direct is not None:
        options.append(("direct-url", plan.direct.base_url))
        options.append(("direct-model", args.direct_model or chosen.models[0]))
    return tuple(options)


def _run(args: argparse.Namespace, plan: Plan, target: Target) -> int:
    scenario = plan.scenario
    keys = _Keys(_admin(args, plan, target))
    api_key = target.api_key
    budget = None
    try:
        if keys.admin is not None:
            _, api_key = keys.create("parity-load-probe")
        chosen = select_models(
            scenario,
            target.base_url,
            api_key,
            chat_models=args.model,
            kind_flags=_kind_flags(args),
        )
        models = chosen.models
        credits = _probe(args, plan, target, api_key, chosen)
        load_keys: list[tuple[str, str]] = []
        if scenario.name == "budget":
            if args.budget_credits is None and not credits:
                raise UsageError(
                    "cannot size the budget: the target reported no credits "
                    "for the preflight request; pass --budget-credits"
                )
            budget = args.budget_credits or round(20 * (credits or 0.0), 6)
            for i in range(max(1, args.budget_keys)):
                load_keys.append(keys.create(f"parity-load-budget-{i}", budget_credits=budget))
        elif scenario.name == "rate-limit":
            load_keys.append(keys.create("parity-load-rpm", rpm=args.rpm))
        report_dir = make_report_dir(args)
        env = dict(os.environ)
        if load_keys:
            env["PARITY_LOAD_KEYS"] = json.dumps(
                [{"label": label, "secret": secret} for label, secret in load_keys]
            )
        else:
            env["PARITY_API_KEY"] = api_key
        if plan.direct is not None:
            env["PARITY_DIRECT_API_KEY"] = plan.direct.api_key
        users = args.users or (args.max_in_flight or 200 if plan.rate else 10)
        if plan.steps and plan.rate is None:
            users = int(max(plan.steps))
        locust = LocustRun(
            target.base_url, users, models, report_dir, _locust_options(args, plan, chosen)
        )
        print(
            f"parity load: {scenario.name} against {target.base_url} for {plan.duration:g} s; "
            f"reports in {report_dir}",
            file=sys.stderr,
        )
        code = run_locust(locust_command(args, plan, locust), env, report_dir, web=args.web)
        records, monitors = reporting.read_run(report_dir)
        if not records:
            raise LoadError(
                f"no request completed (locust exit {code}); see {report_dir / 'locust.log'}"
            )
        extra: dict[str, Any] = {}
        if plan.steps:
            stage = plan.duration / len(plan.steps)
            extra["sweep"] = sections.sweep_section(
                records, plan.steps, stage, "rate" if plan.rate else "users"
            )
        if scenario.baseline:
            extra["fallback"] = sections.fallback_section(records, models[0], args.baseline_model)
        if scenario.name == "rate-limit":
            extra["rate_limit"] = ratelimit.rate_limit_section(records, args.rpm, args.rate_period)
        if scenario.name == "budget" and keys.admin is not None and budget is not None:
            # The verdict is the clients' figure; the gateway's own is read to stand beside it.
            spend = {label: keys.admin.key_spend(label) for label, _ in load_keys}
            extra["budget"] = budget_scenario.budget_section(budget, records, spend)
        meta: dict[str, Any] = {
            "scenario": scenario.name,
            "target": target.base_url,
            "mode": "open" if plan.rate else "closed",
            "users": users,
            "rate_per_s": plan.rate,
            "arrival": args.arrival if plan.rate else None,
            "duration_s": plan.duration,
            "models": list(models),
            "kind_models": chosen.kind_models,
            "mix": dict(chosen.mix),
        }
        if plan.direct is not None:
            meta["direct"] = plan.direct.base_url
        return finish(
            args,
            report_dir,
            records=records,
            monitors=monitors,
            slos=plan.slos,
            extra=extra,
            meta=meta,
            overhead_rounds=plan.rounds if plan.direct is not None else None,
        )
    finally:
        keys.close()
