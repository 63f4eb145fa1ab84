"""One module per area of checks; importing this package registers every check."""

from __future__ import annotations
