"""The one door to a large language model: OpenAI's chat-completions protocol over HTTPS.

This is the only module that talks to OpenAI (docs/design.md, "Layout"). It speaks the protocol with httpx
(already a run-time dependency) instead of the `openai` SDK: one POST with a short timeout and no
automatic retries, so a slow or failing service costs one bounded wait and the caller falls back to
its local model. It is on only while OPENAI_API_KEY is set and AI_SERVICES_ENABLED is on;
OPENAI_BASE_URL lets it point at any server that speaks the protocol (tests run a local one,
tests/support/openai_server.py).

Every message is scrubbed of emails and phone numbers here as well, whatever the caller did; nothing
about the messages is logged, only the outcome.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from functools import cache
from typing import Any

import httpx
from django.conf import settings

from analytics.privacy.scrubbing import scrub_text

logger = logging.getLogger(__name__)


class LlmUnavailable(Exception):
    """The model could not answer usefully (not configured, timeout, HTTP error, malformed answer)."""


@dataclass(frozen=True)
class LlmAnswer:
    content: dict[str, Any]  # the JSON object the model answered with
    model: str
    seconds: float


def llm_enabled() -> bool:
    return bool(settings.OPENAI_API_KEY) and bool(settings.AI_SERVICES_ENABLED)


@cache
def _client() -> httpx.Client:
    # One pooled client per process (thread-safe); the timeout is given per request.
    return httpx.Client(follow_redirects=False, headers={"User-Agent": "loopin-analytics"})


def llm_chat_json(*, system: str, user: str, max_tokens: int, timeout: float | None = None) -> LlmAnswer:
    """Ask for a JSON object (`response_format: json_object`) and return it parsed.

    Raises `LlmUnavailable` on anything but a 2xx answer carrying a JSON object; never retries.
    """
    if not llm_enabled():
        raise LlmUnavailable("OpenAI is not configured")
    seconds = float(timeout if timeout is not None else settings.OPENAI_TIMEOUT_SECONDS)
    body = {
        "model": settings.OPENAI_MODEL,
        "messages": [
            {"role": "system", "content": system},
            {"role": "user", "content": scrub_text(user)},
        ],
        "response_format": {"type": "json_object"},
        "temperature": 0,
        "max_tokens": max_tokens,
    }
    started = time.perf_counter()
    try:
        response = _client().post(
            f"{settings.OPENAI_BASE_URL}/chat/completions",
            json=body,
            headers={"Authorization": f"Bearer {settings.OPENAI_API_KEY}"},
            timeout=httpx.Timeout(seconds),
        )
    except httpx.TimeoutException as exc:
        logger.warning("llm.request_failed reason=timeout timeout_s=%.1f", seconds)
        raise LlmUnavailable("OpenAI did not answer in time") from exc
    except httpx.HTTPError as exc:
        logger.warning("llm.request_failed reason=transport error=%s", type(exc).__name__)
        raise LlmUnavailable("OpenAI could not be reached") from exc
    elapsed = time.perf_counter() - started
    if response.status_code // 100 != 2:
        logger.warning("llm.request_failed reason=http status=%d", response.status_code)
        raise LlmUnavailable(f"OpenAI answered HTTP {response.status_code}")
    try:
        payload = response.json()
        choice = payload["choices"][0]
        content = json.loads(choice["message"]["content"])
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        logger.warning("llm.request_failed reason=malformed_answer")
        raise LlmUnavailable("OpenAI's answer was not the JSON object asked for") from exc
    if not isinstance(content, dict):
        logger.warning("llm.request_failed reason=malformed_answer")
        raise LlmUnavailable("OpenAI's answer was not a JSON object")
    logger.info("llm.answered model=%s seconds=%.2f", payload.get("model", settings.OPENAI_MODEL), elapsed)
    return LlmAnswer(content=content, model=str(payload.get("model", settings.OPENAI_MODEL)), seconds=elapsed)
