"""parity's conformance suite: checks that tell where a target deviates from OpenAI's API.

Boundaries: the suite never imports ``reference_server`` (the suite and the server share only
the data in ``spec/``, so one bug cannot pass on both sides; ``parity serve``, ``parity
upstream`` and ``parity demo`` run the server as a process), and nothing touches the network or
the environment at import time.

Rooms, top to bottom; a module imports only from rooms below it (import-linter checks it):

- **entry points**: ``cli`` (the ``parity`` command), ``__main__``, ``pytest_entry``.
- **front ends**: ``commands/`` (one module per subcommand: check, checks, diff, drill, demo)
  and ``plugin`` (the pytest plugin). Both read their options through ``settings``.
- **settings**: the options of a run, from the command line or the plugin, with the
  environment; which checks run under which profile.
- **writers**: ``reporting`` (the report files), ``reporting_html``, ``report`` (the report as
  redacted data), ``terminal`` (progress and summary), ``baseline`` (known failures accepted,
  two runs compared). They take ``results``, never the runner.
- **engine**: ``runner`` (a selection, a few checks at a time), ``session`` (one run's state and
  model discovery), ``outcomes`` (one check's verdict), ``selection`` (which checks load and
  run).
- **rules**: ``checks/`` (one module per area), ``fuzz/`` (schemathesis), ``properties/``
  (hypothesis), ``drills/`` (gateway drills, in a registry of their own). None imports another.
- **check kit**: ``registry`` (``@check`` and the outcome exceptions), ``context`` (what a check
  sees), ``client`` (the recording HTTP client), ``sse`` and ``streams`` (SSE decoding and
  stream semantics), ``realtime``, ``media``, ``schemas`` (``spec/`` data), ``discovery`` (model
  choice), ``evidence`` (redaction), ``hypothesis_profiles``, ``launch`` (local server
  processes), ``routes`` (which endpoint serves a capability, and a 404 that says it is not),
  ``keyring`` (the promise checks' keys, minted and revoked through a profile's key API).
- **records**: ``results``, ``target``, ``profiles`` (with the built-in profile files of
  ``gateway_profiles/``), ``keyapi`` (a key API as data; the run's keys by role), ``usage``; at
  the bottom ``vocabulary``
  (levels, capabilities, outcomes), ``errors`` (the one error tree) and ``exchange``.

Adding a check is one ``@check`` block in ``checks/<area>.py``, plus a broken and a legal fake
in ``tests/conformance/fakes/`` that prove it fails and passes where it should.
"""

from __future__ import annotations

__all__: list[str] = []

# ``pytest -p conformance`` loads the plugin through this name (see conformance/pytest_entry.py).
pytest_plugins = ["conformance.plugin"]
