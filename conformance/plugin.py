"""The pytest plugin (``pytest11`` entry point ``parity``): the suite's checks as pytest items.

Inert unless ``--parity-base-url`` (or ``PARITY_BASE_URL``) is given: installing parity must not
change anyone else's test run.

Must not: import the runner or any check module at import time (pytest loads this module for
every session in an environment where parity is installed).
"""

from __future__ import annotations

import pytest

__all__ = ["pytest_addoption"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("parity", "parity conformance suite")
    group.addoption(
        "--parity-base-url",
        default=None,
        help="base URL of the target (e.g. http://127.0.0.1:8000/v1); enables the plugin",
    )
    group.addoption("--parity-api-key", default=None, help="API key for the target")
