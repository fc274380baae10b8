"""The secure e-mail portal: first-access password, read and reply, copy after a warning, one conversation."""

import re
import time
import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from haven.mail import links
from haven.mail.models import (
    Category,
    OutgoingEmail,
    PortalConversation,
    PortalMessage,
    PortalRecipient,
)
from haven.mail.services import portal_message_send, portal_reply
from haven.mail.tests.mailtest import MailTestCase
from haven.mail.views import PORTAL_SEEN_KEY

NEW_PASSWORD = "a long portal passphrase"
CONTACT = "rita.hr@riverside-employer.test"


def keyed(data: dict) -> dict:
    """Form data with the send key every compose and reply form carries."""
    return data | {"idempotency_key": str(uuid.uuid4())}


def link_in(email: OutgoingEmail) -> str:
    """The portal link of a notification, as a path on Haven."""
    match = re.search(r"http://127\.0\.0\.1:8000(/mail/portal/\S+/)", email.text_body)
    assert match, email.text_body
    return match.group(1)


class PortalTests(MailTestCase):
    def send(self, body="Your group's renewal documents are ready.", to=CONTACT, conversation=None):
        return portal_message_send(
            to_address=to,
            subject="Plan renewal",
            body=body,
            actor=self.representative,
            conversation=conversation,
        )

    def notification_for(self, message: PortalMessage) -> OutgoingEmail:
        return OutgoingEmail.objects.get(idempotency_key=f"portal-message:{message.pk}")

    def first_access(self, message: PortalMessage, client=None):
        client = client or self.client
        return client.post(
            link_in(self.notification_for(message)),
            {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        )

    @pytest.mark.promise("MAIL-3")
    def test_first_access_from_the_notification_creates_a_password_and_opens_the_message(self):
        message = self.send()
        notice = self.notification_for(message)
        self.assertEqual(notice.to_address, CONTACT)
        self.assertNotIn("renewal documents", notice.text_body + notice.html_body + notice.subject)
        page = self.client.get(link_in(notice))
        self.assertContains(page, "Create your portal password")
        response = self.first_access(message)
        self.assertRedirects(
            response, reverse("mail:portal_conversation", kwargs={"pk": message.conversation_id})
        )
        recipient = PortalRecipient.objects.get()
        self.assertTrue(recipient.password.startswith("argon2"))
        page = self.client.get(response["Location"])
        self.assertContains(page, "Your group&#x27;s renewal documents are ready.")

    @pytest.mark.promise("MAIL-3")
    def test_the_password_opens_only_the_messages_sent_to_that_address(self):
        mine = self.send()
        theirs = self.send(body="For the other address only.", to="someone@else.test")
        self.first_access(mine)
        other = self.client.get(
            reverse("mail:portal_conversation", kwargs={"pk": theirs.conversation_id})
        )
        self.assertEqual(other.status_code, 404)
        # The other address's notification link asks for its own password, not ours.
        self.client.post(reverse("mail:portal_signout"))
        page = self.client.get(link_in(self.notification_for(theirs)))
        self.assertContains(page, "Create your portal password")

    @pytest.mark.promise("MAIL-3")
    def test_a_second_visit_needs_the_password_and_a_wrong_one_does_not_open(self):
        message = self.send()
        self.first_access(message)
        self.client.post(reverse("mail:portal_signout"))
        link = link_in(self.notification_for(message))
        page = self.client.get(link)
        self.assertContains(page, "Enter your portal password")
        wrong = self.client.post(link, {"password": "not the password"})
        self.assertContains(wrong, "That password is not right.")
        conversation_url = reverse(
            "mail:portal_conversation", kwargs={"pk": message.conversation_id}
        )
        self.assertEqual(self.client.get(conversation_url).status_code, 302)
        right = self.client.post(link, {"password": NEW_PASSWORD})
        self.assertRedirects(right, conversation_url)

    @pytest.mark.promise("MAIL-3")
    def test_message_bodies_are_stored_encrypted(self):
        self.send(body="Renewal figures: 1,234 employees")
        with connection.cursor() as cursor:
            cursor.execute("SELECT body_sealed FROM mail_portalmessage")
            (stored,) = cursor.fetchone()
        self.assertNotIn(b"Renewal figures", bytes(stored))
        self.assertEqual(PortalMessage.objects.get().body, "Renewal figures: 1,234 employees")

    def test_wrong_passwords_lock_the_portal_until_a_reset_through_the_address(self):
        message = self.send()
        self.first_access(message)
        self.client.post(reverse("mail:portal_signout"))
        link = link_in(self.notification_for(message))
        with override_settings(HAVEN_PORTAL_LOCK_AFTER=3):
            for _attempt in range(3):
                response = self.client.post(link, {"password": "wrong guess"})
            self.assertContains(response, "the portal is locked for this address")
            # Even the right password does not open a locked portal.
            response = self.client.post(link, {"password": NEW_PASSWORD})
            self.assertContains(response, "the portal is locked for this address")

        sent = self.client.post(reverse("mail:portal_reset_request"), {"address": CONTACT})
        self.assertContains(sent, "Check your e-mail")
        reset_email = OutgoingEmail.objects.get(category=Category.ANSWER)
        self.assertEqual(reset_email.to_address, CONTACT)
        reset_link = re.search(
            r"http://127\.0\.0\.1:8000(/mail/portal/reset/\S+/)", reset_email.text_body
        )
        response = self.client.post(
            reset_link.group(1),
            {"password1": "another long passphrase", "password2": "another long passphrase"},
        )
        self.assertEqual(response.status_code, 302)
        recipient = PortalRecipient.objects.get()
        self.assertFalse(recipient.is_locked)
        self.assertEqual(recipient.failed_attempts, 0)
        # The reset link works once.
        again = self.client.get(reset_link.group(1))
        self.assertEqual(again.status_code, 410)

    def test_a_reset_request_for_an_unknown_address_says_the_same_and_sends_nothing(self):
        response = self.client.post(
            reverse("mail:portal_reset_request"), {"address": "who@nowhere.test"}
        )
        self.assertContains(response, "Check your e-mail")
        self.assertFalse(OutgoingEmail.objects.exists())

    def test_the_portal_signs_out_after_idle_time(self):
        message = self.send()
        self.first_access(message)
        session = self.client.session
        session[PORTAL_SEEN_KEY] = time.time() - 21 * 60
        session.save()
        url = reverse("mail:portal_conversation", kwargs={"pk": message.conversation_id})
        response = self.client.get(url)
        self.assertRedirects(response, reverse("mail:portal_home") + "?reason=idle")
        page = self.client.get(response["Location"])
        self.assertContains(page, "after 20 minutes without activity")

    def test_a_tampered_or_expired_link_does_not_open_anything(self):
        message = self.send()
        link = link_in(self.notification_for(message))
        self.assertEqual(self.client.get(link[:-3] + "xx/").status_code, 410)
        later = timezone.now() + timedelta(days=15)
        with self.settings(HAVEN_PORTAL_LINK_DAYS=14):
            from unittest import mock

            with mock.patch("django.core.signing.time.time", return_value=later.timestamp()):
                self.assertEqual(self.client.get(link).status_code, 410)

    @pytest.mark.promise("MAIL-4")
    def test_the_recipient_replies_and_the_reply_goes_back_to_the_haven_sender(self):
        self.representative.email = "rep@haven.example"
        self.representative.save(update_fields=["email"])
        message = self.send()
        self.first_access(message)
        url = reverse("mail:portal_conversation", kwargs={"pk": message.conversation_id})
        response = self.client.post(url, keyed({"body": "Thank you, received."}))
        self.assertRedirects(response, url)
        reply = PortalMessage.objects.get(direction=PortalMessage.Direction.FROM_RECIPIENT)
        self.assertEqual(reply.body, "Thank you, received.")
        told = OutgoingEmail.objects.get(to_address="rep@haven.example")
        self.assertNotIn("Thank you, received.", told.text_body)
        self.assertFalse(
            OutgoingEmail.objects.filter(idempotency_key__startswith="portal-copy").exists()
        )

        self.sign_in(self.representative)
        page = self.client.get(
            reverse("mail:secure_conversation", kwargs={"pk": message.conversation_id})
        )
        self.assertContains(page, "Thank you, received.")
        message.refresh_from_db()
        self.assertIsNotNone(message.read_at)

    @pytest.mark.promise("MAIL-4")
    def test_send_me_a_copy_needs_the_warning_accepted_then_sends_the_reply_to_their_address(self):
        message = self.send()
        self.first_access(message)
        url = reverse("mail:portal_conversation", kwargs={"pk": message.conversation_id})
        page = self.client.get(url)
        self.assertContains(page, "is not secure")
        refused = self.client.post(url, keyed({"body": "My reply", "send_copy": "on"}))
        self.assertContains(refused, "confirm that you understand the copy is not secure")
        self.assertContains(refused, "My reply")
        self.assertFalse(PortalMessage.objects.filter(direction="from_recipient").exists())

        self.client.post(
            url, keyed({"body": "My reply", "send_copy": "on", "copy_warning_accepted": "on"})
        )
        copy = OutgoingEmail.objects.get(idempotency_key__startswith="portal-copy")
        self.assertEqual(copy.to_address, CONTACT)
        self.assertIn("My reply", copy.text_body)
        self.assertIn("not secure", copy.text_body)
        self.assertTrue(copy.via_relay)

    @pytest.mark.promise("MAIL-5")
    def test_one_conversation_at_a_time_and_the_latest_notification_opens_the_whole_history(self):
        first = self.send(body="First message.")
        other = self.send(body="A different matter.")
        conversation = first.conversation
        self.first_access(first)
        self.client.post(
            reverse("mail:portal_conversation", kwargs={"pk": conversation.pk}),
            keyed({"body": "My answer."}),
        )
        self.client.post(reverse("mail:portal_signout"))
        latest = self.send(body="Third message, same conversation.", conversation=conversation)

        response = self.client.post(
            link_in(self.notification_for(latest)), {"password": NEW_PASSWORD}
        )
        page = self.client.get(response["Location"])
        self.assertContains(page, "First message.")
        self.assertContains(page, "My answer.")
        self.assertContains(page, "Third message, same conversation.")
        self.assertNotContains(page, "A different matter.")
        self.assertNotEqual(other.conversation_id, conversation.pk)

    @pytest.mark.promise("MAIL-3")
    def test_portal_messages_expire_and_the_purge_command_deletes_them(self):
        message = self.send()
        self.send(body="Still fresh.", conversation=message.conversation)
        PortalMessage.objects.filter(pk=message.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
        out = StringIO()
        call_command("mail", "purge_portal", stdout=out)
        self.assertIn("deleted 1 portal messages", out.getvalue())
        self.assertEqual([m.body for m in PortalMessage.objects.all()], ["Still fresh."])

        PortalMessage.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
        call_command("mail", "purge_portal", stdout=StringIO())
        self.assertFalse(PortalConversation.objects.exists())
        self.assertFalse(PortalRecipient.objects.exists())

    def test_messages_live_the_configured_number_of_days(self):
        with self.settings(HAVEN_PORTAL_MESSAGE_DAYS=7):
            message = self.send()
        self.assertAlmostEqual(
            (message.expires_at - message.created_at).total_seconds(), 7 * 86400, delta=5
        )

    def test_an_address_of_a_haven_account_is_sent_to_the_message_center_instead(self):
        self.sign_in(self.representative)
        response = self.client.post(
            reverse("mail:secure_compose"),
            keyed({"to_address": "alice@example.org", "subject": "Hello", "body": "Text"}),
        )
        self.assertContains(response, "belongs to a Haven account")
        self.assertContains(response, "Text")
        self.assertFalse(PortalMessage.objects.exists())

    def test_staff_compose_a_secure_email_and_see_it_in_their_list(self):
        self.sign_in(self.representative)
        response = self.client.post(
            reverse("mail:secure_compose"),
            keyed(
                {"to_address": CONTACT, "subject": "Plan renewal", "body": "Documents attached."}
            ),
        )
        conversation = PortalConversation.objects.get()
        self.assertRedirects(
            response, reverse("mail:secure_conversation", kwargs={"pk": conversation.pk})
        )
        listing = self.client.get(reverse("mail:secure_list"))
        self.assertContains(listing, "Plan renewal")
        self.assertContains(listing, CONTACT)

    def test_another_staff_member_cannot_open_someone_elses_portal_conversation(self):
        message = self.send()
        self.sign_in(self.nurse)
        response = self.client.get(
            reverse("mail:secure_conversation", kwargs={"pk": message.conversation_id})
        )
        self.assertEqual(response.status_code, 404)

    def test_the_open_link_carries_no_address(self):
        message = self.send()
        link = link_in(self.notification_for(message))
        self.assertNotIn("rita", link)
        self.assertNotIn("riverside", link)
        token = link.rstrip("/").rsplit("/", 1)[-1]
        self.assertEqual(links.read_portal_open_token(token)["c"], message.conversation_id)


class SendOnceTests(MailTestCase):
    """Compose and reply forms carry a key: a double submit or a retry gives one message."""

    def setUp(self):
        super().setUp()
        self.representative.email = "rep@haven.example"
        self.representative.save(update_fields=["email"])

    def test_a_double_submit_of_the_staff_compose_form_sends_one_message(self):
        self.sign_in(self.representative)
        data = keyed({"to_address": CONTACT, "subject": "Plan renewal", "body": "Ready."})
        page = self.client.get(reverse("mail:secure_compose"))
        self.assertContains(page, 'type="hidden" name="idempotency_key"')
        first = self.client.post(reverse("mail:secure_compose"), data)
        second = self.client.post(reverse("mail:secure_compose"), data)
        conversation = PortalConversation.objects.get()
        self.assertEqual(first["Location"], second["Location"])
        self.assertEqual(PortalMessage.objects.count(), 1)
        self.assertEqual(
            OutgoingEmail.objects.filter(idempotency_key__startswith="portal-message").count(), 1
        )
        # A staff answer in the conversation, submitted twice, is one message too.
        url = reverse("mail:secure_conversation", kwargs={"pk": conversation.pk})
        answer = keyed({"body": "One more thing."})
        self.client.post(url, answer)
        self.client.post(url, answer)
        self.assertEqual(conversation.messages.count(), 2)

    def test_a_double_submit_of_a_portal_reply_gives_one_reply_one_notice_and_one_copy(self):
        message = portal_message_send(
            to_address=CONTACT, subject="Plan renewal", body="Ready.", actor=self.representative
        )
        notice = OutgoingEmail.objects.get(idempotency_key=f"portal-message:{message.pk}")
        self.client.post(link_in(notice), {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
        url = reverse("mail:portal_conversation", kwargs={"pk": message.conversation_id})
        self.assertContains(self.client.get(url), 'type="hidden" name="idempotency_key"')
        data = keyed({"body": "Signed.", "send_copy": "on", "copy_warning_accepted": "on"})
        for _attempt in range(2):
            self.assertRedirects(self.client.post(url, data), url)
        reply = PortalMessage.objects.get(direction=PortalMessage.Direction.FROM_RECIPIENT)
        self.assertEqual(reply.body, "Signed.")
        self.assertEqual(OutgoingEmail.objects.filter(to_address="rep@haven.example").count(), 1)
        self.assertEqual(
            OutgoingEmail.objects.filter(idempotency_key__startswith="portal-copy").count(), 1
        )
        # A new form (a new key) is a new reply.
        self.client.post(url, keyed({"body": "And one more."}))
        self.assertEqual(
            PortalMessage.objects.filter(direction=PortalMessage.Direction.FROM_RECIPIENT).count(),
            2,
        )

    def test_a_key_used_in_another_conversation_does_not_return_that_message(self):
        mine = portal_message_send(
            to_address=CONTACT, subject="Mine", body="For me.", actor=self.representative
        )
        theirs = portal_message_send(
            to_address="other@else.test",
            subject="Theirs",
            body="For them.",
            actor=self.representative,
        )
        key = uuid.uuid4()
        portal_reply(
            conversation=theirs.conversation,
            body="Their reply.",
            send_copy=False,
            copy_warning_accepted=False,
            idempotency_key=key,
        )
        with self.assertRaises(IntegrityError):
            with transaction.atomic():
                portal_reply(
                    conversation=mine.conversation,
                    body="My reply.",
                    send_copy=False,
                    copy_warning_accepted=False,
                    idempotency_key=key,
                )
        self.assertFalse(mine.conversation.messages.filter(direction="from_recipient").exists())
