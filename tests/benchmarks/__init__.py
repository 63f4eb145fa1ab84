"""Benchmarks: scripts that print figures measured side by side in one run (never timed tests).

Run from the repository root, e.g. ``python -m tests.benchmarks.bench_server``. They start the
reference server and other local servers as processes (``conformance.launch``), target loopback
only, and are not shipped in the wheel. pytest does not collect them (``bench_*.py``).
"""

from __future__ import annotations
