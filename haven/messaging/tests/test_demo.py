"""`haven demo` shows the message center at work: an answered question and a request waiting."""

from io import StringIO

from django.core.management import call_command
from django.test import TestCase

from haven.accounts.models import User
from haven.mail.models import OutgoingEmail
from haven.messaging import services
from haven.messaging.models import Conversation, Message, Queue


class DemoConversationTests(TestCase):
    def test_alice_has_an_unread_answer_and_elenas_request_waits_for_customer_service(self):
        call_command("demo", stdout=StringIO())
        alice, nina, sam = (User.objects.get(username=name) for name in ("alice", "nina", "sam"))

        self.assertEqual(services.unread_conversation_count(alice), 1)
        answered = Conversation.objects.get(member=alice.member)
        self.assertEqual((answered.queue, answered.assigned_to), (Queue.CARE_TEAM, nina))
        # Encrypted as real conversations are: the subject opens only with its data key.
        self.assertNotIn(b"lipid", bytes(answered.subject_sealed))
        self.assertEqual(answered.unseal("subject"), b"My lipid panel")
        waiting = services.queue_conversations(sam, status="open", assigned="nobody")
        self.assertEqual([c.member.member_id for c in waiting], ["HVN1000005"])
        # Alice is told by e-mail that an answer waits; nobody is told of their own message.
        self.assertEqual(OutgoingEmail.objects.filter(to_address=alice.email).count(), 1)

        counts = (Conversation.objects.count(), Message.objects.count())
        call_command("demo", stdout=StringIO())
        self.assertEqual((Conversation.objects.count(), Message.objects.count()), counts)
        self.assertEqual(counts, (2, 3))
