"""`make bench-dashboard`: how long each dashboard page takes on the `make run` demo (docs/benchmarks.md).

Reads the service's own database (run `make run` once first; the default demo is 3,000 users × 120
days). Two figures per page:

1. **Server**: Django's test client, in this process, logged in as an admin — the view's queries and
   rendering, 2 warm-up and 10 timed requests (median and max).
2. **Browser** (when Debian's /usr/bin/chromium and playwright are there): the real server is started
   on a free port (uvicorn, the demo's settings), headless Chromium logs in and opens the page until plotly has
   drawn every chart — what a person waits for; 1 warm-up and 5 timed loads (median and max).

Prints to stdout; writes nothing.
"""

from __future__ import annotations

import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loopin_backend.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.test import Client  # noqa: E402

from analytics.dashboard.accounts import busiest_host_id  # noqa: E402
from analytics.models import UserEvent  # noqa: E402

PAGES = ["/dashboard/", "/dashboard/trends/", "/dashboard/revenue/", "/dashboard/people/", "/dashboard/hosts/"]
CHARTS_DRAWN = "document.querySelectorAll('div.chart[data-rendered]').length == Number(document.body.dataset.charts)"
BENCH_USER = "bench-dashboard"


def _server_times(pages: list[str]) -> None:
    user, _ = get_user_model().objects.get_or_create(username=BENCH_USER, defaults={"is_superuser": True})
    client = Client()
    client.force_login(user)
    print(f"{'page':40} {'server median':>14} {'max':>8}")
    for page in pages:
        for _ in range(2):
            assert client.get(page).status_code == 200, page
        times = []
        for _ in range(10):
            start = time.perf_counter()
            response = client.get(page)
            times.append(time.perf_counter() - start)
            assert response.status_code == 200
        print(f"{page:40} {statistics.median(times) * 1000:11.0f} ms {max(times) * 1000:5.0f} ms")


def _browser_times(pages: list[str]) -> None:
    if not Path("/usr/bin/chromium").exists():
        print("browser: skipped (/usr/bin/chromium is not installed)")
        return
    from playwright.sync_api import sync_playwright

    password = secrets.token_urlsafe(16)
    user = get_user_model().objects.get(username=BENCH_USER)
    user.set_password(password)
    user.save()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # The demo's own settings (.env: DEBUG on, as `make run` serves it); no background schedule.
    env = {**os.environ, "ANALYTICS_EMBEDDED_SCHEDULER": "false", "LOG_LEVEL": "WARNING"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "loopin_backend.asgi:application",
            "--port",
            str(port),
            "--log-level=warning",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://localhost:{port}"  # a trustworthy origin: Chromium keeps the Secure session cookie
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "the server did not start"
                time.sleep(0.3)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
            )
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{base}/dashboard/login/")
            page.fill("input[name=username]", BENCH_USER)
            page.fill("input[name=password]", password)
            page.click("button[type=submit]")
            page.wait_for_load_state("load")
            print(f"{'page':40} {'browser median':>14} {'max':>8}  (until every chart is drawn)")
            for path in pages:
                times = []
                for attempt in range(6):
                    start = time.perf_counter()
                    page.goto(base + path)
                    page.wait_for_function(CHARTS_DRAWN, timeout=30_000)
                    if attempt:
                        times.append(time.perf_counter() - start)
                print(f"{path:40} {statistics.median(times) * 1000:11.0f} ms {max(times) * 1000:5.0f} ms")
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=20)


def main() -> int:
    events = UserEvent.objects.count()
    if not events:
        print("the database is empty: run `make run` once first")
        return 2
    host = busiest_host_id()
    pages = [*PAGES, *([f"/dashboard/hosts/{host}/"] if host else [])]
    print(f"demo database: {events:,} tracked events")
    _server_times(pages)
    _browser_times(pages)
    get_user_model().objects.filter(username=BENCH_USER).delete()
    return 0


if __name__ == "__main__":
    sys.exit(main())
