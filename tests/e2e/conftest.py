"""The browser tier: the service served by uvicorn on a small simulated platform (tests/support/served_demo.py,
one server for the whole tier), driven by Debian's headless Chromium through Playwright (never a downloaded
browser). Screenshots of every page go to artifacts/e2e/ (git-ignored)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from tests.support.served_demo import ROOT, Served, served_demo

ARTIFACTS = ROOT / "artifacts" / "e2e"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
USERS, DAYS = 400, 70  # enough for personas, alerts and the revenue forecast (63 days); about a minute


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with served_demo(tmp_path_factory.mktemp("e2e"), users=USERS, days=DAYS) as demo:
        yield demo


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
    printed = served.manage("totp_enrol", "--username", username)
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
