"""A member writes to the care team on her phone, a nurse answers, she reads it (MSG-1, MSG-2).
Every message-center page passes axe and fits a phone."""

from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from haven.audit.tests.training import give_training
from haven.messaging.models import Conversation
from haven.testing.browser import (
    DESKTOP,
    PHONE,
    answer_cookie_banner,
    axe_violations,
    save_screenshot,
    sign_in,
)


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
@pytest.mark.promise("MSG-2")
def test_a_member_writes_to_the_care_team_and_reads_the_nurses_answer(open_page, people, tmp_path):
    give_training(people.nurse, recorder=people.staff["compliance"])
    alice = open_page(viewport=PHONE, axe=True)
    sign_in(alice, people.alice)
    alice.goto("/messages/")
    answer_cookie_banner(alice)
    expect(alice.get_by_text("No messages yet.")).to_be_visible()
    alice.get_by_role("link", name="Write a message").click()
    alice.get_by_label("Topic").select_option("care_question")
    alice.get_by_label("Subject").fill("Knee pain after the operation")
    alice.get_by_label("Message").fill("It still hurts when I climb stairs. Is that normal?")
    report = tmp_path / "pain-diary.txt"
    report.write_text("Monday: 6/10\nTuesday: 5/10\n")
    alice.get_by_label("Attach files").set_input_files(str(report))
    alice.get_by_role("button", name="Send").click()
    expect(alice.get_by_role("heading", level=1)).to_have_text("Knee pain after the operation")
    expect(alice.get_by_role("link", name="pain-diary.txt")).to_be_visible()
    save_screenshot(alice, "messaging-member-sent")

    nurse = open_page(viewport=DESKTOP, axe=True)
    sign_in(nurse, people.nurse)
    nurse.goto("/messages/queue/")
    answer_cookie_banner(nurse)
    row = nurse.get_by_role("link", name="Alice Rivera: A question for my care team")
    expect(row).to_be_visible()
    expect(nurse.get_by_text("Waiting for a reply")).to_be_visible()
    save_screenshot(nurse, "messaging-nurse-queue")
    row.click()
    expect(nurse.get_by_text("It still hurts when I climb stairs.")).to_be_visible()
    nurse.get_by_role("button", name="Assign to me").click()
    nurse.get_by_label("Your reply").fill("Some pain is normal for six weeks. Ice it twice a day.")
    nurse.get_by_role("button", name="Send").click()
    expect(nurse.get_by_text("Not read yet")).to_be_visible()
    save_screenshot(nurse, "messaging-nurse-answered")

    alice.goto("/messages/")
    expect(alice.get_by_text("1 unread").first).to_be_visible()
    save_screenshot(alice, "messaging-member-inbox-unread")
    # The whole row is one link: reach it with the keyboard and open it with Enter.
    link = alice.locator("a.conversation-link").first
    link.focus()
    expect(link).to_be_focused()
    alice.keyboard.press("Enter")
    expect(alice.get_by_text("Some pain is normal for six weeks.")).to_be_visible()
    save_screenshot(alice, "messaging-member-reads-answer")
    alice.goto("/messages/")
    expect(alice.get_by_text("unread")).to_have_count(0)

    nurse.reload()
    expect(nurse.get_by_text("Read by the member")).to_be_visible()
    assert Conversation.objects.get().assigned_to == people.nurse


@pytest.mark.browser
def test_every_message_page_passes_axe_and_fits_a_phone(open_page, people):
    give_training(people.nurse, recorder=people.staff["compliance"])
    problems = []
    alice = open_page(viewport=PHONE, axe=True)
    sign_in(alice, people.alice)
    answer_cookie_banner(alice)
    for path in ("/messages/", "/messages/new/", "/messages/archived/", "/messages/notifications/"):
        problems += page_problems(alice, path)
    alice.goto("/messages/new/")
    alice.get_by_label("Topic").select_option("claims")
    alice.get_by_label("Subject").fill("A bill I do not understand")
    alice.get_by_label("Message").fill("I was billed twice for one visit.")
    alice.get_by_role("button", name="Send").click()
    expect(alice.get_by_role("heading", level=1)).to_have_text("A bill I do not understand")
    problems += page_problems(alice, urlparse(alice.url).path)
    save_screenshot(alice, "messaging-phone-conversation")

    nurse = open_page(viewport=PHONE, axe=True)
    sign_in(nurse, people.nurse)
    answer_cookie_banner(nurse)
    for path in ("/messages/", "/messages/queue/", "/messages/staff/new/"):
        problems += page_problems(nurse, path)
    save_screenshot(nurse, "messaging-phone-staff-new")
    assert problems == []
