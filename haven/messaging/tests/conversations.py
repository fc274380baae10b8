"""Conversations for tests, written through the services as people would write them."""

import uuid

from django.core.files.uploadedfile import SimpleUploadedFile

from haven.audit.tests.training import train_all_staff
from haven.messaging import services
from haven.messaging.models import Conversation, Message
from haven.messaging.services import Mailbox
from haven.testing.people import HavenTestCase


class MessagingTestCase(HavenTestCase):
    """The named people, with staff whose privacy training is current (AUD-5)."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        train_all_staff(cls)


def start(
    author,
    *,
    member=None,
    topic="care_question",
    subject="Knee pain after the operation",
    body="My knee still hurts two weeks after surgery.",
    files=(),
    grant=None,
) -> Conversation:
    """`author` writes to a team; for `member` (through `grant`), or for themself."""
    if member is None and author.member_id is not None:
        mailbox = Mailbox(member=author.member)
    elif member is not None:
        mailbox = Mailbox(member=member, grant=grant)
    else:
        mailbox = Mailbox(account=author)
    return services.conversation_start(
        mailbox=mailbox,
        topic=topic,
        subject=subject,
        body=body,
        files=list(files),
        idempotency_key=uuid.uuid4(),
        actor=author,
    )


def reply(conversation, author, body="Please rest and ice it twice a day.", files=()) -> Message:
    return services.message_send(
        conversation=conversation,
        body=body,
        files=list(files),
        idempotency_key=uuid.uuid4(),
        actor=author,
    )


def text_file(name="notes.txt", content=b"Blood pressure log: 120/80 every morning.\n"):
    return SimpleUploadedFile(name, content, content_type="text/plain")


def pdf_file(name="referral.pdf"):
    content = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
    return SimpleUploadedFile(name, content, content_type="application/pdf")
