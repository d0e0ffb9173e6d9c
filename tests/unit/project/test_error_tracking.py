"""Error tracking (docs/operations.md, "Error tracking"): with SENTRY_DSN set, errors reach Sentry — here a
local server that accepts the SDK's envelopes — with personal data stripped by the ingestion's scrubber."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sentry_sdk

from loopin_backend.error_tracking import error_tracking_init, scrub_event
from tests.support.sentry_server import SentryServer

EMAIL = "priya.sharma@example.com"
PHONE = "+91 98765 43210"


@pytest.fixture
def sentry() -> Iterator[SentryServer]:
    with SentryServer() as server:
        assert error_tracking_init(dsn=server.dsn, environment="test", release="0.0.0")
        yield server
        sentry_sdk.get_client().close()
        sentry_sdk.init()  # no DSN: the SDK is off again for the rest of the suite


def test_an_error_reaches_sentry_with_emails_and_phone_numbers_masked(sentry: SentryServer) -> None:
    try:
        raise ValueError(f"payment for {EMAIL} ({PHONE}) failed")
    except ValueError as error:
        sentry_sdk.capture_exception(error)
    sentry_sdk.flush(timeout=5)
    (event,) = sentry.events()
    text = str(event)
    assert EMAIL not in text and "98765" not in text
    (exception,) = event["exception"]["values"]
    assert exception["type"] == "ValueError" and "payment for" in exception["value"]
    assert event["environment"] == "test" and "user" not in event


def test_credentials_cookies_and_the_user_never_leave() -> None:
    event = {
        "user": {"id": "42", "ip_address": "203.0.113.9", "email": EMAIL},
        "request": {
            "url": "https://analytics.example/api/analytics/overview",
            "headers": {"Authorization": "Bearer eyJ.secret", "X-Api-Key": "lak_secret", "Accept": "application/json"},
            "cookies": {"sessionid": "abc"},
            "env": {"REMOTE_ADDR": "203.0.113.9"},
        },
        "extra": {"password": "hunter2", "note": f"mail {EMAIL}"},
        "message": f"from 203.0.113.9 for {EMAIL}",
    }
    scrubbed = scrub_event(event)
    assert "user" not in scrubbed
    assert scrubbed["request"]["headers"] == {"Accept": "application/json"}
    assert "cookies" not in scrubbed["request"] and "env" not in scrubbed["request"]
    assert scrubbed["extra"]["password"] != "hunter2"
    assert EMAIL not in str(scrubbed) and "203.0.113.9" not in str(scrubbed)


def test_without_a_dsn_nothing_starts() -> None:
    assert error_tracking_init(dsn="", environment="test", release="0.0.0") is False
