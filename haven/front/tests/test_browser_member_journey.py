"""The journey the foundation promises: a member registers in Spanish, signs in, is warned when
idle, and is signed out when the (shortened) time runs out."""

import pytest
from django.utils import translation
from playwright.sync_api import expect

from haven.accounts.models import User
from haven.testing.browser import save_screenshot, sign_in
from haven.testing.people import make_member, years_ago

NEW_PASSWORD = "mariposa azul en la ventana"


@pytest.mark.browser
@pytest.mark.promise("ACC-5")
def test_a_member_registers_in_spanish_signs_in_is_warned_and_signed_out_when_idle(
    open_page, people, settings
):
    settings.HAVEN_SESSION_IDLE_SECONDS = 8
    settings.HAVEN_SESSION_WARNING_SECONDS = 5
    lucia = make_member("M-LUCIA", people.group, "Lucía", "Fernández", years_ago(34))
    with translation.override("es"):
        heading = translation.gettext("Register as a plan member")
        stay = translation.gettext("Stay signed in")
    assert heading != "Register as a plan member", "the registration page has no Spanish"

    page = open_page(locale="es-ES")
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    page.get_by_role("navigation").get_by_role("link", name="Registrarse").click()
    page.locator("a[href$='/accounts/register/member/']").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)

    page.fill("input[name=first_name]", lucia.first_name)
    page.fill("input[name=last_name]", lucia.last_name)
    page.check(f"input[name=gender][value={lucia.gender}]")
    page.fill("input[name=date_of_birth]", lucia.date_of_birth.isoformat())
    page.fill("input[name=member_id]", lucia.member_id)
    page.fill("input[name=group_number]", people.group.group_number)
    page.fill("input[name=username]", "lucia")
    page.fill("input[name=password1]", NEW_PASSWORD)
    page.fill("input[name=password2]", NEW_PASSWORD)
    save_screenshot(page, "journey-registration-filled")
    page.locator("main form.stacked button[type=submit]").click()
    page.wait_for_url(lambda url: "/register/" not in url)

    user = User.objects.get(username="lucia")
    assert user.member == lucia
    assert user.language == "es"

    # Signed in by registering; sign out, then in again through the sign-in page.
    page.get_by_role("button", name="Cerrar sesión").click()
    page.wait_for_url("**/accounts/login/**")
    sign_in(page, user, NEW_PASSWORD)
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hola, Lucía")

    dialog = page.get_by_role("dialog", name="¿Sigue ahí?")
    expect(dialog).to_be_visible(timeout=8_000)
    expect(dialog.get_by_role("button", name=stay)).to_be_focused()
    save_screenshot(page, "journey-idle-warning-spanish")

    page.wait_for_url("**/accounts/login/?reason=idle", timeout=15_000)
    expect(page.locator("html")).to_have_attribute("lang", "es")
    notice = page.locator("main .notice")
    expect(notice).to_be_visible()
    expect(notice).not_to_contain_text("without activity")
    save_screenshot(page, "journey-signed-out-spanish")
    page.goto("/accounts/profile/")
    assert "/accounts/login/" in page.url
