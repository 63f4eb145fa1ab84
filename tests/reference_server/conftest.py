"""A live reference server (embedded config) per test module, and SDK clients for it."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest

from reference_server.app import create_app
from tests.live import serve

DEMO_KEY = "sk-parity-demo"


@pytest.fixture(scope="module")
def origin() -> Iterator[str]:
    with serve(create_app()) as url:
        yield url


@pytest.fixture(scope="module")
def client(origin: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{origin}/v1", api_key=DEMO_KEY, max_retries=0, timeout=20)
