"""Sentiment and emotions from OpenAI (through ../llm.py), for the service when a key is configured.

Texts go in batches of `BATCH_SIZE` per request, already prepared (cleaned, truncated, scrubbed).
One failed or late request stops the OpenAI path for the rest of the call — the remaining texts keep
their local result — and no request starts after the call's `budget_seconds`, so a batch of 1,000
texts never waits 50 timeouts. Answers are validated item by item; an invalid item is ignored.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings

from analytics.intelligence.llm import LlmUnavailable, llm_chat_json
from analytics.intelligence.sentiment.emotions import EMOTIONS

BATCH_SIZE = 20
BUDGET_SECONDS = 15.0
_LABELS = frozenset({"positive", "neutral", "negative"})

SYSTEM_PROMPT = (
    "You rate the sentiment and the emotional tone of short texts: reviews of and feedback about events "
    "on an events marketplace. The texts may be in any language. For every text, give its sentiment "
    '("positive", "neutral" or "negative"), a score from -1 (most negative) to 1 (most positive), and the '
    "strength from 0 to 1 of each emotion it expresses: joy, trust, surprise, anger, fear, sadness. "
    'Answer with one JSON object: {"results": [{"id": <the id of the text>, "sentiment": "...", '
    '"score": <number>, "emotions": {"joy": <number>, "trust": <number>, "surprise": <number>, '
    '"anger": <number>, "fear": <number>, "sadness": <number>}}]}, one result per text, nothing else.'
)


@dataclass(frozen=True)
class LlmSentiment:
    sentiment: str
    score: float
    emotions: dict[str, float] | None


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _parse(item: object) -> tuple[int, LlmSentiment] | None:
    if not isinstance(item, dict):
        return None
    index, label, score = item.get("id"), item.get("sentiment"), _number(item.get("score"))
    if not isinstance(index, int) or isinstance(index, bool) or label not in _LABELS or score is None:
        return None
    emotions: dict[str, float] | None = None
    raw = item.get("emotions")
    if isinstance(raw, dict):
        values = {name: _number(raw.get(name)) for name in EMOTIONS}
        if all(v is not None for v in values.values()):
            emotions = {name: max(0.0, min(1.0, v)) for name, v in values.items() if v is not None}
    return index, LlmSentiment(sentiment=str(label), score=max(-1.0, min(1.0, score)), emotions=emotions)


def llm_sentiments(texts: Sequence[str], *, budget_seconds: float = BUDGET_SECONDS) -> list[LlmSentiment | None]:
    """OpenAI's reading of each text, or None where it gave none (the caller keeps its local result)."""
    results: list[LlmSentiment | None] = [None] * len(texts)
    deadline = time.monotonic() + budget_seconds
    for start in range(0, len(texts), BATCH_SIZE):
        remaining = deadline - time.monotonic()
        if remaining <= 0.05:
            break
        chunk = texts[start : start + BATCH_SIZE]
        user = json.dumps({"texts": [{"id": i, "text": t} for i, t in enumerate(chunk)]}, ensure_ascii=False)
        try:
            answer = llm_chat_json(
                system=SYSTEM_PROMPT,
                user=user,
                max_tokens=60 + 90 * len(chunk),
                timeout=min(float(settings.OPENAI_TIMEOUT_SECONDS), remaining),
            )
        except LlmUnavailable:
            break
        items = answer.content.get("results")
        if not isinstance(items, list):
            continue
        for item in items:
            parsed = _parse(item)
            if parsed is not None and 0 <= parsed[0] < len(chunk):
                results[start + parsed[0]] = parsed[1]
    return results
