"""In Chromium: the notifications page installs Haven's service worker, and a push delivered to it
shows Haven's fixed wording and the conversation's link, nothing of the message (MSG-4).

Chromium here cannot reach a real push service (no network), so the push is handed to the
service worker through the DevTools protocol, as the push service would hand it to the browser.
"""

import json

import pytest
from playwright.sync_api import expect

from haven.messaging import push, services
from haven.messaging.models import NotificationPreference
from haven.messaging.tests.conversations import start
from haven.testing.browser import PHONE, answer_cookie_banner, save_screenshot, sign_in

WORKER_SCOPE = "/messages/notifications/push/"


def registration_id(cdp, origin: str) -> str:
    """The service worker registration's id, from DevTools' registration events."""
    found: list[str] = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: found.extend(
            item["registrationId"]
            for item in event["registrations"]
            if item["scopeURL"].startswith(origin) and not item["isDeleted"]
        ),
    )
    cdp.send("ServiceWorker.enable")
    return found


@pytest.mark.browser
@pytest.mark.promise("MSG-4")
def test_a_push_shows_only_that_a_message_waits_and_opens_the_conversation(
    open_page, people, live_server, settings
):
    settings.HAVEN_VAPID_PRIVATE_KEY = push.new_private_key()
    conversation = start(people.alice, subject="My thyroid results", body="Any news?")
    NotificationPreference.objects.create(user=people.alice, by_email=False, by_push=True)
    page = open_page(viewport=PHONE, axe=True)
    page.context.grant_permissions(["notifications"], origin=live_server.url)
    sign_in(page, people.alice)
    page.goto("/messages/notifications/")
    answer_cookie_banner(page)
    expect(page.get_by_role("heading", name="Push notifications on your devices")).to_be_visible()
    expect(page.get_by_role("button", name="Turn on push in this browser")).to_be_visible()
    expect(page.get_by_role("button", name="Turn off push in this browser")).to_be_hidden()
    expect(page.get_by_text("Push is not turned on in any browser yet.")).to_be_visible()
    save_screenshot(page, "messaging-push-devices")

    active = page.evaluate(
        """async (scope) => {
            const registration = await navigator.serviceWorker.getRegistration(scope);
            const worker = registration.installing || registration.waiting || registration.active;
            if (worker.state !== "activated") {
                await new Promise((done) => worker.addEventListener("statechange", () => {
                    if (worker.state === "activated") { done(); }
                }));
            }
            return registration.scope;
        }""",
        WORKER_SCOPE,
    )
    assert active == live_server.url + WORKER_SCOPE

    cdp = page.context.new_cdp_session(page)
    ids = registration_id(cdp, live_server.url)
    page.wait_for_timeout(200)
    assert ids, "DevTools reported no service worker registration"
    link = settings.SITE_URL + f"/messages/{conversation.pk}/"
    payload = services.push_waiting_payload(user=people.alice, link=link)
    payload["url"] = f"{live_server.url}/messages/{conversation.pk}/"
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": live_server.url, "registrationId": ids[-1], "data": json.dumps(payload)},
    )
    shown = page.evaluate(
        """async (scope) => {
            const registration = await navigator.serviceWorker.getRegistration(scope);
            for (let tries = 0; tries < 50; tries += 1) {
                const notes = await registration.getNotifications();
                if (notes.length) {
                    return notes.map((n) => ({title: n.title, body: n.body, tag: n.tag,
                                              url: n.data.url}));
                }
                await new Promise((done) => setTimeout(done, 100));
            }
            return [];
        }""",
        WORKER_SCOPE,
    )
    assert shown == [
        {
            "title": settings.SITE_NAME,
            "body": "A secure message is waiting for you. Sign in to read it.",
            "tag": "haven-secure-message",
            "url": payload["url"],
        }
    ]
    assert "thyroid" not in json.dumps(shown)

    # Subscribing needs the browser's push service, out of reach here: the page says so plainly.
    page.get_by_role("button", name="Turn on push in this browser").click()
    expect(page.locator("[data-push-status]")).to_have_text(
        "Push could not be turned on in this browser. Try again later."
    )
    expect(page.get_by_role("button", name="Turn on push in this browser")).to_be_enabled()
