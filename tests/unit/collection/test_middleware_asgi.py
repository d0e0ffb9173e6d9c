"""The host's ASGI request middleware on a FastAPI app shaped like Loopin's: full route templates
through include_router prefixes and mounts, page views, one app_error per exception even with the
Django middleware inside, and a host response no analytics fault can touch."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import LazySettings
from django.core.asgi import get_asgi_application
from fastapi.testclient import TestClient

from analytics.collection.buffer import EventBuffer, event_buffer
from analytics.middleware import AnalyticsASGIMiddleware
from analytics.models import UserEvent
from tests.assertions import row_text
from tests.hostapp.api import SLOW_SECONDS, create_host_api
from tests.hostapp.outage import analytics_store_down

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def buffer() -> Iterator[EventBuffer]:
    buffer = event_buffer()
    assert buffer.flush(timeout=10)
    UserEvent.objects.all().delete()  # anything an earlier test left behind
    yield buffer
    buffer.flush(timeout=10)


@pytest.fixture
def host() -> Iterator[TestClient]:
    with TestClient(create_host_api(), raise_server_exceptions=False) as client:
        yield client


def tracked(buffer: EventBuffer, name: str | None = None) -> list[UserEvent]:
    assert buffer.flush(timeout=10)
    rows = UserEvent.objects.filter(source="middleware").order_by("id")
    return list(rows.filter(event_name=name) if name else rows)


def routes(buffer: EventBuffer) -> list[str]:
    return [e.properties["route"] for e in tracked(buffer, "api_request")]


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/events/123", "/events/{listing_id}"),
        ("/api/v1/orders/9/items/tickets", "/api/v1/orders/{order_id}/items/{item}"),
        ("/partners/accounts/p-1", "/partners/accounts/{partner_id}"),
        ("/me", "/me"),
        ("/raw/files/123", "/raw/{path}"),
        ("/v2/events/123/page", "/v2/events/{listing_id}/page"),
    ],
    ids=[
        "include-router-prefix",
        "nested-router-prefixes",
        "mounted-app-with-prefix",
        "plain-route",
        "mounted-asgi-app",
        "router-included-twice",
    ],
)
def test_route_template_is_the_full_public_path_not_the_raw_one(
    buffer: EventBuffer, host: TestClient, path: str, template: str
) -> None:
    started = time.perf_counter()
    assert host.get(path).status_code == 200
    elapsed_ms = (time.perf_counter() - started) * 1000
    (request,) = tracked(buffer, "api_request")
    assert request.properties["route"] == template
    assert (request.properties["method"], request.status_code) == ("GET", 200)
    assert request.response_time_ms is not None and 0 < request.response_time_ms <= elapsed_ms  # measured, in ms


def test_the_response_time_is_the_request_s_duration_in_milliseconds(buffer: EventBuffer, host: TestClient) -> None:
    started = time.perf_counter()
    assert host.get("/slow").status_code == 200
    elapsed_ms = (time.perf_counter() - started) * 1000
    (request,) = tracked(buffer, "api_request")
    assert SLOW_SECONDS * 1000 <= request.response_time_ms <= elapsed_ms


def test_html_response_becomes_a_page_view(buffer: EventBuffer, host: TestClient) -> None:
    host.get("/events/5/page", headers={"Referer": "https://loopin.example/home?session=abc"})
    (page_view,) = tracked(buffer, "page_view")
    assert page_view.page_path == "/events/5/page"
    assert page_view.properties["route"] == "/events/{listing_id}/page"
    assert page_view.properties["referrer"] == "https://loopin.example/home"
    host.get("/events/5")  # JSON: no page view
    assert len(tracked(buffer, "page_view")) == 1


def test_unmatched_path_uses_the_fixed_template(buffer: EventBuffer, host: TestClient) -> None:
    assert host.get("/no/such/thing/77").status_code == 404
    assert host.get("/partners/no/such/thing").status_code == 404  # only the mount matched
    assert routes(buffer) == ["unmatched", "unmatched"]


def test_404_from_a_matched_route_keeps_its_template_and_is_no_app_error(buffer: EventBuffer, host: TestClient) -> None:
    assert host.get("/events/5/gone").status_code == 404
    assert routes(buffer) == ["/events/{listing_id}/gone"]
    assert tracked(buffer, "app_error") == []


def test_skipped_paths_are_not_tracked(buffer: EventBuffer, host: TestClient) -> None:
    host.get("/health")
    host.get("/api/analytics/health")
    host.get("/events/1")
    assert routes(buffer) == ["/events/{listing_id}"]


def test_unhandled_exception_becomes_exactly_one_app_error_without_its_message(
    buffer: EventBuffer, host: TestClient
) -> None:
    assert host.get("/crash").status_code == 500
    (error,) = tracked(buffer, "app_error")
    assert error.properties["error_type"] == "RuntimeError"
    assert error.properties["route"] == "/crash"
    assert [e.status_code for e in tracked(buffer, "api_request")] == [500]
    for row in tracked(buffer):
        assert "4111" not in row_text(row) and "priya" not in row_text(row)


def test_wrapping_instead_of_add_middleware_records_the_same(buffer: EventBuffer) -> None:
    app = AnalyticsASGIMiddleware(create_host_api(middleware=False))
    with TestClient(app, raise_server_exceptions=False) as client:
        client.get("/api/v1/orders/3/items/x")
        assert client.get("/crash").status_code == 500
    assert routes(buffer) == ["/api/v1/orders/{order_id}/items/{item}", "/crash"]
    assert len(tracked(buffer, "app_error")) == 1


@pytest.fixture
def host_with_django() -> Iterator[TestClient]:
    """The host's FastAPI with its Django (and the Django middleware) mounted at /web."""
    with TestClient(create_host_api(django_app=get_asgi_application()), raise_server_exceptions=False) as client:
        yield client


