"""A member invites a caregiver who has no account; the caregiver joins and acts for her (ACC-9).
Every caregiver and member-services page passes axe and fits a phone."""

import pytest
from playwright.sync_api import expect

from haven.accounts.models import User
from haven.audit.tests.training import train_all_staff
from haven.caregivers.models import Grant
from haven.testing.browser import DESKTOP, PHONE, axe_violations, save_screenshot, sign_in


def page_problems(page, path: str) -> list[str]:
    page.goto(path)
    expect(page.locator("main h1")).to_be_visible()
    problems = [f"{path}: {violation}" for violation in axe_violations(page)]
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    if overflow > 0:
        problems.append(f"{path}: {overflow}px wider than the screen")
    return problems


@pytest.mark.browser
@pytest.mark.promise("ACC-9")
def test_a_member_invites_a_new_caregiver_who_joins_and_acts_within_the_scopes(open_page, people):
    elena_page = open_page(viewport=PHONE)
    sign_in(elena_page, people.elena)
    elena_page.goto("/caregivers/invite/")
    elena_page.fill("input[name=invited_name]", "Nephew Paolo")
    elena_page.check("input[name=scopes][value=appointments]")
    elena_page.locator("main form.stacked button[type=submit]").click()
    link = elena_page.locator("#invitation-link").input_value().strip()
    save_screenshot(elena_page, "caregivers-invitation-link")

    paolo_page = open_page(viewport=PHONE)
    paolo_page.goto(link)
    expect(paolo_page.get_by_role("heading", level=1)).to_have_text(
        "Invitation to act as a caregiver"
    )
    assert "/invitation/" in paolo_page.url and link not in paolo_page.url
    paolo_page.fill("input[name=new-first_name]", "Paolo")
    paolo_page.fill("input[name=new-last_name]", "Moretti")
    paolo_page.fill("input[name=new-email]", "paolo@example.org")
    paolo_page.fill("input[name=new-username]", "paolo")
    paolo_page.fill("input[name=new-password1]", "a long and unusual passphrase")
    paolo_page.fill("input[name=new-password2]", "a long and unusual passphrase")
    paolo_page.get_by_role("button", name="Create account and accept").click()
    expect(paolo_page.get_by_role("heading", level=1)).to_have_text(
        "Whose record do you want to see?"
    )
    paolo_page.get_by_label("Elena Moretti").check()
    paolo_page.get_by_role("button", name="Switch").click()
    expect(paolo_page.locator(".acting-for")).to_contain_text("Elena Moretti")

    paolo = User.objects.get(username="paolo")
    grant = Grant.objects.get(grantee=paolo)
    assert grant.scopes == ["appointments"]

    elena_page.goto("/caregivers/")
    card = elena_page.locator("section.card", has_text="Paolo Moretti")
    expect(card).to_contain_text("Current")
    card.get_by_role("button", name="Revoke now").click()
    expect(elena_page.locator(".messages")).to_contain_text("Access ended")

    paolo_page.goto("/caregivers/switch/")
    expect(paolo_page.locator(".acting-for")).to_have_count(0)


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_caregiver_and_member_services_pages_are_accessible_and_fit_the_screen(
    open_page, people, viewport
):
    problems = []
    anonymous = open_page(viewport=viewport, axe=True)
    problems += page_problems(anonymous, "/caregivers/invitation/")

    alice = open_page(viewport=viewport, axe=True)
    sign_in(alice, people.alice)
    for path in ("/caregivers/", "/caregivers/invite/", "/caregivers/switch/"):
        problems += page_problems(alice, path)

    maria = open_page(viewport=viewport, axe=True)
    sign_in(maria, people.maria)
    problems += page_problems(maria, "/caregivers/")

    train_all_staff(people)
    staff = open_page(viewport=viewport, axe=True)
    sign_in(staff, people.representative)
    for path in (
        "/support/members/",
        f"/support/members/{people.teo_member.pk}/",
        f"/support/members/{people.alice_member.pk}/block/",
        f"/support/members/{people.carla_member.pk}/guardian/",
        "/support/blocks/",
        f"/support/guardians/{people.teo_guardian_grant.pk}/end/",
    ):
        problems += page_problems(staff, path)
    assert problems == [], "\n".join(problems)
