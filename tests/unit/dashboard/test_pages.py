"""Dashboard pages: bad parameters are a 400 page (never a 500), charts are data the page cannot run, and
the page's content security policy keeps scripts to this origin's files."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date

import pytest
from django.test import Client
from fastapi.testclient import TestClient

from analytics.dashboard.accounts import dashboard_user_create
from analytics.dashboard.charts import line_chart

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("/dashboard/?days=abc", b"days is one of"),
        ("/dashboard/?days=100000000000000000000", b"days is one of"),
        ("/dashboard/trends/?date_from=2026-13-45", b"date_from is a date"),
        ("/dashboard/trends/?date_from=2026-03-10&date_to=2026-03-01", b"date_from is after date_to"),
        ("/dashboard/trends/?event=%3Cscript%3E", b"event is one of"),
        ("/dashboard/trends/?breakdown=user_id", b"breakdown is one of"),
        ("/dashboard/trends/?steps=event_viewed,no_such_event", b"unknown event in the funnel: no_such_event"),
        ("/dashboard/trends/?steps=event_viewed", b"2\xe2\x80\xa610 steps"),
        ("/dashboard/hosts/h1/?days=8", b"days is one of"),
    ],
)
def test_bad_parameters_answer_400_saying_which(login: Callable[..., Client], path: str, says: bytes) -> None:
    response = login("admin").get(path)
    assert response.status_code == 400
    assert says in response.content


def test_a_custom_funnel_is_drawn_beside_the_marketplace_funnel(login: Callable[..., Client]) -> None:
    response = login("analyst").get("/dashboard/trends/?steps=event_viewed,+event_requested")
    assert response.status_code == 200
    assert b'id="custom-funnel"' in response.content
    assert b"Your funnel: event_viewed \xe2\x86\x92 event_requested" in response.content


def test_a_chart_cannot_close_its_script_element() -> None:
    """A label with `</script>` (a city name, an event property) stays inside the JSON data."""
    chart = line_chart("c", "t", {"</script><script>alert(1)</script>": [(date(2026, 3, 1), 1.0)]})
    assert "</script>" not in chart.figure_json
    assert json.loads(chart.figure_json)["data"][0]["name"] == "</script><script>alert(1)</script>"


def test_dashboard_pages_run_only_this_origins_scripts(client: TestClient) -> None:
    """Inline styles are allowed (the charting library sets them); inline or foreign scripts are not."""
    dashboard_user_create(username="a", role="analyst")
    login_page = client.get("/dashboard/login/")
    policy = login_page.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "style-src 'self' 'unsafe-inline'" in policy
    assert "frame-ancestors 'none'" in policy
    admin_policy = client.get("/admin/login/").headers["content-security-policy"]
    assert "style-src 'self';" in admin_policy  # only the dashboard relaxes styles


def test_plotly_js_is_served_from_the_installed_wheel(client: TestClient) -> None:
    response = client.get("/static/plotly.min.js")
    assert response.status_code == 200
    assert b"plotly.js" in response.content[:2000]
    page = Client().get("/dashboard/login/")
    assert b'src="/static/plotly.min.js"' in page.content
    assert b"cdn" not in page.content.lower()
