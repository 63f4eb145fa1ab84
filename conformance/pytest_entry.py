"""The ``pytest11`` entry point's target: loads :mod:`conformance.plugin` by name, once.

Pointing the entry point here rather than at ``conformance.plugin`` itself lets every spelling
work with or without plugin autoload: ``-p parity``, ``-p conformance`` (whose ``__init__``
names the plugin in ``pytest_plugins``) and ``-p conformance.plugin``. pytest registers
``conformance.plugin`` under its module name whichever way comes first and skips it after, so
pluggy never sees the same module under two names (which it refuses).

Must not: define hooks (they live in :mod:`conformance.plugin`).
"""

from __future__ import annotations

__all__ = ["pytest_plugins"]

pytest_plugins = ["conformance.plugin"]