@pytest.mark.urls("tests.hostapp.urls")
def test_both_middlewares_on_one_request_record_it_once(buffer: EventBuffer, host_with_django: TestClient) -> None:
    assert host_with_django.get("/web/events/3/").status_code == 200
    assert host_with_django.get("/web/crash/").status_code == 500
    requests = tracked(buffer, "api_request")
    assert [(e.properties["route"], e.status_code) for e in requests] == [
        ("/web/events/{listing_id}/", 200),
        ("/web/crash/", 500),
    ]
    assert [e.context["library"]["integration"] for e in requests] == ["django", "django"]
    assert [e.properties["error_type"] for e in tracked(buffer, "app_error")] == ["RuntimeError"]
    assert len(tracked(buffer, "page_view")) == 1


@pytest.mark.urls("tests.hostapp.urls")
def test_paths_the_mounted_django_skips_are_not_recorded_by_the_asgi_middleware_either(
    buffer: EventBuffer, host_with_django: TestClient
) -> None:
    host_with_django.get("/web/admin/login/")
    host_with_django.get("/web/health/")
    host_with_django.get("/web/events/1/")
    assert routes(buffer) == ["/web/events/{listing_id}/"]


def test_user_id_from_request_state_or_a_configured_callable(buffer: EventBuffer, host: TestClient) -> None:
    host.get("/me", headers={"X-Host-User": "u-77"})
    with TestClient(create_host_api(user_id=lambda scope: 5)) as client:
        client.get("/events/1")
    assert [e.user_id for e in tracked(buffer, "api_request")] == ["u-77", "5"]


def test_failing_user_id_callable_never_breaks_the_response(buffer: EventBuffer) -> None:
    def broken(scope: dict[str, Any]) -> str:
        raise KeyError("no user")

    with TestClient(create_host_api(user_id=broken)) as client:
        response = client.get("/events/1")
    assert (response.status_code, response.json()) == (200, {"id": 1})
    (request,) = tracked(buffer, "api_request")
    assert request.user_id is None


def test_client_ip_is_truncated_before_it_enters_the_buffer(buffer: EventBuffer) -> None:
    with analytics_store_down():
        with TestClient(create_host_api(), client=("198.51.100.23", 50123)) as client:
            client.get("/events/1")
        buffer.flush(timeout=2)
        assert all("198.51.100.23" not in repr(raw) for _, raw in buffer.pending_events())
    (request,) = tracked(buffer, "api_request")
    assert request.ip_prefix == "198.51.100.0/24"
    assert "198.51.100.23" not in row_text(request)


def test_host_response_is_unaffected_while_the_analytics_store_is_down(buffer: EventBuffer, host: TestClient) -> None:
    with analytics_store_down():
        response = host.get("/events/8")
        assert (response.status_code, response.json()) == (200, {"id": 8})
        assert host.get("/crash").status_code == 500
        assert buffer.flush(timeout=2) is False
    assert sorted(e.event_name for e in tracked(buffer)) == ["api_request", "api_request", "app_error"]


def test_the_services_own_api_is_never_tracked(buffer: EventBuffer, settings: LazySettings) -> None:
    from loopin_backend.asgi import application

    settings.ANALYTICS_SKIP_PATHS = []  # even with no skip rule at all
    with TestClient(AnalyticsASGIMiddleware(application)) as client:
        assert client.get("/api/analytics/health").status_code == 200
        client.get("/api/analytics/events/failed")
    assert buffer.pending_events() == []
    assert tracked(buffer) == []
