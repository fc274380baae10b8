"""The interface in English, Spanish and Italian: browser default, switcher, remembered choice."""

import pytest
from playwright.sync_api import expect

from haven.testing.browser import save_screenshot, sign_in


def switch_language(page, code: str, button: str) -> None:
    page.select_option("#language-select", code)
    page.get_by_role("button", name=button).click()
    expect(page.locator("html")).to_have_attribute("lang", code)


@pytest.mark.browser
def test_the_language_switcher_changes_the_interface_to_spanish_then_italian(page):
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    nav = page.get_by_role("navigation")

    switch_language(page, "es", "Change language")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Su plan de salud, en un solo lugar privado"
    )
    expect(nav).to_contain_text("Iniciar sesión")
    save_screenshot(page, "language-spanish")

    switch_language(page, "it", "Cambiar idioma")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Il Suo piano sanitario, in un unico luogo riservato"
    )
    expect(nav).to_contain_text("Accedi")
    expect(page.get_by_role("link", name="Vai al contenuto principale")).to_be_attached()


@pytest.mark.browser
def test_the_browsers_language_is_the_default(open_page):
    page = open_page(locale="es-MX")
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("navigation")).to_contain_text("Registrarse")


@pytest.mark.browser
def test_a_signed_in_members_choice_is_remembered_at_the_next_sign_in(open_page, people):
    first = open_page()
    sign_in(first, people.alice)
    switch_language(first, "it", "Change language")
    expect(first.get_by_role("heading", level=1)).to_have_text("Buongiorno, Alice")
    first.get_by_role("button", name="Esci").click()
    first.wait_for_url("**/accounts/login/**")
    people.alice.refresh_from_db()
    assert people.alice.language == "it"

    # Another browser, in English, with none of the first one's cookies.
    second = open_page(locale="en-US")
    second.goto("/")
    expect(second.locator("html")).to_have_attribute("lang", "en")
    sign_in(second, people.alice)
    expect(second.locator("html")).to_have_attribute("lang", "it")
    expect(second.get_by_role("heading", level=1)).to_have_text("Buongiorno, Alice")
    second.get_by_role("link", name="Il mio account").first.click()
    expect(second.locator("html")).to_have_attribute("lang", "it")
