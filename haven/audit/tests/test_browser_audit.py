"""The privacy officer's dashboard in a browser (AUD-4): find a member and see every access to
their record, open the flagged list, review an emergency access with a note, download the CSV."""

import csv
import io

import pytest
from playwright.sync_api import expect

from haven.audit import access
from haven.audit.models import AuditEvent, AuditReview, Flag
from haven.audit.policy import Purpose, Resource
from haven.audit.tests.training import train_all_staff
from haven.testing.browser import answer_cookie_banner, axe_violations, save_screenshot, sign_in

EMERGENCY_REASON = "Unconscious patient in the emergency room, no relative reachable yet."


def some_access(people) -> AuditEvent:
    """A day of access: a nurse reads Elena's documents, a representative is refused Oscar's,
    and the nurse declares an emergency to open Oscar's record."""
    train_all_staff(people)
    access.read(
        actor=people.nurse,
        member=people.elena_member,
        resource=Resource.DOCUMENTS,
        purpose=Purpose.TREATMENT,
    )
    with pytest.raises(access.NotPermitted):
        access.read(
            actor=people.representative,
            member=people.oscar_member,
            resource=Resource.DOCUMENTS,
            purpose=Purpose.PAYMENT,
        )
    access.declare_emergency(
        actor=people.nurse, member=people.oscar_member, reason=EMERGENCY_REASON
    )
    return AuditEvent.objects.get(subtype="declare")


@pytest.mark.browser
@pytest.mark.promise("AUD-4")
def test_the_privacy_officer_searches_reviews_and_exports_the_trail(open_page, people):
    emergency = some_access(people)
    assert Flag.BREAK_GLASS in emergency.flags
    page = open_page(axe=True)
    sign_in(page, people.privacy_officer)
    answer_cookie_banner(page)

    # Search by member: find Elena by her member ID, then every access to her record.
    page.goto("/audit/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit trail")
    page.get_by_label("Member ID").fill(people.elena_member.member_id)
    page.get_by_role("button", name="Find", exact=True).click()
    page.locator("ul.plain-list").get_by_role("link", name="Elena Moretti").click()
    expect(page.locator(".notice")).to_contain_text("Elena Moretti")
    rows = page.locator("table.audit-events tbody tr")
    expect(rows.filter(has_text=people.nurse.username)).not_to_have_count(0)
    expect(rows.filter(has_text="Oscar")).to_have_count(0)
    assert axe_violations(page) == []
    save_screenshot(page, "audit-dashboard-member")

    # The CSV report of this search.
    with page.expect_download() as download:
        page.get_by_role("link", name="Download this report (CSV)").click()
    report = download.value
    assert report.suggested_filename.startswith("haven-audit-")
    rows_csv = list(csv.reader(io.StringIO(report.path().read_text(encoding="utf-8"))))
    assert rows_csv[0][0] == "Record"
    body = [row for row in rows_csv[1:] if row]
    assert body and all("Elena Moretti" in row for row in body)

    # One record in full: its parts named as people read them.
    rows.filter(has_text=people.nurse.username).first.get_by_role("link", name="Details").click()
    expect(page.locator("dl.facts")).to_contain_text("Health documents: title, category")
    save_screenshot(page, "audit-event-read")

    # The flagged list: the emergency access waits for review.
    page.get_by_role("navigation", name="Audit trail").get_by_role(
        "link", name="Flagged access"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Flagged access")
    emergency_row = page.locator("table.audit-events tbody tr").filter(has_text="Emergency access")
    expect(emergency_row.first).to_contain_text("Awaiting review")
    assert axe_violations(page) == []
    save_screenshot(page, "audit-flagged")

    # Review it with a note.
    emergency_row.first.get_by_role("link", name="Details").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Audit record {emergency.sequence}")
    expect(page.locator("dl.facts")).to_contain_text(EMERGENCY_REASON)
    page.get_by_label("Appropriate: a legitimate purpose").check()
    page.get_by_label("Note").fill("Confirmed with the ER charge nurse; the patient was admitted.")
    assert axe_violations(page) == []
    save_screenshot(page, "audit-event-review")
    page.get_by_role("button", name="Record review").click()
    expect(page.locator(".messages")).to_contain_text("Your review was recorded.")
    review = AuditReview.objects.get(event=emergency)
    assert (review.reviewer, review.finding) == (people.privacy_officer, "appropriate")
    assert "ER charge nurse" in review.note
    declared = page.locator("table.audit-events tbody tr").filter(has_text="Emergency access")
    expect(declared).to_have_count(0)
    save_screenshot(page, "audit-flagged-after-review")
