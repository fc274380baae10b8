"""A member finds Dr Kim near her ZIP code, books with the data she chooses to share, and the
practice sees exactly that (CARE-1, CARE-2, DIS-1). The pages pass axe and fit a phone."""

import pytest
from playwright.sync_api import expect

from haven.care.tests.world import CareWorld
from haven.testing.browser import PHONE, axe_violations, save_screenshot, sign_in


@pytest.mark.browser
@pytest.mark.promise("DIS-1")
@pytest.mark.promise("CARE-2")
def test_a_member_books_with_chosen_sharing_and_the_provider_sees_only_that(open_page, people):
    people.alice_member.phone = "860-555-0147"
    people.alice_member.address_line = "12 Elm Street"
    people.alice_member.save()
    world = CareWorld(people)

    alice = open_page(viewport=PHONE, axe=True)
    sign_in(alice, people.alice)
    alice.goto("/care/?near=06103&specialty=family_medicine&radius=10")
    expect(alice.locator("ol.results")).to_contain_text("Ji-woo Kim, MD")
    assert axe_violations(alice) == []
    save_screenshot(alice, "care-search-phone")
    alice.get_by_role("link", name="Ji-woo Kim, MD").click()
    alice.locator("ul.slots a.button").first.click()
    expect(alice.get_by_role("heading", level=1)).to_have_text("Book an appointment")
    expect(alice.locator("#share-contact-values")).to_contain_text("12 Elm Street")
    assert axe_violations(alice) == []
    alice.uncheck("#share-demographic")
    alice.uncheck("#share-insurance")
    alice.check("#share-contact")
    alice.check("#share-visit")
    alice.fill("textarea[name=reason]", "Persistent cough")
    save_screenshot(alice, "care-book-phone")
    alice.get_by_role("button", name="Book").click()
    expect(alice.locator(".messages")).to_contain_text("Your appointment is booked.")
    expect(alice.locator("main")).to_contain_text("What the practice received")
    appointment_path = alice.url.split(alice.url.split("/care/")[0], 1)[1]

    kim = open_page()
    sign_in(kim, people.provider)
    kim.goto(appointment_path)
    main = kim.locator("main")
    expect(main).to_contain_text("What the patient shared with you")
    expect(main).to_contain_text("12 Elm Street")
    expect(main).to_contain_text("860-555-0147")
    expect(main).to_contain_text("Persistent cough")
    expect(main).not_to_contain_text("Rivera")
    expect(main).not_to_contain_text("M-ALICE")
    expect(main).not_to_contain_text("Date of birth")
    save_screenshot(kim, "care-provider-appointment")
    assert world.kim.appointments.count() == 1
