"""Encryption at rest (privacy issue, §4): a person's review and feedback text is stored encrypted — a raw
scan of every text column finds no plaintext of it, after ingestion and after a key rotation — while the
analyses that need the words (sentiment, the dashboard's reviews, the exports) still read them, and PostHog
receives them only when a setting says so. The same scan runs on PostgreSQL in the integration tier."""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO
from typing import Any

import orjson
import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from fastapi.testclient import TestClient

from analytics.collection.forwarding import posthog_forward
from analytics.collection.processing import process_pending_events
from analytics.metrics.periods import business_day
from analytics.models import UserEvent
from analytics.privacy.encryption import (
    PREFIX,
    UndecryptableText,
    is_encrypted,
    text_decrypt,
    text_encrypt,
    text_rotate,
)
from tests.factories import event
from tests.support.posthog_server import PostHogCaptureServer
from tests.support.privacy import BATCH, PRIVACY, tables_mentioning
from tests.unit.api.bi_support import bearer

SECRET = "The host was wonderful and the rooftop view over Indiranagar was breathtaking"
FEEDBACK = "Please add a dark mode to the app, my eyes hurt at night"
OLD_KEY, NEW_KEY = Fernet.generate_key().decode(), Fernet.generate_key().decode()
PHC = "phc_local_test_project_key"


def _review(text: str = SECRET, user: str = "user-7") -> dict[str, Any]:
    return event(
        event_name="review_submitted", user_id=user, properties={"listing_id": "L1", "rating": 5, "text": text}
    )


def _seed(client: TestClient, key_headers: dict[str, str]) -> None:
    feedback = event(event_name="feedback_submitted", user_id="user-7", properties={"text": FEEDBACK})
    answer = client.post(BATCH, json={"events": [_review(), feedback]}, headers=key_headers).json()
    assert answer["stored"] == 2, answer
    process_pending_events()


@pytest.fixture
def keys(settings: Any) -> Iterator[Any]:
    settings.FIELD_ENCRYPTION_KEYS = OLD_KEY
    yield settings


def test_review_and_feedback_text_is_never_in_the_database_in_clear(
    client: TestClient, key_headers: dict[str, str], keys: Any
) -> None:
    """Catches: the text stored as sent (in the event, or copied anywhere else by processing)."""
    _seed(client, key_headers)
    assert tables_mentioning(SECRET, FEEDBACK, "rooftop view") == {
        SECRET: set(),
        FEEDBACK: set(),
        "rooftop view": set(),
    }
    stored = UserEvent.objects.get(event_name="review_submitted").properties
    assert stored["text"].startswith(PREFIX) and stored["rating"] == 5 and stored["listing_id"] == "L1"
    assert Fernet(OLD_KEY.encode()).decrypt(stored["text"][len(PREFIX) :].encode()).decode() == SECRET


def test_the_analyses_that_need_the_words_still_read_them(
    client: TestClient, key_headers: dict[str, str], keys: Any
) -> None:
    _seed(client, key_headers)
    review = UserEvent.objects.get(event_name="review_submitted")
    assert review.sentiment_score is not None and review.sentiment_score > 0.3  # scored from the decrypted words
    exported = client.get(f"{PRIVACY}/user-7/export", headers=bearer("admin")).json()
    texts = [row["properties"].get("text") for row in exported["tables"]["analytics_user_event"]]
    assert sorted(texts) == sorted([SECRET, FEEDBACK])
    day = business_day(review.timestamp).isoformat()  # the export's days are business days (IST), not UTC
    csv = client.get(
        f"/api/analytics/export/events?start_date={day}&end_date={day}&event_name=review_submitted",
        headers=bearer("admin"),
    )
    assert csv.status_code == 200 and "rooftop view" in csv.text


def test_rotation_moves_every_text_to_the_newest_key_resumably(
    client: TestClient, key_headers: dict[str, str], keys: Any
) -> None:
    """Catches: texts left under the old key (unreadable once it is removed), plaintext written by the
    rotation, or a second run redoing the work."""
    _seed(client, key_headers)
    keys.FIELD_ENCRYPTION_KEYS = f"{NEW_KEY},{OLD_KEY}"
    out = StringIO()
    call_command("rotate_keys", "--batch-size", "1", stdout=out)
    assert out.getvalue().strip() == "rotated=2 already_current=0 undecryptable=0"
    again = StringIO()
    call_command("rotate_keys", stdout=again)
    assert again.getvalue().strip() == "rotated=0 already_current=2 undecryptable=0"

    keys.FIELD_ENCRYPTION_KEYS = NEW_KEY  # the old key retired
    texts = [text_decrypt(p["text"]) for p in UserEvent.objects.values_list("properties", flat=True)]
    assert sorted(texts) == sorted([SECRET, FEEDBACK])
    assert tables_mentioning(SECRET, FEEDBACK) == {SECRET: set(), FEEDBACK: set()}


