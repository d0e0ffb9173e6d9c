"""The first impression of `make run` (docs/simulator.md, "What the default demo's incidents should
raise"): the default demo — 3,000 users × 120 days, seed 7, incidents on — opens no alert. Its incidents
are weeks old by the time it is served; they are found as anomalies, and a false critical alert on the
first screen is a bug (one chargeback in five payments was one)."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from analytics.models import Alert, DetectedAnomaly

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_default_demo_opens_no_alert_and_finds_its_incidents_as_anomalies(tmp_path: Path, settings: object) -> None:
    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    settings.DEBUG = True  # type: ignore[attr-defined]
    call_command("bootstrap", "--no-progress", stdout=StringIO())  # the defaults of `make run`
    opened = list(Alert.objects.filter(state="open").values_list("severity", "metric_name", "value"))
    assert opened == []
    found = set(DetectedAnomaly.objects.values_list("metric_name", flat=True))
    assert {"daily_active_users", "payment_failure_rate"} <= found  # the traffic drop and the payment spike
