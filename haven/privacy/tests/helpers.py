"""Helpers for the privacy center's tests: the worker, a published notice, the registry."""

from datetime import date, timedelta

from django.utils import timezone

from haven.privacy.demo import TEXTS
from haven.privacy.models import DisclosurePurpose, Notice, NoticeText, Recipient, RecipientCategory
from haven.testing.tasks import run_queued_tasks


def run_worker() -> None:
    """Run every queued task once, in this thread and this test's database."""
    run_queued_tasks("privacy-test-worker")


def published_notice(officer, *, revision: date | None = None, effective: date | None = None):
    """A published notice in the three languages, in effect today unless told otherwise."""
    revision = revision or timezone.localdate() - timedelta(days=400)
    notice = Notice.objects.create(
        revision_date=revision,
        effective_date=effective or revision,
        material=True,
        status=Notice.Status.PUBLISHED,
        drafted_by=officer,
        published_by=officer,
        published_at=timezone.now() - timedelta(days=400),
    )
    for language, fields in TEXTS.items():
        NoticeText.objects.create(notice=notice, language=language, **fields)
    return notice


def notice_texts(suffix: str = "") -> dict:
    return {
        language: {
            "title": fields["title"] + suffix,
            "changes": fields["changes"],
            "body": fields["body"],
        }
        for language, fields in TEXTS.items()
    }


def recipient(
    officer,
    name="Northwind Claims",
    *,
    category=RecipientCategory.SERVICE_PROVIDER,
    country="US",
    purposes=(DisclosurePurpose.PAYMENT,),
    address="1 Main St, Hartford",
):
    return Recipient.objects.create(
        name=name,
        category=category,
        country=country,
        address=address,
        purposes=[str(purpose) for purpose in purposes],
        added_by=officer,
    )


def conversation_with(
    member,
    author,
    bodies,
    *,
    subject="Knee pain after the operation",
    sensitive_category="",
    legal_hold=False,
):
    """A closed-or-open secure conversation written straight to the models, sealed as the
    message center seals them (MSG-3): for archives and benchmarks, without the scanner."""
    import uuid

    from haven.messaging.models import Conversation, Message, Queue, Topic

    conversation = Conversation(
        member=member,
        topic=Topic.CARE_QUESTION,
        queue=Queue.CARE_TEAM,
        is_clinical=True,
        sensitive_category=sensitive_category,
        started_by=author,
        legal_hold=legal_hold,
    )
    conversation.start_envelope()
    conversation.seal("subject", subject.encode())
    conversation.save()
    messages = []
    for body in bodies:
        message = Message(
            conversation=conversation,
            author=author,
            side="member",
            scan_status="clean",
            idempotency_key=uuid.uuid4(),
        )
        message.start_envelope()
        message.seal("body", body.encode())
        messages.append(message)
    Message.objects.bulk_create(messages, batch_size=1000)
    return conversation
