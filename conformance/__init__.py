"""parity's conformance suite: checks that tell where a target deviates from OpenAI's API.

Owns: the check registry, the recording HTTP client, the SSE decoder, the runner, the report
writers, the pytest plugin and the ``parity`` command line.

Must not: import ``reference_server`` (the suite and the server share only the data in
``spec/``, so one bug cannot pass on both sides), or touch the network or the environment at
import time.
"""

from __future__ import annotations

__all__: list[str] = []

# ``pytest -p conformance`` loads the plugin through this name (see conformance/pytest_entry.py).
pytest_plugins = ["conformance.plugin"]
