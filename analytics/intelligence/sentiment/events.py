"""The processing step that gives review and feedback tracked events their `sentiment_score`.

Registered from `AnalyticsConfig.ready()` through `processing_step_register` (the collection layer
does not import intelligence). Local only — never OpenAI — and set-based: the chunk's texts are
scored in one batch and written with one UPDATE (a CASE over the ids) per `UPDATE_BATCH` rows. The
text was scrubbed and encrypted at ingestion; the step decrypts it in memory and stores nothing but the
score. An empty or non-English text keeps NULL (unknown), so it does not pull averages towards 0.
Idempotent: a chunk seen again gets the same scores.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.db.models import Case, FloatField, Value, When

from analytics.collection.pending import PendingEvent
from analytics.intelligence.sentiment.service import sentiment_scores_local
from analytics.models import UserEvent
from analytics.privacy.encryption import UndecryptableText, is_encrypted, text_decrypt

logger = logging.getLogger(__name__)

SCORED_EVENTS = frozenset({"review_submitted", "feedback_submitted"})
TEXT_PROPERTY = "text"
UPDATE_BATCH = 5000  # rows per UPDATE: 3 parameters each stays under SQLite's 32,766


def review_sentiment_score(events: Sequence[PendingEvent]) -> None:
    """Processing step: score the chunk's review_submitted / feedback_submitted texts."""
    targets: list[tuple[int, str]] = []
    for event in events:
        if event.event_name in SCORED_EVENTS:
            text = (event.properties or {}).get(TEXT_PROPERTY)
            if isinstance(text, str) and is_encrypted(text):
                try:
                    text = text_decrypt(text)
                except UndecryptableText:
                    logger.warning("sentiment.undecryptable_text event_id=%d", event.id)
                    continue
            if isinstance(text, str) and text.strip():
                targets.append((event.id, text))
    if not targets:
        return
    scores = sentiment_scores_local(texts=[text for _, text in targets])
    scored = [(event_id, score) for (event_id, _), score in zip(targets, scores, strict=True) if score is not None]
    for start in range(0, len(scored), UPDATE_BATCH):
        batch = scored[start : start + UPDATE_BATCH]
        UserEvent.objects.filter(id__in=[event_id for event_id, _ in batch]).update(
            sentiment_score=Case(
                *[When(id=event_id, then=Value(round(score, 4))) for event_id, score in batch],
                output_field=FloatField(),
            )
        )
    logger.info("sentiment.events_scored texts=%d scored=%d", len(targets), len(scored))
