"""Who may open which dashboard page (docs/dashboard.md, "Roles"): the API's rules, in a browser session."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from analytics import clock
from analytics.intelligence.insights.drafts import InsightDraft
from analytics.intelligence.insights.store import insights_store
from analytics.models import AIInsight, Alert, EventListing
from analytics.models.alerts import AlertSeverity, AlertState
from tests.support.logins import verified_client
from tests.unit.dashboard.conftest import HOST_ID, OTHER_HOST_ID

pytestmark = pytest.mark.django_db(transaction=True)

ANALYST_PAGES = ("/dashboard/", "/dashboard/trends/", "/dashboard/revenue/", "/dashboard/people/", "/dashboard/hosts/")


def _listing(listing_id: str, host_id: str) -> None:
    now = clock.now()
    EventListing.objects.create(
        listing_id=listing_id, host_id=host_id, title="Jam night", starts_at=now + timedelta(days=3), state_at=now
    )


def _open_alert() -> Alert:
    now = clock.now()
    return Alert.objects.create(
        metric_name="refund_rate",
        metric_type="kri",
        severity=AlertSeverity.CRITICAL,
        dedup_key="metric:refund_rate:day:",
        title="refund_rate critical",
        opened_at=now,
        last_evaluated_at=now,
    )


@pytest.mark.parametrize("path", [*ANALYST_PAGES, f"/dashboard/hosts/{HOST_ID}/"])
def test_a_logged_out_visitor_is_sent_to_login(path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/dashboard/login/?next=")


@pytest.mark.parametrize("role", ["admin", "analyst"])
@pytest.mark.parametrize("path", ANALYST_PAGES)
def test_analysts_and_admins_open_every_page(login: Callable[..., Client], role: str, path: str) -> None:
    _listing("l1", HOST_ID)
    response = login(role).get(path)
    assert response.status_code == 200, response.content[:500]


def test_a_superuser_without_a_dashboard_role_is_an_admin() -> None:
    root = get_user_model().objects.create_superuser(username="root", password="pw-for-tests-only")
    assert verified_client(root).get("/dashboard/").status_code == 200


def test_an_account_without_a_dashboard_role_is_refused() -> None:
    get_user_model().objects.create_user(username="plain", password="pw-for-tests-only")
    client = Client()
    client.login(username="plain", password="pw-for-tests-only")
    response = client.get("/dashboard/")
    assert response.status_code == 403
    assert b"no dashboard role" in response.content


def test_a_host_lands_on_its_own_view_and_never_on_analyst_pages(login: Callable[..., Client]) -> None:
    _listing("l1", HOST_ID)
    host = login("host", HOST_ID)
    for path in ANALYST_PAGES:
        response = host.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == f"/dashboard/hosts/{HOST_ID}/"
    assert host.get(f"/dashboard/hosts/{HOST_ID}/").status_code == 200


def test_a_host_cannot_open_another_hosts_view(login: Callable[..., Client]) -> None:
    _listing("l1", HOST_ID)
    _listing("l2", OTHER_HOST_ID)
    response = login("host", HOST_ID).get(f"/dashboard/hosts/{OTHER_HOST_ID}/")
    assert response.status_code == 404
    assert b"Jam night" not in response.content


def test_an_analyst_opens_any_hosts_view(login: Callable[..., Client]) -> None:
    _listing("l2", OTHER_HOST_ID)
    response = login("analyst").get(f"/dashboard/hosts/{OTHER_HOST_ID}/")
    assert response.status_code == 200
    assert b"Jam night" in response.content


def test_only_an_admin_acknowledges_and_resolves(login: Callable[..., Client]) -> None:
    alert = _open_alert()
    analyst = login("analyst")
    assert b"Acknowledge" not in analyst.get("/dashboard/").content
    analyst.post(f"/dashboard/alerts/{alert.id}/acknowledge/")
    alert.refresh_from_db()
    assert alert.state == AlertState.OPEN

    admin = login("admin")
    assert b"Acknowledge" in admin.get("/dashboard/").content
    response = admin.post(f"/dashboard/alerts/{alert.id}/acknowledge/", follow=True)
    alert.refresh_from_db()
    assert alert.state == AlertState.ACKNOWLEDGED
    assert alert.acknowledged_by == "dashboard:admin-x"
    assert b"acknowledged" in response.content
    admin.post(f"/dashboard/alerts/{alert.id}/resolve/")
    alert.refresh_from_db()
    assert alert.state == AlertState.RESOLVED


def test_alert_actions_need_post_and_a_known_alert(login: Callable[..., Client]) -> None:
    alert = _open_alert()
    admin = login("admin")
    assert admin.get(f"/dashboard/alerts/{alert.id}/acknowledge/").status_code == 405
    assert admin.post("/dashboard/alerts/999999999999999999/acknowledge/").status_code == 404
    assert admin.post(f"/dashboard/alerts/{alert.id}/delete/").status_code == 404
    alert.refresh_from_db()
    assert alert.state == AlertState.OPEN


def test_alert_actions_are_csrf_protected(login: Callable[..., Client]) -> None:
    alert = _open_alert()
    admin = login("admin")
    admin.handler.enforce_csrf_checks = True
    assert admin.post(f"/dashboard/alerts/{alert.id}/acknowledge/").status_code == 403
    alert.refresh_from_db()
    assert alert.state == AlertState.OPEN


def _pending_insight() -> AIInsight:
    draft = InsightDraft(
        "demand_supply",
        "k",
        "Comedy in Pune: 2.5 seats asked for every seat offered",
        "In the last 30 days …",
        0.97,
        "high",
        ["Invite more comedy hosts in Pune"],
        "platform",
        {"comparison_group": "the other category-city markets' listings of the last 30 days"},
    )
    insights_store(generated_types=[], drafts=[draft], narratives={}, now=clock.now())
    return AIInsight.objects.get()


def test_the_overview_shows_insights_with_their_evidence_and_only_an_admin_moves_them(
    login: Callable[..., Client],
) -> None:
    insight = _pending_insight()
    analyst = login("analyst")
    page = analyst.get("/dashboard/").content
    assert b"Comedy in Pune: 2.5 seats asked for every seat offered" in page
    assert b"compared with the other category-city markets&#x27; listings of the last 30 days" in page
    assert b"confidence 97%" in page and b"Validate" not in page
    analyst.post(f"/dashboard/insights/{insight.id}/validated/")
    insight.refresh_from_db()
    assert insight.status == "pending"

    admin = login("admin")
    assert b"Validate" in admin.get("/dashboard/").content
    response = admin.post(f"/dashboard/insights/{insight.id}/validated/", follow=True)
    insight.refresh_from_db()
    assert insight.status == "validated" and insight.status_changed_by == "dashboard:admin-x"
    assert b"marked validated" in response.content and b'name="done"' in response.content
    refused = admin.post(f"/dashboard/insights/{insight.id}/dismissed/", follow=True)
    assert b"it can move to done" in refused.content
    assert admin.post("/dashboard/insights/999999999999999999/done/").status_code == 404
    assert admin.get(f"/dashboard/insights/{insight.id}/done/").status_code == 405
    insight.refresh_from_db()
    assert insight.status == "validated"
