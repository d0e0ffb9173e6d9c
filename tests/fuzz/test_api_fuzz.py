"""Every operation of the OpenAPI schema, fuzzed with valid credentials (issue 12, "API fuzzing"): no
request — schema-valid or deliberately invalid — gets a 5xx, and every response matches what the schema
documents for it (status code, content type, headers, body).

Schemathesis runs as its command line does in any CI (`schemathesis run`), with a fixed seed so a failure
reproduces; LOOPIN_FUZZ_SEED picks another. Path parameters draw half their values from the demo's real
hosts, listings, metrics and alerts (a fuzz dictionary), so the routes behind them are reached, not only
their 404. Its report (JUnit, and a pytest file that replays each failure) goes to artifacts/fuzz/."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.served_demo import ROOT, Served

ARTIFACTS = ROOT / "artifacts" / "fuzz"
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
]
MAX_EXAMPLES = 12  # per operation and phase: the tier stays within its five-minute budget on a busy CI machine
SEED = int(os.environ.get("LOOPIN_FUZZ_SEED", "20261204"))
RUN_TIMEOUT = 600
OPEN_ALERTS = (
    "from analytics.security.alerts import security_alert\n"
    "for network in ('198.51.100.0/24', '203.0.113.0/24', '192.0.2.0/24'):\n"
    "    security_alert('rate_limited', network)\n"
)


def _credentials(served: Served) -> dict[str, str]:
    """Headers that pass every route's access rule: an admin token for reads, the demo's write key for
    ingestion."""
    token = served.manage("issue_token", "--role", "admin", "--sub", "fuzzer").strip().splitlines()[-1]
    write_key = (served.data_dir / "demo_write_key.txt").read_text().strip()
    return {"Authorization": f"Bearer {token}", "X-API-Key": write_key}


def _column(served: Served, sql: str) -> list[str | int]:
    with sqlite3.connect(served.data_dir / "served.sqlite3") as db:
        return [row[0] for row in db.execute(sql)]


def _config(served: Served, credentials: dict[str, str]) -> Path:
    """A schemathesis.toml whose dictionaries hold the demo's real identifiers, one per path parameter."""
    catalogue = httpx.get(f"{served.base_url}/api/analytics/metrics", headers=credentials, timeout=30)
    catalogue.raise_for_status()
    real: dict[str, list[str | int]] = {
        "host_id": _column(served, "SELECT DISTINCT host_id FROM analytics_event_listing WHERE host_id != '' LIMIT 5"),
        "listing_id": _column(served, "SELECT listing_id FROM analytics_event_listing LIMIT 5"),
        "metric_name": [card["metric_name"] for card in catalogue.json()["metrics"]][:8],
    }
    assert all(real.values()), f"the demo lacks identifiers to fuzz with: {real}"
    # The demo opens no alert (docs/simulator.md): open a few, for acknowledge and resolve to act on.
    served.manage("shell", "-c", OPEN_ALERTS)
    real["alert_id"] = _column(served, "SELECT id FROM analytics_alert WHERE state = 'open' ORDER BY id LIMIT 5")
    assert len(real["alert_id"]) == 3, real["alert_id"]
    lines = []
    for name, values in real.items():
        lines += [f"[dictionaries.{name}]", f"values = {json.dumps(values)}", ""]
    # No crash cache: a run replays nothing from an earlier one, so the seed alone decides what is sent.
    lines += ["[cache]", "enabled = false", ""]
    lines.append("[parameters]")
    lines += [f'"path.{name}" = {{ dictionary = "{name}", probability = 0.5 }}' for name in real]
    path = served.data_dir / "schemathesis.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_every_operation_answers_as_documented(served: Served) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    credentials = _credentials(served)
    command = [
        *(sys.executable, "-m", "schemathesis.cli", "--config-file", str(_config(served, credentials))),
        *("run", f"{served.base_url}/api/openapi.json"),
        *("--url", served.base_url),
        *(argument for name, value in credentials.items() for argument in ("--header", f"{name}: {value}")),
        *("--checks", ",".join(CHECKS)),
        *("--phases", "examples,coverage,fuzzing"),
        *("--max-examples", str(MAX_EXAMPLES)),
        *("--seed", str(SEED)),
        *("--workers", "2"),
        *("--request-timeout", "30"),
        "--suppress-health-check=all",
        *("--report", "junit,pytest", "--report-dir", str(ARTIFACTS)),
        "--output-truncate=false",
    ]
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False, env=served.env
    )
    (ARTIFACTS / "output.txt").write_text(done.stdout + done.stderr)
    assert done.returncode == 0, f"schemathesis found failures (exit {done.returncode}):\n{done.stdout[-20000:]}"
