"""MAIL-9: no open-tracking beacon unless the user agreed; the beacon carries an opaque token only."""

import re

import pytest
from django.urls import reverse

from haven.mail.models import EmailPreference, OutgoingEmail
from haven.mail.services import secure_message_notify
from haven.mail.tests.mailtest import MailTestCase


class TrackingTests(MailTestCase):
    def notify(self, key="track-1") -> OutgoingEmail:
        return secure_message_notify(user=self.alice, link_path="/", idempotency_key=key)

    @pytest.mark.promise("MAIL-9")
    def test_email_has_no_beacon_when_the_user_has_not_agreed(self):
        email = self.notify()
        self.assertIsNone(email.tracking_token)
        self.assertNotIn("<img", email.html_body)
        self.assertNotIn("/mail/t/", email.html_body + email.text_body)
        self.assertFalse(
            EmailPreference.objects.filter(user=self.alice, open_tracking=True).exists()
        )

    @pytest.mark.promise("MAIL-9")
    def test_after_the_user_agrees_the_beacon_carries_only_an_opaque_token(self):
        self.sign_in(self.alice)
        self.client.post(
            reverse("mail:preferences"), {"wanted": ["notification"], "open_tracking": "on"}
        )
        first, second = self.notify("track-1"), self.notify("track-2")
        pixels = re.findall(r'<img src="([^"]+)"', first.html_body)
        self.assertEqual(pixels, [f"http://127.0.0.1:8000/mail/t/{first.tracking_token}.gif"])
        self.assertNotEqual(first.tracking_token, second.tracking_token)
        # Random, not derived from anything: it names no person, address, e-mail or subject.
        self.assertRegex(first.tracking_token, r"^[A-Za-z0-9_-]{32}$")
        for revealing in ("alice", "example.org", "notification", "M-ALICE", first.message_id):
            self.assertNotIn(revealing.lower(), first.tracking_token.lower())
        self.assertNotIn("/mail/t/", first.text_body)

        response = self.client.get(pixels[0].removeprefix("http://127.0.0.1:8000"))
        self.assertEqual(response["Content-Type"], "image/gif")
        first.refresh_from_db()
        second.refresh_from_db()
        self.assertIsNotNone(first.opened_at)
        self.assertIsNone(second.opened_at)

    @pytest.mark.promise("MAIL-9")
    def test_turning_tracking_off_again_stops_the_beacon(self):
        EmailPreference.objects.create(user=self.alice, open_tracking=True)
        self.sign_in(self.alice)
        self.client.post(reverse("mail:preferences"), {"wanted": ["notification"]})
        self.assertIsNone(self.notify().tracking_token)

    def test_an_unknown_token_records_nothing_and_still_answers_with_the_image(self):
        email = self.notify()
        response = self.client.get(reverse("mail:tracking_pixel", kwargs={"token": "made-up"}))
        self.assertEqual(response.status_code, 200)
        email.refresh_from_db()
        self.assertIsNone(email.opened_at)
