"""Error tracking with Sentry when SENTRY_DSN is set (docs/operations.md, "Error tracking").

Personal data is stripped before anything leaves: no default PII (no user, no IP, no cookies), the
request's cookies and credential headers dropped, and every remaining string of the event — messages,
exception values, local variables, breadcrumbs, request data — passed through the ingestion's own
scrubber (emails and phone numbers masked, IP literals truncated, secret-named keys redacted)."""

from __future__ import annotations

from typing import Any

CREDENTIAL_HEADERS = frozenset({"authorization", "cookie", "x-api-key", "proxy-authorization", "set-cookie"})


def scrub_event(event: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """The event as it may leave the service (`before_send`)."""
    from analytics.privacy.scrubbing import scrub_for_quarantine

    event.pop("user", None)
    request = event.get("request")
    if isinstance(request, dict):
        request.pop("cookies", None)
        request.pop("env", None)
        headers = request.get("headers")
        if isinstance(headers, dict):
            request["headers"] = {k: v for k, v in headers.items() if k.lower() not in CREDENTIAL_HEADERS}
    scrubbed = scrub_for_quarantine(event)
    assert isinstance(scrubbed, dict)
    return scrubbed


def error_tracking_init(*, dsn: str, environment: str, release: str) -> bool:
    """Start the Sentry SDK (Django, Celery and FastAPI are picked up by its default integrations)."""
    if not dsn:
        return False
    import sentry_sdk

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=f"loopin-analytics@{release}",
        # No user, no request bodies, no frame variables (they hold people's ids and payloads), no query data.
        data_collection={
            "user_info": False,
            "http_bodies": [],
            "stack_frame_variables": False,
            "database_query_data": False,
        },
        traces_sample_rate=0.0,
        before_send=scrub_event,  # type: ignore[arg-type]
        before_send_transaction=lambda event, hint: None,
    )
    return True
