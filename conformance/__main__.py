"""``python -m conformance`` is ``parity``."""

from __future__ import annotations

from conformance.cli import main

raise SystemExit(main())
