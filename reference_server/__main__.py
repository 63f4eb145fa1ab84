"""``python -m reference_server``: not built yet (see the open issues)."""

from __future__ import annotations

import sys

print("reference_server: not available yet", file=sys.stderr)
raise SystemExit(2)
