"""Spec-driven fuzzing: schemathesis 4 over ``spec/`` against any target (area ``fuzz``).

The hand-written checks cover the failure modes we know; this layer looks for the ones we do
not, by generating requests from the spec (examples, coverage, fuzzing and stateful phases)
and judging every answer with schemathesis' built-in checks and parity's own
(:mod:`~conformance.fuzz.oracles`: the OpenAI error object, every stream chunk's schema).

Modules: ``settings`` (bounds), ``seeds`` (the fixed default seed, ``--seed random``),
``document`` (the spec prepared for schemathesis), ``session`` (per-run state and request
shaping), ``oracles`` (custom checks), ``run`` (one bounded run -> :class:`FuzzReport`),
``collector`` (recorded failures -> findings), ``verdicts`` (constraint kind -> failed or
warning, from ``spec/fuzz-verdicts.yaml``), ``artifacts`` (generated cases never judged),
``findings`` (records), ``checks`` (registry checks, one per failure kind, level ``deep``).

Must not: import ``reference_server``; send more requests than its budget; put the API key in
any text it writes.
"""

from __future__ import annotations

from conformance.fuzz.findings import FuzzFinding, FuzzReport
from conformance.fuzz.run import FuzzTarget, run_fuzz
from conformance.fuzz.settings import FuzzSettings

__all__ = ["FuzzFinding", "FuzzReport", "FuzzSettings", "FuzzTarget", "run_fuzz"]
