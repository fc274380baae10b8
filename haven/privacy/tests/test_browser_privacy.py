"""The privacy center in a real browser: preferences that make the outbox refuse an e-mail (CON-1),
an access archive requested and downloaded (RIG-1), and a new notice published by the officer and
announced to a member in Spanish (NOT-3, NOT-4, NOT-5)."""

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from haven.mail.models import Category, OutgoingEmail
from haven.mail.services import outbox_enqueue
from haven.privacy.demo import TEXTS
from haven.privacy.models import ConsentRecord, Notice, NoticeReceipt, Subject
from haven.privacy.tests.helpers import run_worker
from haven.testing.browser import save_screenshot, sign_in


def newsletter(user, key: str) -> OutgoingEmail:
    return outbox_enqueue(
        to_address=user.email,
        subject="Spring newsletter",
        text_body="News from your plan",
        category=Category.NEWSLETTER,
        user=user,
        reason="newsletter",
        idempotency_key=key,
    )


@pytest.mark.browser
@pytest.mark.promise("CON-1")
def test_a_member_turns_newsletters_off_and_the_next_newsletter_is_refused(page, people):
    sign_in(page, people.alice)
    page.goto("/privacy/preferences/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Contact preferences")
    page.fill("input[name=preferred_name]", "Ali")
    page.check("input[name=newsletters__email]")
    page.get_by_role("button", name="Save my preferences").click()
    expect(page.locator(".messages")).to_contain_text("Your contact preferences are saved.")
    assert newsletter(people.alice, "browser-1").status == OutgoingEmail.Status.QUEUED

    page.uncheck("input[name=newsletters__email]")
    expect(page.locator("input[name=health_reminders__email]")).to_be_checked()
    save_screenshot(page, "privacy-preferences-newsletters-off")
    page.get_by_role("button", name="Save my preferences").click()
    expect(page.locator(".messages")).to_contain_text("Your contact preferences are saved.")
    expect(page.locator("input[name=newsletters__email]")).not_to_be_checked()
    refused = newsletter(people.alice, "browser-2")
    assert refused.status == OutgoingEmail.Status.SUPPRESSED
    assert list(
        ConsentRecord.objects.filter(subject=Subject.CONTACT, scope="email:newsletters")
        .order_by("pk")
        .values_list("given", flat=True)
    ) == [True, False]

    page.goto("/privacy/consents/")
    expect(page.get_by_role("cell", name="Withdrawn")).to_be_visible()
    save_screenshot(page, "privacy-consents-history")


@pytest.mark.browser
@pytest.mark.promise("RIG-1")
def test_a_member_requests_a_copy_of_her_data_watches_it_build_and_downloads_it(page, people):
    sign_in(page, people.alice)
    page.goto("/privacy/requests/")
    page.get_by_role("link", name="A copy of my data").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("A copy of my data")
    page.get_by_role("button", name="Prepare my copy").click()
    expect(page.get_by_text("We are preparing your copy.")).to_be_visible()
    save_screenshot(page, "privacy-archive-building")

    run_worker()
    # The page asks the server every two seconds (htmx) and shows the button when it is ready.
    download_button = page.get_by_role("button", name="Download my data (ZIP)")
    expect(download_button).to_be_visible(timeout=10_000)
    save_screenshot(page, "privacy-archive-ready")
    with page.expect_download() as waiting:
        download_button.click()
    download = waiting.value
    assert download.suggested_filename.startswith("haven-my-data-")
    with zipfile.ZipFile(io.BytesIO(open(download.path(), "rb").read())) as archive:
        data = json.loads(archive.read("haven-data.json"))
        assert "fhir-bundle.json" in archive.namelist()
        assert "summary.html" in archive.namelist()
    assert data["record"]["member_id"] == people.alice_member.member_id
    assert data["account"]["username"] == "alice"


@pytest.mark.browser
@pytest.mark.promise("NOT-3")
@pytest.mark.promise("NOT-4")
@pytest.mark.promise("NOT-5")
def test_the_officer_publishes_a_new_notice_and_a_member_sees_the_banner_in_spanish(
    open_page, people
):
    from haven.audit.tests.training import give_training

    give_training(people.privacy_officer, recorder=people.staff["compliance"])
    people.bruno.language = "es"
    people.bruno.save(update_fields=["language"])
    today = timezone.localdate()
    effective = today + timedelta(days=30)

    officer = open_page()
    sign_in(officer, people.privacy_officer)
    officer.goto("/privacy/staff/notices/")
    officer.fill("input[name=revision_date]", today.isoformat())
    officer.fill("input[name=effective_date]", effective.isoformat())
    for language, fields in TEXTS.items():
        officer.fill(f"input[name=title_{language}]", fields["title"])
        officer.fill(f"textarea[name=changes_{language}]", fields["changes"])
        officer.fill(f"textarea[name=body_{language}]", fields["body"])
    officer.get_by_role("button", name="Save the draft").click()
    expect(officer.locator(".messages")).to_contain_text("The draft is saved.")
    officer.get_by_role("button", name="Publish and tell members").click()
    expect(officer.locator(".messages")).to_contain_text("The notice is published")
    notice = Notice.objects.get(revision_date=today)
    assert notice.is_published and notice.effective_date == effective
    run_worker()
    officer.reload()
    expect(officer.get_by_text("finished")).to_be_visible()
    save_screenshot(officer, "privacy-officer-notice-published")
    assert NoticeReceipt.objects.filter(notice=notice, user=people.bruno).exists()

    member = open_page(locale="es-ES")
    sign_in(member, people.bruno)
    member.goto("/privacy/")
    banner = member.locator("section.privacy-banner")
    expect(banner.get_by_role("heading")).to_have_text("Nuestro aviso de privacidad ha cambiado")
    expect(banner).to_contain_text("entra en vigor el")
    save_screenshot(member, "privacy-notice-banner-spanish")
    banner.get_by_role("link", name="Leer el aviso").click()
    expect(member.get_by_role("heading", level=1)).to_have_text("Aviso de prácticas de privacidad")
    expect(member.get_by_text("Esta versión se publica por adelantado")).to_be_visible()
    member.get_by_role("button", name="He recibido y leído este aviso").click()
    expect(member.locator("section.privacy-banner")).to_have_count(0)
    assert NoticeReceipt.objects.get(notice=notice, user=people.bruno).acknowledged_at is not None
