"""Review and feedback tracked events get their sentiment_score from processing — through the real
pipeline, set-based, local only."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analytics.collection.pending import PENDING_COLUMNS, PendingEvent
from analytics.collection.processing import STEPS, process_pending_events, processing_step_register
from analytics.intelligence.sentiment.events import review_sentiment_score
from analytics.models import UserEvent
from analytics.privacy.encryption import text_decrypt
from tests.support.openai_server import OpenAIServer
from tests.unit.metrics.support import ev, ingest, now  # noqa: F401  (the `now` fixture: frozen at 2026-03-20)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("now")]


def review(text: str, user: str = "u1", **extra: Any) -> dict[str, Any]:
    return ev("review_submitted", "2026-03-11T10:00", user=user, listing_id="L1", rating=4, text=text, **extra)


def scores() -> dict[str, float | None]:
    return {
        str(text_decrypt(p["text"]) if "text" in p else p.get("path")): s
        for p, s in UserEvent.objects.values_list("properties", "sentiment_score")
    }


def test_reviews_and_feedback_are_scored_when_processed() -> None:
    ingest(
        review("Fantastic evening, the band was brilliant!"),
        review("Awful. Cold food, rude staff, never again.", user="u2"),
        ev("feedback_submitted", "2026-03-11T11:00", user="u3", text="The app keeps crashing, so frustrating"),
        ev("page_view", "2026-03-11T11:00", user="u3", path="/events"),
    )
    stored = scores()
    assert stored["Fantastic evening, the band was brilliant!"] > 0.3
    assert stored["Awful. Cold food, rude staff, never again."] < -0.3
    assert stored["The app keeps crashing, so frustrating"] < 0
    assert stored["/events"] is None  # other events are left alone


def test_texts_that_cannot_be_scored_keep_null() -> None:
    ingest(review("La comida estaba fría y el personal fue muy grosero."), review("<br>", user="u2"))  # nothing left
    assert set(scores().values()) == {None}


def test_stored_text_is_already_scrubbed_and_the_step_adds_nothing_but_the_score() -> None:
    ingest(review("Loved it! Write to riya.k@example.com", user="u9"))
    event = UserEvent.objects.get()
    assert "example.com" not in str(event.properties) and event.sentiment_score is not None
    assert text_decrypt(event.properties["text"]) == "Loved it! Write to [email]"  # stored encrypted


def test_the_step_writes_one_update_for_the_whole_chunk() -> None:
    ingest(*[review(f"Great night number {i}", user=f"u{i}") for i in range(30)])
    UserEvent.objects.update(sentiment_score=None)
    chunk = [PendingEvent(*values) for values in UserEvent.objects.order_by("id").values_list(*PENDING_COLUMNS)]
    with CaptureQueriesContext(connection) as queries:
        review_sentiment_score(chunk)
    updates = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("UPDATE")]
    assert len(updates) == 1
    assert UserEvent.objects.filter(sentiment_score__gt=0).count() == 30


def test_processing_again_gives_the_same_scores() -> None:
    ingest(review("Pretty good, a bit too loud."))
    first = scores()
    UserEvent.objects.update(processed_at=None)
    process_pending_events()
    assert scores() == first


def test_the_step_is_registered_once() -> None:
    processing_step_register(review_sentiment_score)
    assert STEPS.count(review_sentiment_score) == 1


def test_processing_never_calls_openai_even_when_configured(openai: OpenAIServer) -> None:
    ingest(review("Such a great workshop"))
    assert openai.requests() == []
    assert UserEvent.objects.get().sentiment_score is not None
