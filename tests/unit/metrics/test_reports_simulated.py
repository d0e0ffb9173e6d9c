"""The digests of a simulated platform (docs/reports.md): six weeks of a small Loopin, as `make run`
would hold it, give a weekly digest with movers, hosts and an outlook line, in tables and in Markdown."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from analytics.metrics.reports.digest import digest_build
from analytics.metrics.reports.render import digest_markdown
from analytics.models import BusinessMetric

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_simulated_platforms_weekly_digest(tmp_path: Path, settings: object) -> None:
    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    call_command("simulate", "--users", "300", "--days", "42", "--seed", "5", "--no-progress", stdout=StringIO())
    call_command("backfill_metrics", stdout=StringIO())
    assert BusinessMetric.objects.filter(period_type="week").exists()

    digest = digest_build("weekly")
    assert digest.hosts, "a simulated week has hosts with revenue"
    assert all(h.net_revenue > 0 for h in digest.hosts)
    for mover in digest.movers:  # whatever moved did so by 25% or more, with enough events behind it
        assert abs(mover.change_percentage) >= 25 and mover.volume >= 20
    text = digest_markdown(digest)
    assert "## Hosts with the most net revenue" in text and f"| {digest.hosts[0].host_id} | ₹" in text

    out = StringIO()
    call_command("analytics_report", "--period", "weekly", stdout=out)
    assert out.getvalue().startswith(digest.title)
    assert "Hosts with the most net revenue" in out.getvalue()
