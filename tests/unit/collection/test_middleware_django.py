"""The host's Django request middleware: route templates, page views, skipped paths, one app_error
per exception, and a host response that no analytics fault can touch."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from django.conf import LazySettings
from django.contrib.auth import get_user_model
from django.test import Client

from analytics.collection.buffer import EventBuffer, event_buffer
from analytics.models import UserEvent
from tests.assertions import row_text
from tests.hostapp.outage import analytics_store_down

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("tests.hostapp.urls")]

HOST_MIDDLEWARE_FIRST = "analytics.middleware.AnalyticsMiddleware"


@pytest.fixture
def buffer() -> Iterator[EventBuffer]:
    buffer = event_buffer()
    assert buffer.flush(timeout=10)
    UserEvent.objects.all().delete()  # anything an earlier test left behind
    yield buffer
    buffer.flush(timeout=10)


def tracked(buffer: EventBuffer, name: str | None = None) -> list[UserEvent]:
    assert buffer.flush(timeout=10)
    rows = UserEvent.objects.filter(source="middleware").order_by("id")
    return list(rows.filter(event_name=name) if name else rows)


def test_the_host_settings_install_the_middleware_first(settings: LazySettings) -> None:
    assert settings.MIDDLEWARE[0] == HOST_MIDDLEWARE_FIRST


def test_api_request_records_the_route_template_not_the_raw_id(buffer: EventBuffer) -> None:
    started = time.perf_counter()
    response = Client().get("/api/v1/listings/123/")
    elapsed_ms = (time.perf_counter() - started) * 1000
    assert response.status_code == 200
    (request,) = tracked(buffer)
    assert request.event_name == "api_request"
    assert request.properties["route"] == "/api/v1/listings/{listing_id}/"
    assert request.properties["method"] == "GET"
    assert request.status_code == 200
    assert request.response_time_ms is not None and 0 < request.response_time_ms <= elapsed_ms  # measured, in ms
    assert "123" not in request.properties["route"]


def test_html_page_becomes_a_page_view_with_its_path(buffer: EventBuffer) -> None:
    Client().get("/events/42/", HTTP_REFERER="https://loopin.example/search?q=jazz&token=abc")
    api_request = tracked(buffer, "api_request")[0]
    page_view = tracked(buffer, "page_view")[0]
    assert api_request.properties["route"] == "/events/{listing_id}/"
    assert page_view.page_path == "/events/42/"
    assert page_view.properties["route"] == "/events/{listing_id}/"
    assert page_view.properties["referrer"] == "https://loopin.example/search"


def test_json_and_non_get_responses_are_not_page_views(buffer: EventBuffer) -> None:
    Client().get("/api/v1/listings/1/")
    Client().post("/events/1/")
    assert [e.event_name for e in tracked(buffer)] == ["api_request", "api_request"]


def test_regex_url_pattern_becomes_a_named_template(buffer: EventBuffer) -> None:
    Client().get("/legacy/rooftop-jazz/")
    assert tracked(buffer, "api_request")[0].properties["route"] == "/legacy/{slug}/"


def test_root_page_has_the_root_template(buffer: EventBuffer) -> None:
    Client().get("/")
    assert tracked(buffer, "api_request")[0].properties["route"] == "/"


def test_unmatched_path_uses_the_fixed_template(buffer: EventBuffer) -> None:
    response = Client().get("/no/such/page/4711/")
    assert response.status_code == 404
    (request,) = tracked(buffer)
    assert (request.properties["route"], request.status_code) == ("unmatched", 404)


def test_404_raised_by_a_view_keeps_its_route_and_is_no_app_error(buffer: EventBuffer) -> None:
    assert Client().get("/events/5/gone/").status_code == 404
    (request,) = tracked(buffer)
    assert (request.properties["route"], request.status_code) == ("/events/{listing_id}/gone/", 404)


@pytest.mark.parametrize(
    "path",
    ["/health/", "/admin/login/", "/static/app.css", "/media/a.png", "/favicon.ico", "/api/analytics/health"],
)
def test_skipped_paths_are_not_tracked(buffer: EventBuffer, path: str) -> None:
    Client().get(path)
    Client().get("/events/1/")  # the middleware is live: this one is tracked
    assert [e.properties["route"] for e in tracked(buffer, "api_request")] == ["/events/{listing_id}/"]


def test_view_exception_becomes_exactly_one_app_error_without_its_message(buffer: EventBuffer) -> None:
    response = Client(raise_request_exception=False).get("/crash/")
    assert response.status_code == 500
    errors = tracked(buffer, "app_error")
    assert len(errors) == 1
    assert errors[0].properties["error_type"] == "RuntimeError"
    assert errors[0].properties["route"] == "/crash/"
    (request,) = tracked(buffer, "api_request")
    assert request.status_code == 500
    for row in tracked(buffer):
        text = row_text(row)
        assert "priya" not in text and "98765" not in text and "failed" not in text


def test_exception_in_an_inner_host_middleware_is_exactly_one_app_error(
    buffer: EventBuffer, settings: LazySettings
) -> None:
    settings.MIDDLEWARE = [HOST_MIDDLEWARE_FIRST, "tests.hostapp.middleware.ExplodingMiddleware"]
    response = Client(raise_request_exception=False).get("/events/7/explode/")
    assert response.status_code == 500
    errors = tracked(buffer, "app_error")
    assert [e.properties["error_type"] for e in errors] == ["LookupError"]
    assert [e.status_code for e in tracked(buffer, "api_request")] == [500]


def test_authenticated_user_is_recorded_and_anonymous_is_not(buffer: EventBuffer) -> None:
    user = get_user_model().objects.create_user(username="host-operator", password="pw-not-used-here")
    signed_in = Client()
    signed_in.force_login(user)
    signed_in.get("/me/")
    Client().get("/me/")
    users = [e.user_id for e in tracked(buffer, "api_request")]
    assert users == [str(user.pk), None]


def test_client_ip_is_truncated_before_it_enters_the_buffer(buffer: EventBuffer) -> None:
    # Hold the events in the buffer (the store is down) to look at what was queued.
    with analytics_store_down():
        Client(REMOTE_ADDR="203.0.113.77").get("/events/1/")
        buffer.flush(timeout=2)
        queued = buffer.pending_events()
        assert queued and all("203.0.113.77" not in repr(raw) for _, raw in queued)
    rows = tracked(buffer)
    assert {row.ip_prefix for row in rows} == {"203.0.113.0/24"}
    assert all("203.0.113.77" not in row_text(row) for row in rows)


def test_query_strings_are_never_recorded(buffer: EventBuffer) -> None:
    Client().get("/events/9/?token=s3cr3t-value&email=priya@example.com")
    for row in tracked(buffer):
        text = row_text(row)
        assert "s3cr3t-value" not in text and "priya" not in text
    assert tracked(buffer, "page_view")[0].page_path == "/events/9/"


def test_host_response_is_unaffected_while_the_analytics_store_is_down(buffer: EventBuffer) -> None:
    with analytics_store_down():
        response = Client().get("/events/3/")
        assert response.status_code == 200
        assert b"Listing 3" in response.content
        crashed = Client(raise_request_exception=False).get("/crash/")
        assert crashed.status_code == 500
        assert buffer.flush(timeout=2) is False  # held, not lost
    names = sorted(e.event_name for e in tracked(buffer))
    assert names == ["api_request", "api_request", "app_error", "page_view"]


def test_collection_disabled_records_nothing(buffer: EventBuffer, settings: LazySettings) -> None:
    settings.ANALYTICS_ENABLED = False
    assert Client().get("/events/1/").status_code == 200
    assert buffer.pending_events() == []
    assert tracked(buffer) == []
