"""The dashboard in a real browser (docs/dashboard.md): every role logs in and sees populated pages with
rendered charts and no console errors; an admin acknowledges an alert; a host never sees another host;
a logged-out visitor is sent to the login page."""

from __future__ import annotations

import subprocess
import sys

import pytest
from playwright.sync_api import Page

from tests.e2e.conftest import ROOT, Console, Served, log_in, screenshot

ANALYST_PAGES = {
    "overview": "/dashboard/",
    "trends": "/dashboard/trends/",
    "revenue": "/dashboard/revenue/",
    "people": "/dashboard/people/",
    "hosts": "/dashboard/hosts/",
}
CHARTS_DRAWN = "document.querySelectorAll('div.chart[data-rendered]').length == Number(document.body.dataset.charts)"
# Per chart: how many values its traces carry (x for lines and bars, z rows for the heat map).
CHART_VALUES = """() => Array.from(document.querySelectorAll('div.chart')).map(node => [node.id,
    (node.data || []).reduce((n, trace) => n + ((trace.z || trace.y || []).filter(v => v !== null).length), 0)])"""


def _open(page: Page, served: Served, path: str) -> dict[str, int]:
    """Open a page, wait until plotly has drawn every chart on it; {chart id: values drawn}."""
    response = page.goto(served.base_url + path)
    assert response is not None and response.status == 200, path
    page.wait_for_function(CHARTS_DRAWN, timeout=15_000)
    return dict(page.evaluate(CHART_VALUES))


def test_a_logged_out_visitor_is_sent_to_login(page: Page, served: Served) -> None:
    for path in [*ANALYST_PAGES.values(), "/dashboard/hosts/any/"]:
        page.goto(served.base_url + path)
        assert page.url.startswith(f"{served.base_url}/dashboard/login/?next="), path
        assert page.locator("input[name=password]").is_visible()


@pytest.mark.parametrize("role", ["admin", "analyst"])
def test_analysts_and_admins_see_every_page_populated(page: Page, served: Served, console: Console, role: str) -> None:
    log_in(page, served, role)
    for name, path in ANALYST_PAGES.items():
        charts = _open(page, served, path)
        screenshot(page, f"{role}-{name}")
        if name == "hosts":
            assert page.locator("table tbody tr a").count() > 0  # the host list links to host views
            continue
        assert charts, f"{name}: no charts"
        empty = [chart for chart, values in charts.items() if values == 0]
        assert not empty, f"{name}: charts drawn without data: {empty}"
    _open(page, served, "/dashboard/")
    assert page.locator(".cards .card").count() >= 30  # every KPI, KRI and KR of the registry has a card
    assert page.locator(".cards .card.status-green").count() > 0
    assert console.errors == []


def test_a_host_sees_its_own_view_and_nothing_else(page: Page, served: Served, console: Console) -> None:
    host_id = log_in(page, served, "host")
    assert page.url == f"{served.base_url}/dashboard/hosts/{host_id}/"  # where a host lands
    charts = _open(page, served, f"/dashboard/hosts/{host_id}/")
    screenshot(page, "host-own-view")
    assert sum(charts.values()) > 0
    assert page.locator("h1").inner_text() == f"Host {host_id}"
    for path in ANALYST_PAGES.values():
        page.goto(served.base_url + path)
        assert page.url == f"{served.base_url}/dashboard/hosts/{host_id}/", path
    response = page.goto(f"{served.base_url}/dashboard/hosts/not-{host_id}/")
    assert response is not None and response.status == 404
    screenshot(page, "host-other-host-refused")
    assert console.errors == [e for e in console.errors if "404" in e]  # only the refused page's own 404


def test_an_analyst_opens_a_hosts_view_from_the_list(page: Page, served: Served, console: Console) -> None:
    log_in(page, served, "analyst")
    page.goto(served.base_url + "/dashboard/hosts/")
    first = page.locator("table tbody tr a").first
    host_id = first.inner_text()
    first.click()
    page.wait_for_function(CHARTS_DRAWN, timeout=15_000)
    assert page.url == f"{served.base_url}/dashboard/hosts/{host_id}/"
    screenshot(page, "analyst-host-view")
    assert console.errors == []


def _seed_open_alert(served: Served) -> str:
    """An open alert with a title no evaluation writes, made through the ORM in the server's database."""
    code = (
        "import django; django.setup()\n"
        "from analytics import clock\n"
        "from analytics.models import Alert\n"
        "now = clock.now()\n"
        "a = Alert.objects.create(metric_name='refund_rate', metric_type='kri', severity='warning',"
        " dedup_key='metric:refund_rate:e2e', title='E2E refund rate check', opened_at=now, last_evaluated_at=now)\n"
        "print(a.id)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=served.env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_an_admin_acknowledges_an_alert(page: Page, served: Served, console: Console) -> None:
    alert_id = _seed_open_alert(served)
    log_in(page, served, "analyst")
    page.goto(served.base_url + "/dashboard/")
    row = page.locator("table.alerts tr", has_text="E2E refund rate check")
    assert row.count() == 1
    assert row.locator("button[name=acknowledge]").count() == 0  # analysts read alerts, admins act on them
    page.click("form.whoami button")

    log_in(page, served, "admin")
    page.goto(served.base_url + "/dashboard/")
    row = page.locator("table.alerts tr", has_text="E2E refund rate check")
    row.locator("button[name=acknowledge]").click()
    page.wait_for_load_state("networkidle")
    assert page.locator(".messages").inner_text() == f"Alert {alert_id} acknowledged."
    assert page.locator("table.alerts tr", has_text="E2E refund rate check").count() == 0
    screenshot(page, "admin-alert-acknowledged")
    assert console.errors == []