def test_rotation_without_the_old_key_refuses_and_changes_nothing(
    client: TestClient, key_headers: dict[str, str], keys: Any
) -> None:
    _seed(client, key_headers)
    before = list(UserEvent.objects.order_by("id").values_list("properties", flat=True))
    keys.FIELD_ENCRYPTION_KEYS = NEW_KEY
    with pytest.raises(CommandError, match="2 texts open with none of the configured keys"):
        call_command("rotate_keys", stdout=StringIO())
    assert list(UserEvent.objects.order_by("id").values_list("properties", flat=True)) == before


@pytest.mark.parametrize("forward", [False, True])
def test_posthog_gets_the_words_only_when_the_setting_says_so(
    client: TestClient, key_headers: dict[str, str], keys: Any, forward: bool
) -> None:
    with PostHogCaptureServer(api_key=PHC) as posthog:
        keys.POSTHOG_API_KEY, keys.POSTHOG_HOST = PHC, posthog.url
        keys.POSTHOG_FORWARD_SENSITIVE_TEXT = forward
        _seed(client, key_headers)
        posthog_forward()
        (review,) = [e for e in posthog.events() if e["event"] == "review_submitted"]
        sent = b"".join(r.raw_body for r in posthog.requests()).decode()
    assert review["properties"]["rating"] == 5
    assert ("text" in review["properties"]) is forward
    assert (SECRET in sent) is forward
    assert PREFIX not in sent  # never the ciphertext either


def test_a_key_that_is_not_a_fernet_key_refuses_to_work(keys: Any) -> None:
    keys.FIELD_ENCRYPTION_KEYS = "not-a-key"
    with pytest.raises(ImproperlyConfigured, match="not a Fernet key"):
        text_encrypt("x")


def test_without_configured_keys_a_key_derived_from_the_secret_key_encrypts(settings: Any) -> None:
    settings.FIELD_ENCRYPTION_KEYS = ""
    token = text_encrypt(SECRET)
    assert is_encrypted(token) and SECRET not in token and text_decrypt(token) == SECRET
    assert SECRET not in orjson.dumps(token).decode()


def test_a_refused_review_is_quarantined_encrypted_and_shown_and_exported_in_clear(
    client: TestClient, key_headers: dict[str, str], keys: Any
) -> None:
    """Catches: the quarantine (kept for days, replayable) holding the words in clear."""
    refused = _review()
    refused["properties"]["rating"] = 9  # out of range: refused, quarantined as sent
    answer = client.post(BATCH, json={"events": [refused]}, headers=key_headers).json()
    assert answer["rejected"] == 1
    assert tables_mentioning(SECRET)[SECRET] == set()
    listed = client.get("/api/analytics/events/failed", headers=bearer("admin")).json()["results"]
    assert [row["payload"]["properties"]["text"] for row in listed] == [SECRET]
    exported = client.get(f"{PRIVACY}/user-7/export", headers=bearer("admin")).json()
    assert [row["payload"]["properties"]["text"] for row in exported["tables"]["analytics_failed_event"]] == [SECRET]


def test_a_text_that_looks_encrypted_is_still_encrypted_and_rotation_survives_foreign_values(
    client: TestClient, key_headers: dict[str, str], keys: Any
) -> None:
    """Found in review: a review text starting with the prefix was stored in clear, and a stored value that is
    no token (`enc:v1:é`) crashed `rotate_keys` on every run."""
    lookalike = "enc:v1:the words of a person who knows the prefix"
    answer = client.post(BATCH, json={"events": [_review(lookalike)]}, headers=key_headers).json()
    assert answer["stored"] == 1
    assert tables_mentioning("the words of a person")["the words of a person"] == set()
    stored = UserEvent.objects.get().properties["text"]
    assert text_decrypt(stored) == lookalike
    with pytest.raises(UndecryptableText):
        text_rotate("enc:v1:é")


def test_review_text_sent_as_metadata_is_quarantined_encrypted(
    client: TestClient, key_headers: dict[str, str], keys: Any
) -> None:
    refused = {"event_name": "review_submitted", "user_id": "user-7", "metadata": {"rating": 9, "text": SECRET}}
    assert client.post(BATCH, json={"events": [refused]}, headers=key_headers).json()["rejected"] == 1
    assert tables_mentioning(SECRET)[SECRET] == set()
