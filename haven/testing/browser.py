"""Browser-test fixtures: Debian's chromium driven by Playwright against a live Haven.

Registered for every app by haven/conftest.py. A test asks for `page` (desktop) or `phone_page`
(390x844), `people` (the named test people of haven.testing.people, in a database the live
server shares) and signs in with `sign_in(page, user)`. Every page is screenshotted to
test-artifacts/<test-name>.png when the test ends, and any Content-Security-Policy violation
the browser reports fails the test. Mark browser tests `@pytest.mark.browser`.
"""

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Browser, BrowserContext, Page, Request, expect, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from haven.accounts.models import User
from haven.testing.people import PASSWORD, HavenTestCase

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
ARTIFACTS = Path(settings.PROJECT_DIR) / "test-artifacts"
AXE = Path(__file__).with_name("vendor") / "axe.min.js"
# Generous waits: the suite shares two cores with the live server and a second worker.
TIMEOUT_MS = 15_000
# The requests each open page has sent and not yet had answered, to name in a failure.
_UNANSWERED: dict[int, dict[Request, str]] = {}

__all__ = [
    "PASSWORD",
    "axe_violations",
    "browser",
    "open_page",
    "page",
    "people",
    "phone_page",
    "save_screenshot",
    "sign_in",
    "totp_code",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


def artifact_name(request: pytest.FixtureRequest) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")


def save_screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot as test-artifacts/<name>.png, to look at after the run."""
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(target), full_page=True)
    return target


@pytest.fixture
def open_page(
    browser: Browser, live_server, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Page]]:
    """Open a page in a fresh browser context (own cookies) on the live server.

    `open_page(viewport=PHONE, locale="es-ES", axe=True)`: the locale sets the browser's
    Accept-Language; `axe` loads axe-core into every document for accessibility checks.
    """
    opened: list[tuple[BrowserContext, Page, list[str]]] = []

    def opener(
        *, viewport: dict[str, int] = DESKTOP, locale: str = "en-US", axe: bool = False
    ) -> Page:
        options: dict[str, Any] = {"base_url": live_server.url, "viewport": viewport}
        options["locale"] = locale
        if viewport == PHONE:
            options |= {"is_mobile": True, "has_touch": True, "device_scale_factor": 2}
        context = browser.new_context(**options)
        context.set_default_timeout(TIMEOUT_MS)
        if axe:
            # An init script runs in every document before the page's own scripts, outside the
            # page's CSP, so axe needs no exception in the policy Haven serves.
            context.add_init_script(path=str(AXE))
        new_page = context.new_page()
        unanswered: dict[Request, str] = {}
        new_page.on("request", lambda sent: unanswered.__setitem__(sent, sent.url))
        new_page.on("requestfinished", lambda done: unanswered.pop(done, None))
        new_page.on("requestfailed", lambda failed: unanswered.pop(failed, None))
        _UNANSWERED[id(new_page)] = unanswered
        violations: list[str] = []
        new_page.on(
            "console",
            lambda message: (
                violations.append(message.text)
                if "Content Security Policy" in message.text
                else None
            ),
        )
        opened.append((context, new_page, violations))
        return new_page

    yield opener

    name = artifact_name(request)
    reported = []
    for number, (context, opened_page, violations) in enumerate(opened):
        if not opened_page.is_closed():
            suffix = "" if number == 0 else f"-{number + 1}"
            save_screenshot(opened_page, name + suffix)
        reported.extend(violations)
        _UNANSWERED.pop(id(opened_page), None)
        context.close()
    assert reported == [], "the page broke its Content-Security-Policy:\n" + "\n".join(reported)


@pytest.fixture
def page(open_page: Callable[..., Page]) -> Page:
    """A desktop-sized page in English, in a fresh browser context."""
    return open_page()


@pytest.fixture
def phone_page(open_page: Callable[..., Page]) -> Page:
    """A phone-sized page (390x844, touch) in English, in a fresh browser context."""
    return open_page(viewport=PHONE)


@pytest.fixture
def people(live_server) -> SimpleNamespace:
    """The named test people (alice, maria, nurse, ...) in the database the live server reads."""
    namespace = type("People", (), {})
    # HavenTestCase builds its people as class attributes; built here on a plain class instead.
    HavenTestCase.setUpTestData.__func__(namespace)  # type: ignore[attr-defined]
    return SimpleNamespace(
        **{name: value for name, value in vars(namespace).items() if not name.startswith("__")}
    )


def totp_code(user: User) -> str:
    """The code a staff member's authenticator app shows now (ACC-12)."""
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    return f"{code:0{device.digits}d}"


def sign_in(page: Page, user: User, password: str = PASSWORD) -> None:
    """Sign in through the sign-in page as a person would; staff also give their TOTP code."""
    page.goto("/accounts/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", password)
    page.click("main form.stacked button[type=submit]")
    if user.kind == User.Kind.STAFF:
        wait_to_arrive(page, lambda url: "/accounts/two-factor/" in url)
        page.fill("input[name=otp_token]", totp_code(user))
        page.click("main form.stacked button[type=submit]")
    wait_to_arrive(page, lambda url: "/accounts/login/" not in url and "/two-factor/" not in url)


def wait_to_arrive(page: Page, arrived: Callable[[str], bool]) -> None:
    """Wait until the page's address is one `arrived` accepts (its answer begun, not every
    image loaded); if it never is, fail saying where the page stopped and what it waits for."""
    try:
        page.wait_for_url(arrived, wait_until="commit")
    except PlaywrightTimeout:
        try:
            shown = " ".join(page.locator("main").inner_text(timeout=2_000).split())[:400]
        except PlaywrightTimeout:
            shown = "(the page did not answer)"
        waiting = sorted(_UNANSWERED.get(id(page), {}).values())
        raise AssertionError(
            f"the page stopped at {page.url}\nshowing: {shown}\nstill waiting for: {waiting}"
        ) from None


def answer_cookie_banner(page: Page) -> None:
    """Answer the cookie banner once, as a visitor would, so it covers nothing on screenshots."""
    button = page.get_by_role("button", name="Essential cookies only")
    if not (button.count() and button.first.is_visible()):
        return
    with page.expect_navigation():
        button.first.click()
    page.reload()  # without the "choice saved" flash


def axe_violations(page: Page, impacts: tuple[str, ...] = ("serious", "critical")) -> list[str]:
    """Accessibility problems axe-core finds on the page (needs `open_page(axe=True)`)."""
    results = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + ", ".join(node["target"][0] for node in violation["nodes"][:5])
        for violation in results
        if violation["impact"] in impacts
    ]
