"""A member's plan, claims and ID card in the browser, and the PDF card rendered to PNG; the public
quote and application pages. Every page passes axe and fits a phone."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from haven.plans.imports import import_text
from haven.plans.models import Claim
from haven.plans.tests.fixtures import set_up_plan_and_claims
from haven.plans.tests.test_quotes import RATES
from haven.testing.browser import (
    ARTIFACTS,
    DESKTOP,
    PHONE,
    axe_violations,
    save_screenshot,
    sign_in,
)

CARD_WIDTH_POINTS = 85.6 / 25.4 * 72
CARD_HEIGHT_POINTS = 54 / 25.4 * 72


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
@pytest.mark.promise("PLAN-1")
@pytest.mark.promise("PLAN-2")
@pytest.mark.promise("PLAN-3")
def test_a_member_follows_her_plan_to_a_claim_and_prints_her_id_card(open_page, people):
    set_up_plan_and_claims(people)
    page = open_page(viewport=PHONE)
    sign_in(page, people.alice)

    page.goto("/plans/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your plan and benefits")
    expect(page.locator("main")).to_contain_text("$50.00 of $1,000.00")
    save_screenshot(page, "plans-plan-page")
    page.get_by_role("link", name="Claims").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your claims")
    page.get_by_role("row", name="Capitol Imaging Center").get_by_role("link").click()
    expect(page.locator("main")).to_contain_text("No prior authorisation")
    page.goto("/plans/card/")
    expect(page.locator(".id-card")).to_contain_text("M-ALICE")

    response = page.request.get("/plans/card/id-card.pdf")
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert "M-ALICE" not in response.headers.get("content-disposition", "")

    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(response.body())
    assert len(document) == 2
    width, height = document[0].get_size()
    assert abs(width - CARD_WIDTH_POINTS) < 1 and abs(height - CARD_HEIGHT_POINTS) < 1
    front = document[0].get_textpage().get_text_range()
    back = document[1].get_textpage().get_text_range()
    assert "Alice Rivera" in front and "M-ALICE" in front and "TEST-PPO" in front
    assert "610014" in back and "1-800-555-0142" in back
    ARTIFACTS.mkdir(exist_ok=True)
    for number, side in enumerate(("front", "back")):
        image = document[number].render(scale=4).to_pil()
        target = Path(ARTIFACTS) / f"plans-id-card-pdf-{side}.png"
        image.save(target)
        # Something is drawn: dark text and the border on a white card.
        darkest = image.convert("L").getextrema()[0]
        assert darkest < 80, f"{target} looks blank"
    document.close()


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_plan_pages_are_accessible_and_fit_the_screen(open_page, people, viewport):
    set_up_plan_and_claims(people)
    assert import_text("rates", RATES).rejected == 0
    claim = Claim.objects.get(claim_number="A-1")
    problems = []
    visitor = open_page(viewport=viewport, axe=True)
    for path in ("/plans/quote/", "/plans/apply/"):
        problems += page_problems(visitor, path)
    visitor.select_option("select[name=product]", label="Haven Individual PPO")
    visitor.goto("/plans/quote/")
    visitor.select_option("select[name=product]", label="Haven Individual PPO")
    visitor.fill("input[name=zip_code]", "06103")
    visitor.fill("input[name=person-0-age]", "44")
    visitor.fill("input[name=person-1-age]", "9")
    visitor.get_by_role("button", name="Show the monthly premium").click()
    expect(visitor.locator("main table.data")).to_contain_text("$800.00")
    problems += [f"quote result: {violation}" for violation in axe_violations(visitor)]

    member = open_page(viewport=viewport, axe=True)
    sign_in(member, people.alice)
    for path in ("/plans/", "/plans/claims/", f"/plans/claims/{claim.pk}/", "/plans/card/"):
        problems += page_problems(member, path)
    assert problems == []
