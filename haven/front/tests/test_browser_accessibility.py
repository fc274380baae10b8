"""Pages people can use with a keyboard, a screen reader and a phone (axe-core, no overflow)."""

import pytest
from playwright.sync_api import expect

from haven.testing.browser import DESKTOP, PHONE, axe_violations, save_screenshot, sign_in


def focused(page, script: str):
    return page.evaluate(f"() => {{ const element = document.activeElement; return {script}; }}")


@pytest.mark.browser
def test_the_skip_link_is_the_first_stop_and_moves_focus_into_main(page, people):
    for path in ("/accounts/login/", "/"):
        page.goto(path)
        page.keyboard.press("Tab")
        assert focused(page, "element.classList.contains('skip-link')"), path
        box = page.locator(".skip-link").bounding_box()
        assert box is not None and box["x"] >= 0 and box["y"] >= 0, "visible when focused"
        page.keyboard.press("Enter")
        assert focused(page, "element.id") == "main"
        page.keyboard.press("Tab")
        assert focused(page, "element.closest('main') !== null"), path
    page.goto("/accounts/login/")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert focused(page, "element.name") == "username"
    page.keyboard.type(people.alice.username)
    page.keyboard.press("Tab")
    page.keyboard.type("correct horse battery staple")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Hello, Alice")).to_be_visible()


PUBLIC_PAGES = {
    "home": "/",
    "sign-in": "/accounts/login/",
    "register": "/accounts/register/",
    "not-found": "/no-such-page/",
}
MEMBER_PAGES = {"member-home": "/", "profile": "/accounts/profile/"}
STAFF_PAGES = {"staff-workspace": "/staff/"}


def check_pages(page, pages: dict[str, str], size: str) -> list[str]:
    problems = []
    for name, path in pages.items():
        page.goto(path)
        expect(page.locator("main h1")).to_be_visible()
        save_screenshot(page, f"{size}-{name}")
        problems += [f"{path}: {violation}" for violation in axe_violations(page)]
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        if overflow > 0:
            problems.append(f"{path}: {overflow}px wider than the screen")
    return problems


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_pages_have_no_serious_accessibility_problems_and_fit_the_screen(
    open_page, people, request, viewport
):
    size = request.node.callspec.id
    page = open_page(viewport=viewport, axe=True)
    problems = check_pages(page, PUBLIC_PAGES, size)
    sign_in(page, people.alice)
    problems += check_pages(page, MEMBER_PAGES, size)

    staff_page = open_page(viewport=viewport, axe=True)
    sign_in(staff_page, people.nurse)
    problems += check_pages(staff_page, STAFF_PAGES, size)
    assert problems == [], "\n".join(problems)
