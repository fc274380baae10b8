"""Signing in and staying signed in, in a real browser (ACC-5, ACC-12)."""

import re
import time

import pytest
from playwright.sync_api import expect

from haven.testing.browser import PASSWORD, save_screenshot, sign_in, totp_code


def signed_in(page) -> bool:
    """Ask the server, without counting as activity, whether the browser is still signed in."""
    response = page.request.get("/accounts/session/status/", headers={"Accept": "application/json"})
    return response.json()["signed_in"]


@pytest.mark.browser
@pytest.mark.promise("ACC-5")
def test_a_member_is_warned_before_the_idle_timeout_stays_then_is_signed_out(
    page, people, settings
):
    settings.HAVEN_SESSION_IDLE_SECONDS = 8
    settings.HAVEN_SESSION_WARNING_SECONDS = 5
    sign_in(page, people.alice)
    signed_in_at = time.monotonic()
    expect(page.get_by_role("heading", name="Hello, Alice")).to_be_visible()

    dialog = page.get_by_role("dialog", name="Are you still there?")
    expect(dialog).to_be_visible(timeout=8_000)
    countdown = dialog.locator("[data-session-countdown]")
    expect(countdown).to_have_text(re.compile(r"^0:0[1-5]$"))
    first = countdown.text_content()
    expect(countdown).not_to_have_text(first, timeout=3_000)
    stay = dialog.get_by_role("button", name="Stay signed in")
    expect(stay).to_be_focused()
    save_screenshot(page, "idle-warning")

    stay.click()
    expect(dialog).to_be_hidden()
    # Past the moment the first session would have ended: still signed in, still on the page.
    time.sleep(max(0, signed_in_at + 9 - time.monotonic()))
    assert signed_in(page)
    assert page.url.endswith("/")

    # No answer this time: the warning returns and the member is signed out when it runs out.
    expect(dialog).to_be_visible(timeout=8_000)
    page.wait_for_url("**/accounts/login/?reason=idle", timeout=15_000)
    expect(page.get_by_role("status")).to_contain_text("without activity")
    save_screenshot(page, "idle-signed-out")
    assert not signed_in(page)
    page.goto("/accounts/profile/")
    assert "/accounts/login/" in page.url


@pytest.mark.browser
@pytest.mark.promise("ACC-12")
def test_staff_sign_in_with_a_password_and_then_a_code_from_their_authenticator(page, people):
    page.goto("/accounts/login/")
    page.fill("input[name=username]", people.nurse.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form.stacked button[type=submit]")
    page.wait_for_url("**/accounts/two-factor/")

    # Nothing opens before the second factor.
    page.goto("/staff/")
    page.wait_for_url("**/accounts/two-factor/")

    code = totp_code(people.nurse)
    page.fill("input[name=otp_token]", f"{(int(code) + 500_000) % 1_000_000:06d}")
    page.click("main form.stacked button[type=submit]")
    expect(page.locator(".errorlist")).to_be_visible()
    save_screenshot(page, "two-factor-wrong-code")

    # django-otp makes the next try wait a second after a wrong code.
    time.sleep(1.5)
    page.fill("input[name=otp_token]", code)
    page.click("main form.stacked button[type=submit]")
    page.wait_for_url(lambda url: "/two-factor/" not in url)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Staff").click()
    expect(page.get_by_role("heading", name="Staff workspace")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Care team")
