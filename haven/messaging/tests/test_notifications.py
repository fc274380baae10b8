"""A new message is announced by the channels each person chose, with nothing of it (MSG-4)."""

import pytest
from django.urls import reverse

from haven.mail.models import Category, OptOut, OutgoingEmail
from haven.messaging import services
from haven.messaging.models import Notification, NotificationPreference, Topic
from haven.messaging.tests.conversations import MessagingTestCase, reply, start

SUBJECT = "Results of my thyroid test"
BODY = "Your TSH is slightly high; we will repeat the test in six weeks."


class NotificationTests(MessagingTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.conversation = start(cls.alice, subject=SUBJECT, body="Any news on my thyroid?")

    @pytest.mark.promise("MSG-4")
    def test_the_email_says_only_that_a_message_waits_and_links_to_it(self):
        reply(self.conversation, self.nurse, body=BODY)
        email = OutgoingEmail.objects.get(user=self.alice)
        self.assertEqual(email.to_address, "alice@example.org")
        self.assertEqual(email.category, Category.NOTIFICATION)
        everything = email.subject + email.text_body + email.html_body
        forbidden = [
            SUBJECT,
            "thyroid",
            BODY,
            "TSH",
            str(Topic.CARE_QUESTION.label),
            "care_question",
            "Alice",
            "Rivera",
            "M-ALICE",
        ]
        for text in forbidden:
            self.assertNotIn(text, everything)
        self.assertIn("secure message", email.subject)
        link = reverse("messaging:conversation", kwargs={"pk": self.conversation.pk})
        self.assertIn(link, email.text_body)
        notification = Notification.objects.get(user=self.alice)
        self.assertEqual(
            (notification.channel, notification.status),
            (Notification.Channel.EMAIL, Notification.Status.QUEUED),
        )

    @pytest.mark.promise("MSG-4")
    def test_without_providers_text_and_push_are_recorded_as_waiting_and_carry_no_content(self):
        NotificationPreference.objects.create(
            user=self.alice, by_email=False, by_text=True, by_push=True
        )
        self.alice.phone = "+1 860 555 0100"
        self.alice.save(update_fields=["phone"])
        reply(self.conversation, self.nurse, body=BODY)
        statuses = dict(
            Notification.objects.filter(user=self.alice).values_list("channel", "status")
        )
        self.assertEqual(
            statuses,
            {
                Notification.Channel.TEXT: Notification.Status.NO_PROVIDER,
                Notification.Channel.PUSH: Notification.Status.NO_PROVIDER,
            },
        )
        self.assertFalse(OutgoingEmail.objects.filter(user=self.alice).exists())
        # A notification row has no field that could hold the message.
        # (A text's own fixed wording is in the SMS outbox: test_text_notifications.py.)
        fields = {field.name for field in Notification._meta.concrete_fields}
        self.assertEqual(fields, {"id", "user", "message", "channel", "status", "created_at"})

    def test_each_answer_is_announced_once_and_the_author_is_not_told_of_their_own(self):
        reply(self.conversation, self.nurse, body=BODY)
        reply(self.conversation, self.nurse, body="One more thing.")
        self.assertEqual(OutgoingEmail.objects.filter(user=self.alice).count(), 2)
        self.assertFalse(Notification.objects.filter(user=self.nurse).exists())

    def test_the_assigned_nurse_hears_of_the_members_reply(self):
        self.nurse.email = "nurse@haven.example"
        self.nurse.save(update_fields=["email"])
        reply(self.conversation, self.nurse, body=BODY)
        reply(self.conversation, self.alice, body="Thank you.")
        self.assertEqual(OutgoingEmail.objects.filter(user=self.nurse).count(), 1)

    def test_a_caregiver_hears_of_answers_but_not_in_a_sensitive_conversation(self):
        self.maria.email = "maria@example.org"
        self.maria.save(update_fields=["email"])
        elenas = start(self.elena)
        reply(elenas, self.nurse)
        self.assertEqual(OutgoingEmail.objects.filter(user=self.maria).count(), 1)
        services.conversation_classify(
            conversation=elenas,
            topic="care_question",
            sensitive_category="mental_health",
            actor=self.nurse,
        )
        reply(elenas, self.nurse, body="About what we discussed.")
        self.assertEqual(OutgoingEmail.objects.filter(user=self.maria).count(), 1)

    def test_someone_who_opted_out_of_notification_emails_gets_none(self):
        OptOut.objects.create(
            user=self.alice, category=Category.NOTIFICATION, source=OptOut.Source.PREFERENCES
        )
        reply(self.conversation, self.nurse, body=BODY)
        notification = Notification.objects.get(user=self.alice)
        self.assertEqual(notification.status, Notification.Status.OPTED_OUT)
        self.assertEqual(
            OutgoingEmail.objects.get(user=self.alice).status, OutgoingEmail.Status.SUPPRESSED
        )

    def test_members_choose_their_channels_on_the_preferences_page(self):
        self.sign_in(self.alice)
        page = self.client.get(reverse("messaging:preferences"))
        self.assertContains(page, "never contains the message")
        self.client.post(reverse("messaging:preferences"), {"by_push": "on"})
        preference = NotificationPreference.objects.get(user=self.alice)
        self.assertEqual(
            (preference.by_email, preference.by_text, preference.by_push), (False, False, True)
        )
