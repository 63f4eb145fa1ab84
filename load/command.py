"""``parity load``: validate, probe the target, run locust in a subprocess, report and judge.

Flow: check every argument (unknown scenario, malformed ``--slo``, duration, rate: one line and
exit 2); send one preflight request (unreachable target or an error answer: one line, exit 2,
no load sent); set up the scenario (admin keys for budget and rate-limit); run
``locust -f load/locustfile.py`` headless in a subprocess (its log in ``locust.log``); read the
raw records and write ``summary.json``, ``requests.jsonl`` (the raw records, merged),
``report.html`` and locust's CSVs. Exit: 0 ok, 1 an SLO failed, 2 bad input or a target that
failed every request, 3 the client itself saturated (the figures are not to be trusted).

Must not: import locust or gevent (``parity`` stays light; locust runs in its own process), print
or write secrets (keys go to the locust process through its environment only).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from load import reporting
from load.admin import AdminClient, AdminError
from load.calibration import add_calibration_arguments
from load.metrics import summarize
from load.preflight import PreflightError, preflight
from load.scenarios import SCENARIOS, ScenarioError, get_scenario, ratelimit
from load.scenarios import budget as budget_scenario
from load.shapes import parse_duration, parse_rate, parse_steps
from load.slo import SloError, evaluate, goodput_limits, parse_slo

__all__ = ["add_arguments", "run"]

_LOCUSTFILE = Path(__file__).with_name("locustfile.py")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--base-url",
        help="target base URL, e.g. http://127.0.0.1:8000/v1 "
        "(env PARITY_BASE_URL, OPENAI_BASE_URL)",
    )
    parser.add_argument("--api-key", help="bearer key (env PARITY_API_KEY, OPENAI_API_KEY)")
    parser.add_argument("--scenario", help=f"one of: {', '.join(SCENARIOS)}")
    load = parser.add_mutually_exclusive_group()
    load.add_argument("--users", type=int, help="closed loop: concurrent users (default 10)")
    load.add_argument("--rate", help="open loop: requests per second, e.g. 20/s or 600/m")
    parser.add_argument(
        "--max-in-flight",
        type=int,
        default=None,
        help="open loop: users available to send (default 200)",
    )
    parser.add_argument("--arrival", choices=("constant", "poisson"), default="constant")
    parser.add_argument(
        "--spawn-rate",
        type=float,
        help="closed loop: users started per second (default: all at once)",
    )
    parser.add_argument(
        "--start-jitter",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="closed loop: each user waits a random 0..SECONDS before its first request, so "
        "equal-length streams do not stay in lockstep (default 0)",
    )
    parser.add_argument("--duration", default="60s", help="run length, e.g. 30s, 5m (default 60s)")
    parser.add_argument("--model", action="append", help="chat model (repeatable)")
    parser.add_argument("--embedding-model", default="text-embedding-3-small")
    parser.add_argument("--baseline-model", help="fallback: a healthy model to compare against")
    parser.add_argument("--max-tokens", type=int, default=64, help="output length (default 64)")
    parser.add_argument("--steps", default="1,2,4,8", help="sweep: users (or rates) per step")
    parser.add_argument(
        "--slo",
        action="append",
        default=[],
        metavar="EXPR",
        help="e.g. 'ttft_p95_ms<800', 'error_rate<0.01' (repeatable)",
    )
    parser.add_argument("--report-dir", type=Path, help="default reports/<utc-timestamp>-load/")
    parser.add_argument("--processes", type=int, help="locust worker processes on this host")
    parser.add_argument("--master", action="store_true", help="locust master (multi-host)")
    parser.add_argument("--expect-workers", type=int, default=1, help="with --master")
    parser.add_argument("--worker", action="store_true", help="locust worker (multi-host)")
    parser.add_argument("--master-host", default="127.0.0.1", help="with --worker")
    parser.add_argument("--master-port", type=int, default=5557, help="master's port (5557)")
    parser.add_argument("--master-bind-host", default="*", help="with --master (default: all)")
    parser.add_argument("--web", action="store_true", help="open locust's web UI instead")
    parser.add_argument("--web-port", type=int, default=8089, help="with --web (default 8089)")
    parser.add_argument("--timeout", type=float, default=60.0, help="per request, seconds")
    parser.add_argument(
        "--stop-timeout",
        type=float,
        default=30.0,
        help="seconds in-flight requests may finish after the run",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--admin-key", help="budget/rate-limit: admin key (env PARITY_ADMIN_KEY)")
    parser.add_argument(
        "--budget-credits", type=float, help="budget: per key (default: 20 requests)"
    )
    parser.add_argument("--budget-keys", type=int, default=4, help="budget: keys (default 4)")
    parser.add_argument("--rpm", type=int, default=600, help="rate-limit: RPM of the key")
    parser.add_argument(
        "--rate-period",
        type=float,
        default=60.0,
        help="rate-limit: the gateway's limit period in seconds (default 60: per minute)",
    )
    parser.add_argument(
        "--max-client-cpu",
        type=float,
        default=reporting.CPU_SATURATED,
        help="a process busier than this share of a core invalidates the run",
    )
    parser.add_argument(
        "--max-loop-lag-ms",
        type=float,
        default=reporting.LAG_P99_SATURATED_MS,
        help="event-loop lag p99 above this invalidates the run (exit 3)",
    )
    parser.add_argument(
        "--calibrate",
        action="store_true",
        help="measure the harness's own error against a known-latency server",
    )
    add_calibration_arguments(parser)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class UsageError(ValueError):
    """Bad input: reported in one line, exit 2."""


def _fail(message: str) -> int:
    print(f"parity load: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    try:
        if args.calibrate:
            from load.calibration import calibrate

            return calibrate(args)
        if args.worker:
            return _run_worker(args)
        return _run(args)
    except (UsageError, SloError, ScenarioError, PreflightError, AdminError) as exc:
        return _fail(str(exc))


def _run_worker(args: argparse.Namespace) -> int:
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(_LOCUSTFILE),
        "--worker",
        "--master-host",
        args.master_host,
        "--master-port",
        str(args.master_port),
    ]
    if args.processes:
        command += ["--processes", str(args.processes)]
    return subprocess.call(command)


def _target(args: argparse.Namespace) -> tuple[str, str]:
    base_url = (
        args.base_url or os.environ.get("PARITY_BASE_URL") or os.environ.get("OPENAI_BASE_URL")
    )
    if not base_url:
        raise UsageError("no target: pass --base-url (or set PARITY_BASE_URL)")
    if not base_url.startswith(("http://", "https://")):
        raise UsageError(f"--base-url must start with http:// or https://, got {base_url!r}")
    key = args.api_key or os.environ.get("PARITY_API_KEY") or os.environ.get("OPENAI_API_KEY") or ""
    return base_url.rstrip("/"), key


def _validate(args: argparse.Namespace) -> dict[str, Any]:
    if not args.scenario:
        raise UsageError(f"--scenario is required; valid scenarios: {', '.join(SCENARIOS)}")
    scenario = get_scenario(args.scenario)
    slos = [parse_slo(text) for text in args.slo]
    try:
        # locust takes whole seconds: round up, and report the effective length.
        duration = float(math.ceil(parse_duration(args.duration)))
        rate = parse_rate(args.rate) if args.rate else None
        steps = parse_steps(args.steps) if scenario.sweep else None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.users is not None and args.users < 1:
        raise UsageError(f"--users must be at least 1, got {args.users!r}")
    if not 0 <= args.start_jitter <= 600:
        raise UsageError(f"--start-jitter must be 0..600 seconds, got {args.start_jitter!r}")
    if args.max_tokens < 1:
        raise UsageError(f"--max-tokens must be at least 1, got {args.max_tokens!r}")
    if scenario.baseline and not args.baseline_model:
        raise UsageError(
            "the fallback scenario needs --baseline-model (a healthy model to compare)"
        )
    if scenario.name == "rate-limit":
        problem = ratelimit.window_problem(duration, args.rate_period)
        if problem is not None:
            raise UsageError(problem)
        if rate is None:
            rate = 2.0 * args.rpm / args.rate_period  # offer twice the limit
        slos += ratelimit.default_slos(slos)
    if scenario.name == "budget":
        slos += budget_scenario.default_slos(slos)
    return {"scenario": scenario, "slos": slos, "duration": duration, "rate": rate, "steps": steps}


def _report_dir(args: argparse.Namespace) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path: Path = (args.report_dir or Path("reports") / f"{stamp}-load").resolve()
    path.mkdir(parents=True, exist_ok=True)
    for stale in (*path.glob("requests-*.jsonl"), *path.glob("monitor-*.json")):
        stale.unlink()
    return path


def _run(args: argparse.Namespace) -> int:
    plan = _validate(args)
    scenario, slos, duration, rate = plan["scenario"], plan["slos"], plan["duration"], plan["rate"]
    base_url, api_key = _target(args)
    models = args.model or ["monday-standard"]
    admin: AdminClient | None = None
    keys: list[dict[str, str]] = []
    budget = None
    if scenario.needs_admin:
        admin_key = args.admin_key or os.environ.get("PARITY_ADMIN_KEY")
        if not admin_key:
            raise UsageError(f"the {scenario.name} scenario needs --admin-key or PARITY_ADMIN_KEY")
        admin = AdminClient(base_url, admin_key)
    try:
        if admin is not None:
            probe = admin.create_key("parity-load-probe")
            keys.append({"label": probe.id, "secret": probe.secret, "probe": "1"})
            api_key = probe.secret
        kind = scenario.mix[0][0]
        model = args.baseline_model if scenario.baseline else models[0]
        if kind == "embeddings":
            model = args.embedding_model
        credits = preflight(base_url, api_key, kind, model, timeout=min(args.timeout, 30.0))
        if scenario.name == "budget" and admin is not None:
            if args.budget_credits is None and not credits:
                raise UsageError(
                    "cannot size the budget: the target reported no credits "
                    "for the preflight request; pass --budget-credits"
                )
            budget = args.budget_credits or round(20 * (credits or 0.0), 6)
            for i in range(max(1, args.budget_keys)):
                k = admin.create_key(f"parity-load-budget-{i}", budget_credits=budget)
                keys.append({"label": k.id, "secret": k.secret})
        elif scenario.name == "rate-limit" and admin is not None:
            k = admin.create_key("parity-load-rpm", rpm=args.rpm)
            keys.append({"label": k.id, "secret": k.secret})
        report_dir = _report_dir(args)
        env = dict(os.environ)
        load_keys = [k for k in keys if "probe" not in k]
        if load_keys:
            env["PARITY_LOAD_KEYS"] = json.dumps(
                [{"label": k["label"], "secret": k["secret"]} for k in load_keys]
            )
        else:
            env["PARITY_API_KEY"] = api_key
        users = args.users or (args.max_in_flight or 200 if rate else 10)
        if scenario.sweep and rate is None and args.rate is None:
            users = int(max(plan["steps"]))
        command = _locust_command(
            args, base_url, plan=plan, users=users, models=models, report_dir=report_dir
        )
        print(
            f"parity load: {scenario.name} against {base_url} for {duration:g} s; "
            f"reports in {report_dir}",
            file=sys.stderr,
        )
        if args.web:
            code = subprocess.call(command, env=env)
        else:
            with (report_dir / "locust.log").open("wb") as log:
                code = subprocess.call(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        records, monitors = reporting.read_run(report_dir)
        if not records:
            return _fail(
                f"no request completed (locust exit {code}); see {report_dir / 'locust.log'}"
            )
        extra: dict[str, Any] = {}
        if scenario.sweep:
            stage = duration / len(plan["steps"])
            extra["sweep"] = reporting.sweep_section(
                records, plan["steps"], stage, "rate" if rate else "users"
            )
        if scenario.baseline:
            extra["fallback"] = reporting.fallback_section(records, models[0], args.baseline_model)
        if scenario.name == "rate-limit":
            extra["rate_limit"] = ratelimit.rate_limit_section(records, args.rpm, args.rate_period)
        if scenario.name == "budget" and admin is not None and budget is not None:
            # The verdict is the clients' figure; the gateway's own is read to stand beside it.
            spend = {k["label"]: admin.key_spend(k["label"]) for k in load_keys}
            extra["budget"] = budget_scenario.budget_section(budget, records, spend)
        return _finish(
            args,
            report_dir,
            records=records,
            monitors=monitors,
            slos=slos,
            extra=extra,
            meta={
                "scenario": scenario.name,
                "target": base_url,
                "mode": "open" if rate else "closed",
                "users": users,
                "rate_per_s": rate,
                "arrival": args.arrival if rate else None,
                "duration_s": duration,
                "models": models,
            },
        )
    finally:
        if admin is not None:
            for made in keys:
                try:
                    admin.delete_key(made["label"])
                except AdminError as exc:
                    print(
                        f"parity load: could not delete key {made['label']}: {exc}", file=sys.stderr
                    )
            admin.close()


def _locust_command(
    args: argparse.Namespace,
    base_url: str,
    *,
    plan: dict[str, Any],
    users: int,
    models: list[str],
    report_dir: Path,
) -> list[str]:
    rate = plan["rate"]
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(_LOCUSTFILE),
        "--host",
        base_url,
        "-u",
        str(users),
        "-r",
        f"{args.spawn_rate or max(users, 100):g}",
        "--stop-timeout",
        f"{args.stop_timeout:g}",
        "--csv",
        str(report_dir / "locust"),
        "--exit-code-on-error",
        "0",
        "--only-summary",
        "--parity-scenario",
        plan["scenario"].name,
        "--parity-models",
        ",".join(models),
        "--parity-embedding-model",
        args.embedding_model,
        "--parity-baseline-model",
        args.baseline_model or "",
        "--parity-max-tokens",
        str(args.max_tokens),
        "--parity-rate",
        str(rate or 0.0),
        "--parity-arrival",
        args.arrival,
        "--parity-report-dir",
        str(report_dir),
        "--parity-timeout",
        str(args.timeout),
        "--parity-processes",
        str(args.processes or (args.expect_workers if args.master else 1)),
        "--parity-run-seconds",
        f"{plan['duration']:g}",
        "--parity-seed",
        str(args.seed),
        "--parity-start-jitter",
        f"{args.start_jitter:g}",
    ]
    if plan["steps"]:
        stage = plan["duration"] / len(plan["steps"])
        command += [
            "--parity-steps",
            ",".join(f"{s:g}" for s in plan["steps"]),
            "--parity-step-seconds",
            f"{stage:g}",
        ]
    if args.web:
        # The UI starts and stops the test; locust prints its address on the terminal.
        command += ["--web-host", "127.0.0.1", "--web-port", str(args.web_port)]
    else:
        command += ["--headless", "-t", f"{plan['duration']:g}s"]
    if args.processes and not args.master:
        # Its own free port (locust's default 5557 could meet another run's workers).
        port = str(_free_port())
        command += ["--processes", str(args.processes), "--master-port", port]
        command += ["--master-bind-host", "127.0.0.1", "--master-bind-port", port]
    elif args.processes:
        command += ["--processes", str(args.processes)]
    if args.master:
        command += ["--master", "--expect-workers", str(args.expect_workers)]
        command += ["--master-bind-host", args.master_bind_host]
        command += ["--master-bind-port", str(args.master_port)]
    return command


def _finish(
    args: argparse.Namespace,
    report_dir: Path,
    *,
    records: list[Any],
    monitors: list[dict[str, Any]],
    slos: list[Any],
    extra: dict[str, Any],
    meta: dict[str, Any],
) -> int:
    stats = summarize(records, goodput_limits=goodput_limits(slos))
    client = reporting.assess_client(
        monitors, max_cpu=args.max_client_cpu, max_lag_p99_ms=args.max_loop_lag_ms
    )
    summary: dict[str, Any] = {
        **meta,
        **stats,
        "client": client,
        **extra,
        "definitions": reporting.DEFINITIONS,
    }
    verdicts = evaluate(slos, summary)
    summary["slo"] = [
        {"expression": str(v.slo), "value": v.value, "passed": v.passed, "verdict": str(v)}
        for v in verdicts
    ]
    if stats["successes"] == 0:
        code, why = 2, f"every request failed ({stats['failures']})"
    elif client["saturated"]:
        code, why = 3, "the client saturated: " + "; ".join(client["reasons"])
    elif not all(v.passed for v in verdicts):
        code, why = 1, "SLO breached: " + ", ".join(str(v) for v in verdicts if not v.passed)
    else:
        code, why = 0, "ok"
    summary["valid"] = not client["saturated"]
    summary["exit_code"] = code
    summary["verdict"] = why
    with (report_dir / "requests.jsonl").open("w", encoding="utf-8") as out:
        out.writelines(json.dumps(r, separators=(",", ":")) + "\n" for r in records)
    for part in report_dir.glob("requests-*.jsonl"):
        part.unlink()
    reporting.write_summary(report_dir, summary)
    reporting.write_html(report_dir, summary, records)
    print(reporting.text_summary(summary))
    print(
        f"parity load: {why}; summary {report_dir / 'summary.json'}; report "
        f"{report_dir / 'report.html'}"
    )
    return code
