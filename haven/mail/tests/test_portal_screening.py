"""What people write in the secure e-mail portal is screened by the message center's scanner, a
real clamd (MSG-6): infected text is refused plainly, and while the scanner is down it waits."""

import pytest
from django.test import override_settings
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from haven.mail.models import OutgoingEmail, PortalConversation, PortalMessage
from haven.mail.services import portal_message_send, portal_quarantine_rescan
from haven.mail.tasks import rescan_portal_quarantine
from haven.mail.tests.mailtest import MailTestCase
from haven.mail.tests.test_portal import CONTACT, NEW_PASSWORD, keyed, link_in
from haven.messaging.models import ScanStatus
from haven.testing.clamd import EICAR

REFUSED = "This message cannot be accepted."
DETAILS = ("EICAR", "virus", "infected", "malware", "FOUND", "Haven.Test")


@pytest.mark.usefixtures("clamd")
class PortalScreeningTests(MailTestCase):
    def setUp(self):
        super().setUp()
        self.enterContext(override_settings(HAVEN_CLAMD_ADDRESS=self.clamd.address))
        self.representative.email = "rep@haven.example"
        self.representative.save(update_fields=["email"])

    def send(self, body="Your group's renewal documents are ready."):
        return portal_message_send(
            to_address=CONTACT, subject="Plan renewal", body=body, actor=self.representative
        )

    def open_portal(self, message: PortalMessage) -> str:
        """The recipient's first access; returns the conversation's portal page."""
        notice = OutgoingEmail.objects.get(idempotency_key=f"portal-message:{message.pk}")
        self.client.post(link_in(notice), {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
        return reverse("mail:portal_conversation", kwargs={"pk": message.conversation_id})

    def replies(self):
        return PortalMessage.objects.filter(direction=PortalMessage.Direction.FROM_RECIPIENT)

    def assertRefusedWithoutDetail(self, response):
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, REFUSED)
        page = response.content.decode()
        for detail in DETAILS:
            self.assertNotIn(detail, page)

    @pytest.mark.promise("MSG-6")
    def test_an_infected_reply_from_the_portal_is_refused_plainly_and_nothing_is_kept(self):
        url = self.open_portal(self.send())
        response = self.client.post(
            url,
            keyed(
                {
                    "body": "Here you go: " + EICAR.decode(),
                    "send_copy": "on",
                    "copy_warning_accepted": "on",
                }
            ),
        )
        self.assertRefusedWithoutDetail(response)
        self.assertFalse(self.replies().exists())
        self.assertFalse(
            OutgoingEmail.objects.filter(to_address="rep@haven.example").exists(),
            "the Haven sender is not told of a refused reply",
        )
        self.assertFalse(
            OutgoingEmail.objects.filter(idempotency_key__startswith="portal-copy").exists()
        )

    @pytest.mark.promise("MSG-6")
    def test_a_clean_reply_passes_screened(self):
        url = self.open_portal(self.send())
        response = self.client.post(url, keyed({"body": "Thank you, received."}))
        self.assertRedirects(response, url)
        self.assertEqual(self.replies().get().scan_status, ScanStatus.CLEAN)

    def test_infected_text_written_by_staff_for_the_portal_is_refused_the_same_way(self):
        self.sign_in(self.representative)
        response = self.client.post(
            reverse("mail:secure_compose"),
            keyed(
                {"to_address": CONTACT, "subject": "Plan renewal", "body": "See: " + EICAR.decode()}
            ),
        )
        self.assertRefusedWithoutDetail(response)
        self.assertContains(response, 'value="Plan renewal"')
        self.assertFalse(PortalConversation.objects.exists())
        self.assertFalse(PortalMessage.objects.exists())

    @pytest.mark.promise("MSG-6")
    def test_while_the_scanner_is_down_a_reply_waits_held_and_is_shown_once_screened(self):
        message = self.send()
        url = self.open_portal(message)
        self.clamd.stop()
        response = self.client.post(
            url,
            keyed(
                {"body": "Signed form enclosed.", "send_copy": "on", "copy_warning_accepted": "on"}
            ),
        )
        self.assertRedirects(response, url, msg_prefix="the reply is kept, not lost")
        reply = self.replies().get()
        self.assertEqual(reply.scan_status, ScanStatus.PENDING)
        self.assertTrue(DBTaskResult.objects.filter(task_path__endswith="rescan_portal_quarantine"))
        self.assertFalse(
            OutgoingEmail.objects.filter(idempotency_key__startswith="portal-copy").exists(),
            "unscreened text does not leave by e-mail",
        )
        # Its writer sees it; the Haven sender sees only that it is being checked.
        self.assertContains(self.client.get(url), "Signed form enclosed.")
        self.sign_in(self.representative)
        staff_url = reverse("mail:secure_conversation", kwargs={"pk": message.conversation_id})
        held = self.client.get(staff_url)
        self.assertContains(held, "This message is being checked.")
        self.assertNotContains(held, "Signed form enclosed.")

        self.assertEqual(rescan_portal_quarantine.call(), 1, "still down: it keeps waiting")
        self.clamd.start()
        self.assertEqual(rescan_portal_quarantine.call(), 0)
        reply.refresh_from_db()
        self.assertEqual(reply.scan_status, ScanStatus.CLEAN)
        self.assertContains(self.client.get(staff_url), "Signed form enclosed.")
        copy = OutgoingEmail.objects.get(idempotency_key=f"portal-copy:{reply.pk}")
        self.assertIn("Signed form enclosed.", copy.text_body)

    @pytest.mark.promise("MSG-6")
    def test_a_reply_that_waited_and_proves_infected_is_wiped_and_withheld(self):
        message = self.send()
        url = self.open_portal(message)
        self.clamd.stop()
        self.client.post(
            url,
            keyed(
                {
                    "body": "Look: " + EICAR.decode(),
                    "send_copy": "on",
                    "copy_warning_accepted": "on",
                }
            ),
        )
        self.clamd.start()
        self.assertEqual(portal_quarantine_rescan(), 0)
        reply = self.replies().get()
        self.assertEqual(reply.scan_status, ScanStatus.REFUSED)
        self.assertEqual(reply.body, "")
        self.assertFalse(
            OutgoingEmail.objects.filter(idempotency_key__startswith="portal-copy").exists()
        )
        self.sign_in(self.representative)
        page = self.client.get(
            reverse("mail:secure_conversation", kwargs={"pk": message.conversation_id})
        )
        self.assertContains(page, "This message was removed by screening.")

    def test_a_staff_message_waiting_for_the_scanner_is_held_from_the_recipient(self):
        self.clamd.stop()
        message = self.send(body="Renewal figures attached.")
        self.assertEqual(message.scan_status, ScanStatus.PENDING)
        url = self.open_portal(message)
        held = self.client.get(url)
        self.assertContains(held, "This message is being checked.")
        self.assertNotContains(held, "Renewal figures attached.")
        self.assertNotContains(held, "Plan renewal", msg_prefix="the subject waits with it")
        self.clamd.start()
        portal_quarantine_rescan()
        screened = self.client.get(url)
        self.assertContains(screened, "Renewal figures attached.")
        self.assertContains(screened, "Plan renewal")
