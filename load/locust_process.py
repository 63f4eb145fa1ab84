"""The locust subprocess of a run: its command line (``--parity-*`` options included) and its run.

``parity load`` never imports locust: it runs ``python -m locust -f load/locustfile.py``, headless
with its output in ``locust.log`` (or with its web UI). Local ``--processes`` get a free loopback
port for their master so two runs on one host cannot meet each other's workers.

Must not: import locust or gevent; put a key on a command line (keys travel in the environment).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from conformance.launch import free_port
from load.plan import Plan

__all__ = ["LOCUSTFILE", "LocustRun", "locust_command", "run_locust", "worker_command"]

LOCUSTFILE = Path(__file__).with_name("locustfile.py")


@dataclass(frozen=True, slots=True)
class LocustRun:
    """What one locust process is asked to do, beyond the plan."""

    base_url: str
    users: int
    models: tuple[str, ...]
    report_dir: Path
    # Extra ``--parity-*`` options a scenario needs (name without the prefix, value): the
    # models of other kinds, the mixed scenario's mix, the overhead scenario's direct side.
    extra: tuple[tuple[str, str], ...] = ()


def worker_command(args: argparse.Namespace) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--worker",
        "--master-host",
        args.master_host,
        "--master-port",
        str(args.master_port),
    ]
    if args.processes:
        command += ["--processes", str(args.processes)]
    return command


def locust_command(args: argparse.Namespace, plan: Plan, run: LocustRun) -> list[str]:
    users = run.users
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--host",
        run.base_url,
        "-u",
        str(users),
        "-r",
        f"{args.spawn_rate or max(users, 100):g}",
        "--stop-timeout",
        f"{args.stop_timeout:g}",
        "--csv",
        str(run.report_dir / "locust"),
        "--exit-code-on-error",
        "0",
        "--only-summary",
        "--parity-scenario",
        plan.scenario.name,
        "--parity-models",
        ",".join(run.models),
        "--parity-baseline-model",
        args.baseline_model or "",
        "--parity-max-tokens",
        str(plan.sizes.max_tokens),
        "--parity-prompt-tokens",
        str(plan.sizes.prompt_tokens or 0),
        "--parity-audio-seconds",
        f"{plan.sizes.audio_seconds:g}",
        "--parity-image-size",
        plan.sizes.image_size,
        "--parity-speech-chars",
        str(plan.sizes.speech_chars),
        "--parity-rate",
        str(plan.rate or 0.0),
        "--parity-arrival",
        args.arrival,
        "--parity-report-dir",
        str(run.report_dir),
        "--parity-timeout",
        str(args.timeout),
        "--parity-processes",
        str(args.processes or (args.expect_workers if args.master else 1)),
        "--parity-run-seconds",
        f"{plan.duration:g}",
        "--parity-seed",
        str(args.seed),
        "--parity-start-jitter",
        f"{args.start_jitter:g}",
    ]
    for name, value in run.extra:
        command += [f"--parity-{name}", value]
    if plan.steps:
        stage = plan.duration / len(plan.steps)
        command += [
            "--parity-steps",
            ",".join(f"{s:g}" for s in plan.steps),
            "--parity-step-seconds",
            f"{stage:g}",
        ]
    if args.web:
        # The UI starts and stops the test; locust prints its address on the terminal.
        command += ["--web-host", "127.0.0.1", "--web-port", str(args.web_port)]
    else:
        command += ["--headless", "-t", f"{plan.duration:g}s"]
    if args.processes and not args.master:
        # Its own free port (locust's default 5557 could meet another run's workers).
        port = str(free_port())
        command += ["--processes", str(args.processes), "--master-port", port]
        command += ["--master-bind-host", "127.0.0.1", "--master-bind-port", port]
    elif args.processes:
        command += ["--processes", str(args.processes)]
    if args.master:
        command += ["--master", "--expect-workers", str(args.expect_workers)]
        command += ["--master-bind-host", args.master_bind_host]
        command += ["--master-bind-port", str(args.master_port)]
    return command


def run_locust(command: list[str], env: Mapping[str, str], report_dir: Path, *, web: bool) -> int:
    """Run locust to its end; headless output goes to ``report_dir/locust.log``."""
    if web:
        return subprocess.call(command, env=dict(env))
    with (report_dir / "locust.log").open("wb") as log:
        return subprocess.call(command, env=dict(env), stdout=log, stderr=subprocess.STDOUT)
