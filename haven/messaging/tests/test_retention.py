"""Messages are kept to be delivered and managed, and no longer than the retention period (MSG-5)."""

from contextlib import redirect_stdout
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from haven.messaging import services
from haven.messaging.models import Attachment, Conversation, Message, Notification, Participant
from haven.messaging.tests.conversations import MessagingTestCase, reply, start, text_file


def closed_days_ago(conversation: Conversation, days: int) -> None:
    Conversation.objects.filter(pk=conversation.pk).update(
        status=Conversation.Status.CLOSED, closed_at=timezone.now() - timedelta(days=days)
    )


@override_settings(HAVEN_MESSAGE_RETENTION_DAYS=365)
class RetentionTests(MessagingTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.expired = start(cls.alice, subject="Old question", files=[text_file()])
        reply(cls.expired, cls.nurse)
        cls.recent = start(cls.alice, subject="Recent question")
        cls.held = start(cls.elena, subject="Under hold")
        cls.open = start(cls.elena, subject="Still open")
        closed_days_ago(cls.expired, 400)
        closed_days_ago(cls.recent, 300)
        closed_days_ago(cls.held, 800)
        Conversation.objects.filter(pk=cls.held.pk).update(legal_hold=True)
        Conversation.objects.filter(pk=cls.open.pk).update(
            created_at=timezone.now() - timedelta(days=2000)
        )

    @pytest.mark.promise("MSG-5")
    def test_purge_deletes_what_closed_before_the_retention_period_and_keeps_the_rest(self):
        out = StringIO()
        call_command("messaging", "purge", stdout=out)
        self.assertIn("1 conversations purged", out.getvalue())
        remaining = set(Conversation.objects.values_list("pk", flat=True))
        self.assertEqual(remaining, {self.recent.pk, self.held.pk, self.open.pk})
        self.assertFalse(Message.objects.filter(conversation_id=self.expired.pk).exists())
        self.assertFalse(Attachment.objects.filter(message__conversation_id=self.expired.pk))
        self.assertFalse(Participant.objects.filter(conversation_id=self.expired.pk).exists())
        self.assertFalse(Notification.objects.filter(message__conversation_id=self.expired.pk))

    @pytest.mark.promise("MSG-5")
    def test_a_legal_hold_keeps_a_conversation_until_it_is_lifted(self):
        services.messages_purge()
        self.assertTrue(Conversation.objects.filter(pk=self.held.pk).exists())
        Conversation.objects.filter(pk=self.held.pk).update(legal_hold=False)
        services.messages_purge()
        self.assertFalse(Conversation.objects.filter(pk=self.held.pk).exists())

    def test_purge_works_in_batches_and_a_dry_run_deletes_nothing(self):
        for index in range(5):
            closed_days_ago(start(self.bruno, subject=f"Old {index}"), 500)
        out = StringIO()
        call_command("messaging", "purge", "--dry-run", stdout=out)
        self.assertIn("6 conversations are past retention", out.getvalue())
        self.assertEqual(Conversation.objects.count(), 9)
        self.assertEqual(services.messages_purge(batch_size=2), 6)
        self.assertEqual(Conversation.objects.count(), 3)

    def test_reopening_stops_the_clock(self):
        self.expired.refresh_from_db()
        services.conversation_reopen(conversation=self.expired, actor=self.nurse)
        services.messages_purge()
        self.assertTrue(Conversation.objects.filter(pk=self.expired.pk).exists())

    def test_the_command_help_states_the_rule(self):
        out = StringIO()
        with redirect_stdout(out), self.assertRaises(SystemExit):
            call_command("messaging", "purge", "--help")
        text = " ".join(out.getvalue().split())
        self.assertIn("closed more than HAVEN_MESSAGE_RETENTION_DAYS days ago", text)
        self.assertIn("except those under legal hold", text)
