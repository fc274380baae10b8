"""A member reads an article in Spanish, joins the quit-smoking programme with e-mail, sees a
reminder on her page and leaves; the pages pass axe and fit a phone (PLAN-5)."""

import pytest
from playwright.sync_api import expect

from haven.library import demo, services
from haven.library.models import Enrolment
from haven.testing.browser import PHONE, axe_violations, save_screenshot, sign_in


@pytest.mark.browser
@pytest.mark.promise("PLAN-5")
def test_a_member_reads_joins_gets_a_reminder_and_leaves(open_page, people):
    demo.load()
    people.alice.language = "es"
    people.alice.save()
    alice = open_page(viewport=PHONE, axe=True)
    sign_in(alice, people.alice)
    alice.goto("/library/")
    alice.get_by_role("button", name="Solo cookies esenciales").click()
    expect(alice.get_by_role("heading", level=1)).to_have_text("Biblioteca de salud")
    alice.get_by_role("link", name="Su vacuna anual contra la gripe").click()
    expect(alice.locator("article")).to_contain_text("sin costo")
    assert axe_violations(alice) == []

    alice.goto("/library/")
    alice.get_by_role("link", name="Dejar de fumar").click()
    alice.locator("input[name=reminders][value=daily]").check()
    alice.locator("input[name=questionnaires][value=weekly]").check()
    alice.locator("input[name=channels][value=email]").check()
    assert axe_violations(alice) == []
    save_screenshot(alice, "library-programme-phone")
    alice.get_by_role("button", name="Unirme").click()
    expect(alice.locator(".messages")).to_contain_text("Se ha unido al programa.")

    enrolment = Enrolment.objects.get(user=people.alice)
    services.enrolment_send_due(enrolment_id=enrolment.pk, now=enrolment.next_questionnaire_at)
    alice.reload()
    main = alice.locator("main")
    expect(main).to_contain_text(demo.TIPS[0]["es"])
    expect(main).to_contain_text("Responder el cuestionario")
    assert axe_violations(alice) == []
    save_screenshot(alice, "library-mine-phone")

    alice.get_by_role("link", name="Cambiar o salir").click()
    alice.get_by_role("button", name="Salir del programa").click()
    expect(alice.locator(".messages")).to_contain_text("Ha salido del programa.")
    assert not Enrolment.objects.filter(user=people.alice).exists()
