"""Intelligence-tier fixtures: a local server that speaks OpenAI's protocol, configured as the service's LLM."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.openai_server import OpenAIServer


@pytest.fixture
def openai(settings: Any) -> Iterator[OpenAIServer]:
    """OpenAI configured and on (AI_SERVICES_ENABLED), pointing at a local server (tests/support/openai_server.py)."""
    with OpenAIServer() as server:
        settings.OPENAI_API_KEY = server.api_key
        settings.OPENAI_BASE_URL = server.base_url
        settings.OPENAI_MODEL = "gpt-test"
        settings.OPENAI_TIMEOUT_SECONDS = 5.0
        settings.AI_SERVICES_ENABLED = True
        yield server
