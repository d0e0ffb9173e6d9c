"""The browser tier: the service served by uvicorn on a small simulated platform, driven by Debian's
headless Chromium through Playwright (never a downloaded browser).

One server for the whole tier: a scratch directory holds its SQLite database, its data directory and
the demo's dashboard logins (`manage.py bootstrap`, as `make run` does, on a smaller platform).
Screenshots of every page go to artifacts/e2e/ (git-ignored)."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from django_otp.oath import TOTP
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from loopin_backend.server_protocol import UVICORN_OPTIONS
from tests.integration.proxy import free_port
from tests.integration.support import ServiceProcess, wait_until

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "e2e"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
USERS, DAYS = 400, 70  # enough for personas, alerts and the revenue forecast (63 days); about a minute
START_TIMEOUT = 60


@dataclass(frozen=True)
class Served:
    base_url: str
    env: dict[str, str]
    logins: dict[str, tuple[str, str, str]]  # role → (username, password, host id or "")


def _manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _logins(data_dir: Path) -> dict[str, tuple[str, str, str]]:
    logins = {}
    for line in (data_dir / "dashboard_passwords.txt").read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        parts = line.split()
        username, role, password = parts[0], parts[1], parts[-1]
        logins[role] = (username, password, parts[2] if len(parts) == 4 else "")
    return logins


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    work = tmp_path_factory.mktemp("e2e")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "loopin_backend.settings",
        "DEBUG": "true",
        "ANALYTICS_DATA_DIR": str(work),
        "DATABASE_URL": f"sqlite:///{work / 'e2e.sqlite3'}",
        "CELERY_BROKER_URL": "",
        "ANALYTICS_EMBEDDED_SCHEDULER": "false",
    }
    _manage(env, "migrate", "--noinput", "-v0")
    _manage(env, "bootstrap", "--users", str(USERS), "--days", str(DAYS), "--no-progress")
    port = free_port()
    # Served as `make run` serves it (the service's HTTP protocol and keep-alive), by the integration tier's
    # process helper, which also takes the server's whole process group down at the end.
    server = ServiceProcess(
        "uvicorn",
        [
            *(sys.executable, "-m", "uvicorn", "loopin_backend.asgi:application"),
            *UVICORN_OPTIONS,
            *("--host", "127.0.0.1", "--port", str(port)),
        ],
        env=env,
        log_path=work / "server.log",
        cwd=ROOT,
    )
    base_url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            return httpx.get(f"{base_url}/api/analytics/health", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_until(answers, timeout=START_TIMEOUT, what="the served demo answers /health", alive=[server])
        yield Served(base_url=base_url, env=env, logins=_logins(work))
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@dataclass
class Console:
    """What the page said on its console that a user's browser would flag."""

    errors: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                self.errors.append(f"{page.url}: {message.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.errors.append(f"{page.url}: {error}"))


@pytest.fixture
def console() -> Console:
    return Console()


@pytest.fixture
def page(browser: Browser, console: Console) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    opened = context.new_page()
    console.watch(opened)
    yield opened
    context.close()


def totp_enrol(served: Served, username: str) -> bytes:
    """Enrol `username` in two-factor authentication as an operator does (`manage.py totp_enrol`) and return
    the secret it printed. Each login enrols afresh: a code is accepted once, and two logins may fall in the
    same 30-second step."""
    printed = _manage(served.env, "totp_enrol", "--username", username)
    secret = next(line.removeprefix("secret: ") for line in printed.splitlines() if line.startswith("secret: "))
    return base64.b32decode(secret)


def totp_now(secret: bytes) -> str:
    """The code an authenticator app shows now for `secret` (RFC 6238, six digits)."""
    return f"{TOTP(secret).token():06d}"


def log_in(page: Page, served: Served, role: str) -> str:
    """Log in through the form as the demo's user of `role` — a dashboard admin with its two-factor code;
    returns its host id ("" for other roles)."""
    username, password, host_id = served.logins[role]
    code = totp_now(totp_enrol(served, username)) if role == "admin" else ""
    page.goto(f"{served.base_url}/dashboard/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.fill("input[name=otp_token]", code)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    return host_id


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
