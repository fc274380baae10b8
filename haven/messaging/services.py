"""The message center's rules: who sees which conversation, sending, screening, reading, retention.

Every write is a keyword-only `<entity>_<action>(*, ..., actor)` function. Sending is idempotent:
the form's key is unique per author, so a double submit or a retry finds the first message.
"""

import posixpath
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import (
    Count,
    DateTimeField,
    F,
    IntegerField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from haven.accounts.models import User
from haven.audit import access
from haven.audit.policy import FIELDS, Purpose, Resource, Sensitivity
from haven.caregivers.models import Grant, Scope
from haven.caregivers.services import acting_member, grant_for
from haven.mail import links
from haven.mail.models import OutgoingEmail
from haven.mail.services import secure_message_notify
from haven.messaging import clamd, push, sms
from haven.messaging.models import (
    TOPIC_ROUTES,
    Attachment,
    Broadcast,
    Conversation,
    Message,
    Notification,
    NotificationOutbox,
    NotificationPreference,
    OutgoingPush,
    OutgoingText,
    Participant,
    PushDevice,
    Queue,
    ScanStatus,
    Topic,
)
from haven.plans.models import EmployerGroup, Member

# The sender learns only that it was refused, never why (MSG-6).
FILE_REFUSED = gettext_lazy("This file cannot be accepted.")
MESSAGE_REFUSED = gettext_lazy("This message cannot be accepted.")
MAX_ATTACHMENTS = 5
MAX_BODY_CHARS = 20_000
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
RESCAN_DELAY = timedelta(minutes=5)

# The extensions each sniffed type may carry; the first bytes decide the type, not the name.
EXTENSIONS = {
    Attachment.Kind.PDF: {".pdf"},
    Attachment.Kind.PNG: {".png"},
    Attachment.Kind.JPEG: {".jpg", ".jpeg"},
    Attachment.Kind.TEXT: {".txt"},
}


def field_error(field: str, message, code: str) -> ValidationError:
    """An error the view puts on the form field it concerns."""
    return ValidationError({field: ValidationError(message, code=code)})


def attachment_max_bytes() -> int:
    return getattr(settings, "HAVEN_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)


def retention_days() -> int:
    # Six years after closing: HIPAA's documentation period; plans may set longer.
    return getattr(settings, "HAVEN_MESSAGE_RETENTION_DAYS", 6 * 366)


def encryption_on() -> bool:
    """Only the benchmark turns this off, to measure encryption's cost; production refuses."""
    return getattr(settings, "HAVEN_MESSAGE_ENCRYPTION", True)


# --- Whose inbox, and who may see a conversation ---------------------------------------------


@dataclass(frozen=True)
class Mailbox:
    """The inbox a request works in: a member's (perhaps through a grant) or an account's own."""

    member: Member | None = None
    account: User | None = None
    grant: Grant | None = None

    def conversations(self) -> QuerySet[Conversation]:
        if self.member is not None:
            found = Conversation.objects.filter(member=self.member)
            # Sensitive categories are never opened by a grant.
            return found.filter(sensitive_category="") if self.grant is not None else found
        return Conversation.objects.filter(account=self.account)

    @property
    def allows_clinical_topics(self) -> bool:
        return self.member is not None

    @property
    def topics(self) -> list[tuple[str, str]]:
        if self.allows_clinical_topics:
            return list(Topic.choices)
        return [(value, label) for value, label in Topic.choices if not TOPIC_ROUTES[value][1]]


def mailbox_for(request: HttpRequest) -> Mailbox:
    """The inbox of the person the request acts for; a grant without messages opens none."""
    user = request.user
    if user.is_staff_member:
        raise PermissionDenied
    member = acting_member(request)
    if member is None:
        return Mailbox(account=user)
    if member.pk == user.member_id:
        return Mailbox(member=member)
    grant = grant_for(user, member, Scope.MESSAGES)
    if grant is None:
        raise PermissionDenied
    return Mailbox(member=member, grant=grant)


def staff_queue(user: User) -> str | None:
    """The one queue a staff member works: their role's, if their role has one."""
    if not user.is_staff_member or user.staff_role not in Queue.values:
        return None
    return user.staff_role


def granted_member_ids(user: User) -> list[int]:
    """Members whose messages this user may open through a current grant."""
    grants = Grant.objects.current().filter(grantee=user).select_related("member")
    return [
        grant.member_id
        for grant in grants
        if Scope.MESSAGES in grant.scopes and grant_for(user, grant.member, Scope.MESSAGES)
    ]


def conversations_visible_to(user: User) -> QuerySet[Conversation]:
    """Deny by default: the member, their permitted caregivers and guardians, the team's queue."""
    if not user.is_authenticated:
        return Conversation.objects.none()
    if user.is_staff_member:
        queue = staff_queue(user)
        if queue is None:
            return Conversation.objects.none()
        return Conversation.objects.filter(queue=queue)
    visible = Q(account=user)
    if user.member_id is not None:
        visible |= Q(member_id=user.member_id)
    granted = granted_member_ids(user)
    if granted:
        visible |= Q(member_id__in=granted, sensitive_category="")
    return Conversation.objects.filter(visible)


def conversation_for(user: User, pk: int) -> Conversation:
    conversation = (
        conversations_visible_to(user).select_related("member", "account", "assigned_to")
    ).filter(pk=pk)
    found = conversation.first()
    if found is None:
        raise Conversation.DoesNotExist
    return found


def acts_on_behalf(user: User, conversation: Conversation) -> bool:
    return (
        not user.is_staff_member
        and conversation.member_id is not None
        and conversation.member_id != user.member_id
    )


# --- Lists and unread counts -----------------------------------------------------------------


def with_reading_state(conversations: QuerySet[Conversation], user: User) -> QuerySet:
    """Annotate each conversation with the user's unread count and archive state.

    Unread = messages by others after the user's read marker, counted at query time.
    """
    place = Participant.objects.filter(conversation=OuterRef("pk"), user=user)
    unread = (
        Message.objects.filter(conversation=OuterRef("pk"), created_at__gt=OuterRef("read_up_to"))
        .exclude(author=user)
        .order_by()
        .values("conversation")
        .annotate(total=Count("pk"))
        .values("total")
    )
    return conversations.annotate(
        read_up_to=Coalesce(
            Subquery(place.values("last_read_at")[:1]), Value(EPOCH, output_field=DateTimeField())
        ),
        archived_at=Subquery(place.values("archived_at")[:1]),
    ).annotate(
        unread=Coalesce(Subquery(unread, output_field=IntegerField()), 0),
        is_archived=Q(archived_at__isnull=False) & Q(archived_at__gte=F("last_message_at")),
    )


def inbox(mailbox: Mailbox, user: User, *, archived: bool = False) -> QuerySet:
    listed = with_reading_state(mailbox.conversations(), user).filter(is_archived=archived)
    return listed.select_related("assigned_to").order_by("-last_message_at")


def unread_conversation_count(user: User, mailbox: Mailbox | None = None) -> int:
    """Conversations in the inbox with something unread: the number on the inbox link."""
    if user.is_staff_member:
        conversations = Conversation.objects.filter(assigned_to=user, status="open")
    elif mailbox is not None:
        conversations = mailbox.conversations()
    else:
        conversations = conversations_visible_to(user)
    return with_reading_state(conversations, user).filter(is_archived=False, unread__gt=0).count()


def queue_conversations(user: User, *, status: str, assigned: str) -> QuerySet:
    queue = staff_queue(user)
    if queue is None:
        return Conversation.objects.none()
    listed = with_reading_state(Conversation.objects.filter(queue=queue, status=status), user)
    if assigned == "me":
        listed = listed.filter(assigned_to=user)
    elif assigned == "nobody":
        listed = listed.filter(assigned_to__isnull=True)
    last_side = Message.objects.filter(conversation=OuterRef("pk")).order_by("-created_at", "-pk")
    return (
        listed.annotate(last_side=Subquery(last_side.values("side")[:1]))
        .select_related("member", "account", "assigned_to")
        .order_by("-last_message_at")
    )


def colleagues_for(conversation: Conversation) -> QuerySet[User]:
    """Staff who may be given this conversation: those working its queue."""
    return User.objects.filter(
        kind=User.Kind.STAFF, staff_role=conversation.queue, is_active=True
    ).order_by("first_name", "username")


# --- Screening (MSG-6) -----------------------------------------------------------------------


@dataclass
class ScreenedFile:
    name: str
    content: bytes
    kind: str
    status: str


def _status_for(verdict: clamd.Verdict) -> str:
    return {
        clamd.Verdict.CLEAN: ScanStatus.CLEAN,
        clamd.Verdict.NOT_CONFIGURED: ScanStatus.UNSCANNED,
        clamd.Verdict.UNAVAILABLE: ScanStatus.PENDING,
    }[verdict]


def sniff_kind(content: bytes) -> str | None:
    """The allowed type the first bytes show, whatever the file is called."""
    if content.startswith(b"%PDF-"):
        return Attachment.Kind.PDF
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return Attachment.Kind.PNG
    if content.startswith(b"\xff\xd8\xff"):
        return Attachment.Kind.JPEG
    if b"\0" not in content:
        try:
            content.decode("utf-8")
        except UnicodeDecodeError:
            return None
        return Attachment.Kind.TEXT
    return None


def clean_filename(name: str) -> str:
    base = posixpath.basename(name.replace("\\", "/"))
    base = "".join(ch for ch in unicodedata.normalize("NFC", base) if ch.isprintable())
    return base.strip()[-150:] or "file"


def screen_file(upload: UploadedFile) -> ScreenedFile:
    """Size, then malicious code, then type: an infected file is refused without a reason."""
    limit = attachment_max_bytes()
    if upload.size is None or upload.size > limit:
        raise field_error(
            "attachments",
            _("Files can be at most %(size)s.") % {"size": filesizeformat(limit)},
            "size",
        )
    content = upload.read()
    if len(content) > limit:
        raise field_error(
            "attachments",
            _("Files can be at most %(size)s.") % {"size": filesizeformat(limit)},
            "size",
        )
    if not content:
        raise field_error("attachments", _("This file is empty."), "empty")
    verdict = clamd.scan(content)
    if verdict is clamd.Verdict.INFECTED:
        raise field_error("attachments", FILE_REFUSED, "refused")
    name = clean_filename(upload.name or "")
    kind = sniff_kind(content)
    extension = posixpath.splitext(name)[1].lower()
    if kind is None or extension not in EXTENSIONS[kind]:
        raise field_error(
            "attachments", _("Send a PDF, PNG or JPEG image, or plain text (.txt) file."), "type"
        )
    return ScreenedFile(name=name, content=content, kind=kind, status=_status_for(verdict))


def screen_text(*texts: str) -> str:
    """Screen what a person wrote as the files are screened; refuse it without a reason."""
    verdict = clamd.scan("\n".join(texts).encode())
    if verdict is clamd.Verdict.INFECTED:
        raise field_error("body", MESSAGE_REFUSED, "refused")
    return _status_for(verdict)


# --- Writing ---------------------------------------------------------------------------------


def _check_body(body: str) -> str:
    body = body.strip()
    if not body:
        raise field_error("body", _("Write your message."), "empty")
    if len(body) > MAX_BODY_CHARS:
        raise field_error(
            "body",
            _("A message can be at most %(count)s characters.") % {"count": MAX_BODY_CHARS},
            "long",
        )
    return body


def _require_medical_data_consent(member: Member | None, *, clinical: bool) -> None:
    """A member's message to the care team is medical data: where the law makes consent its
    basis, Haven keeps it only once the member has recorded that consent (CON-6)."""
    from haven.privacy.services import medical_data_collection_allowed

    if clinical and member is not None and not medical_data_collection_allowed(member):
        raise ValidationError(
            _(
                "A message to the care team is medical data, and the law in force asks for the "
                "member's consent before Haven keeps it. Give it in the privacy center "
                "(Consents), then send again: your message is still here."
            ),
            code="medical_data_consent",
        )


def _existing(actor: User, idempotency_key: uuid.UUID) -> Message | None:
    return (
        Message.objects.select_related("conversation")
        .filter(author=actor, idempotency_key=idempotency_key)
        .first()
    )


def _create_message(
    *,
    conversation: Conversation,
    author: User,
    side: str,
    body: str,
    body_status: str,
    files: list[ScreenedFile],
    idempotency_key: uuid.UUID,
    at: datetime,
) -> Message:
    message = Message(
        conversation=conversation,
        author=author,
        side=side,
        idempotency_key=idempotency_key,
        scan_status=body_status,
        created_at=at,
    )
    message.start_envelope(encrypt=encryption_on())
    message.seal("body", body.encode())
    message.save()
    for screened in files:
        attachment = Attachment(
            message=message,
            content_type=screened.kind,
            size=len(screened.content),
            scan_status=screened.status,
            scanned_at=at if screened.status == ScanStatus.CLEAN else None,
            created_at=at,
        )
        attachment.start_envelope(encrypt=encryption_on())
        attachment.seal("filename", screened.name.encode())
        attachment.seal("content", screened.content)
        attachment.save()
    Conversation.objects.filter(pk=conversation.pk).update(last_message_at=at)
    conversation.last_message_at = at
    _mark_read(conversation, author, at)
    notify_new_message(message)
    if body_status == ScanStatus.PENDING or any(
        screened.status == ScanStatus.PENDING for screened in files
    ):
        _schedule_rescan()
    return message


def conversation_start(
    *,
    mailbox: Mailbox,
    topic: str,
    subject: str,
    body: str,
    files: list[UploadedFile],
    idempotency_key: uuid.UUID,
    actor: User,
) -> Conversation:
    """A member (or someone acting for them) writes to a team; the topic picks the queue."""
    existing = _existing(actor, idempotency_key)
    if existing is not None:
        return existing.conversation
    if topic not in dict(mailbox.topics):
        raise field_error("topic", _("Choose a topic from the list."), "topic")
    subject = subject.strip()
    if not subject:
        raise field_error("subject", _("Give your message a subject."), "subject")
    body = _check_body(body)
    queue, clinical = TOPIC_ROUTES[topic]
    _require_medical_data_consent(mailbox.member, clinical=clinical)
    body_status = screen_text(subject, body)
    screened = [screen_file(upload) for upload in files[:MAX_ATTACHMENTS]]
    now = timezone.now()
    try:
        with transaction.atomic():
            conversation = Conversation(
                member=mailbox.member,
                account=mailbox.account,
                topic=topic,
                queue=queue,
                is_clinical=clinical,
                started_by=actor,
                created_at=now,
                last_message_at=now,
            )
            conversation.start_envelope(encrypt=encryption_on())
            conversation.seal("subject", subject[:200].encode())
            conversation.save()
            _create_message(
                conversation=conversation,
                author=actor,
                side=Message.Side.MEMBER,
                body=body,
                body_status=body_status,
                files=screened,
                idempotency_key=idempotency_key,
                at=now,
            )
    except IntegrityError:
        # The same form was submitted twice at once: the first one is the message.
        existing = _existing(actor, idempotency_key)
        if existing is None:
            raise
        return existing.conversation
    return conversation


def message_send(
    *,
    conversation: Conversation,
    body: str,
    files: list[UploadedFile],
    idempotency_key: uuid.UUID,
    actor: User,
) -> Message:
    """Answer in a conversation the actor may see; closed conversations take no new messages."""
    existing = _existing(actor, idempotency_key)
    if existing is not None:
        return existing
    if not conversations_visible_to(actor).filter(pk=conversation.pk).exists():
        raise PermissionDenied
    if not conversation.is_open:
        raise ValidationError(
            _("This conversation is closed. Start a new message instead."), code="closed"
        )
    body = _check_body(body)
    side = Message.Side.STAFF if actor.is_staff_member else Message.Side.MEMBER
    if side == Message.Side.MEMBER:
        _require_medical_data_consent(conversation.member, clinical=conversation.is_clinical)
    body_status = screen_text(body)
    screened = [screen_file(upload) for upload in files[:MAX_ATTACHMENTS]]
    try:
        with transaction.atomic():
            if actor.is_staff_member and conversation.assigned_to_id is None:
                # Whoever answers an unassigned conversation takes it.
                Conversation.objects.filter(pk=conversation.pk).update(assigned_to=actor)
                conversation.assigned_to = actor
            message = _create_message(
                conversation=conversation,
                author=actor,
                side=side,
                body=body,
                body_status=body_status,
                files=screened,
                idempotency_key=idempotency_key,
                at=timezone.now(),
            )
    except IntegrityError:
        existing = _existing(actor, idempotency_key)
        if existing is None:
            raise
        return existing
    return message


def members_for_audience(
    *, member_ids: list[str], group: EmployerGroup | None
) -> tuple[list[Member], list[str]]:
    """The roster members a plan message goes to, and any member IDs not found."""
    if group is not None:
        return list(group.members.order_by("pk")), []
    wanted = list(dict.fromkeys(value.strip() for value in member_ids if value.strip()))
    found = {member.member_id: member for member in Member.objects.filter(member_id__in=wanted)}
    return [found[value] for value in wanted if value in found], [
        value for value in wanted if value not in found
    ]


def broadcast_inline_limit() -> int:
    """Audiences up to this size are delivered in the request; larger ones by a task."""
    return getattr(settings, "HAVEN_BROADCAST_INLINE_LIMIT", 50)


def broadcast_send(
    *,
    members: list[Member],
    topic: str,
    subject: str,
    body: str,
    group: EmployerGroup | None,
    idempotency_key: uuid.UUID,
    actor: User,
) -> Broadcast:
    """The plan posts a message to one member or many: one conversation each (MSG-1).

    Each copy is encrypted under its own data key, as any message is. A large audience is
    delivered by a background task enqueued in the same transaction, so none is lost.
    """
    existing = Broadcast.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    queue = staff_queue(actor)
    if queue is None:
        raise PermissionDenied
    if TOPIC_ROUTES.get(topic, (None,))[0] != queue:
        raise field_error("topic", _("Choose a topic your team answers."), "topic")
    if not members:
        raise field_error("member_ids", _("Choose at least one member."), "audience")
    subject = subject.strip()[:200]
    if not subject:
        raise field_error("subject", _("Give your message a subject."), "subject")
    body = _check_body(body)
    body_status = screen_text(subject, body)
    try:
        with transaction.atomic():
            broadcast = Broadcast(
                sender=actor,
                topic=topic,
                group=group,
                member_ids=[member.pk for member in members],
                recipient_count=len(members),
                body_status=body_status,
                idempotency_key=idempotency_key,
            )
            broadcast.start_envelope(encrypt=encryption_on())
            broadcast.seal("subject", subject.encode())
            broadcast.seal("body", body.encode())
            broadcast.save()
            if len(members) <= broadcast_inline_limit():
                broadcast_deliver(broadcast=broadcast)
            else:
                from haven.messaging.tasks import deliver_broadcast

                deliver_broadcast.enqueue(broadcast.pk)
    except IntegrityError:
        existing = Broadcast.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return existing
    return broadcast


def broadcast_deliver(*, broadcast: Broadcast, batch_size: int = 100) -> int:
    """Write each member's copy not yet written, a batch per transaction; returns how many.

    Safe to run again after a crash: members who have their copy are skipped, and each copy's
    key is unique, so nobody gets two. Once all are written, the waiting text is wiped.
    """
    if broadcast.delivered_at is not None:
        return 0
    subject = broadcast.unseal("subject").decode()
    body = broadcast.unseal("body").decode()
    queue, clinical = TOPIC_ROUTES[broadcast.topic]
    done = set(Conversation.objects.filter(broadcast=broadcast).values_list("member_id", flat=True))
    waiting = [pk for pk in broadcast.member_ids if pk not in done]
    written = 0
    for start in range(0, len(waiting), batch_size):
        with transaction.atomic():
            now = timezone.now()
            for member in Member.objects.filter(pk__in=waiting[start : start + batch_size]):
                conversation = Conversation(
                    member=member,
                    topic=broadcast.topic,
                    queue=queue,
                    is_clinical=clinical,
                    origin=Conversation.Origin.PLAN,
                    started_by=broadcast.sender,
                    assigned_to=broadcast.sender,
                    broadcast=broadcast,
                    created_at=now,
                    last_message_at=now,
                )
                conversation.start_envelope(encrypt=encryption_on())
                conversation.seal("subject", subject.encode())
                conversation.save()
                _create_message(
                    conversation=conversation,
                    author=broadcast.sender,
                    side=Message.Side.STAFF,
                    body=body,
                    body_status=broadcast.body_status,
                    files=[],
                    idempotency_key=uuid.uuid5(broadcast.idempotency_key, str(member.pk)),
                    at=now,
                )
                written += 1
    with transaction.atomic():
        # The copies are the record now; the waiting text and its key are not kept.
        broadcast.delivered_at = timezone.now()
        broadcast.subject_sealed = broadcast.body_sealed = broadcast.wrapped_key = b""
        broadcast.kek_id = ""
        broadcast.save(
            update_fields=["delivered_at", "subject_sealed", "body_sealed", "wrapped_key", "kek_id"]
        )
    return written


# --- Staff work on a conversation ------------------------------------------------------------


def _require_queue(conversation: Conversation, actor: User) -> None:
    if staff_queue(actor) != conversation.queue:
        raise PermissionDenied


@transaction.atomic
def conversation_assign(
    *, conversation: Conversation, assignee: User | None, actor: User
) -> Conversation:
    _require_queue(conversation, actor)
    if assignee is not None and not colleagues_for(conversation).filter(pk=assignee.pk).exists():
        raise field_error("assignee", _("Choose someone who works this queue."), "assignee")
    conversation.assigned_to = assignee
    conversation.save(update_fields=["assigned_to"])
    return conversation


@transaction.atomic
def conversation_close(*, conversation: Conversation, actor: User) -> Conversation:
    """Closing starts the retention clock (MSG-5)."""
    _require_queue(conversation, actor)
    if conversation.is_open:
        conversation.status = Conversation.Status.CLOSED
        conversation.closed_at = timezone.now()
        conversation.closed_by = actor
        conversation.save(update_fields=["status", "closed_at", "closed_by"])
    return conversation


@transaction.atomic
def conversation_reopen(*, conversation: Conversation, actor: User) -> Conversation:
    _require_queue(conversation, actor)
    if not conversation.is_open:
        conversation.status = Conversation.Status.OPEN
        conversation.closed_at = None
        conversation.closed_by = None
        conversation.save(update_fields=["status", "closed_at", "closed_by"])
    return conversation


@transaction.atomic
def conversation_classify(
    *, conversation: Conversation, topic: str, sensitive_category: str, actor: User
) -> Conversation:
    """Staff correct the topic or flag a sensitive category; clinical work moves to the care team.

    A sensitive conversation is clinical, and is hidden from caregivers and guardians at once.
    """
    _require_queue(conversation, actor)
    if topic not in TOPIC_ROUTES:
        raise field_error("topic", _("Choose a topic from the list."), "topic")
    if sensitive_category and sensitive_category not in Sensitivity.values:
        raise field_error("sensitive_category", _("Choose a category from the list."), "category")
    if conversation.account_id is not None and (TOPIC_ROUTES[topic][1] or sensitive_category):
        raise ValidationError(
            _("Only a plan member's conversation can be clinical."), code="clinical"
        )
    if sensitive_category and not TOPIC_ROUTES[topic][1]:
        topic = Topic.CARE_QUESTION
    queue, clinical = TOPIC_ROUTES[topic]
    if queue != conversation.queue:
        conversation.assigned_to = None
    conversation.topic, conversation.queue = topic, queue
    conversation.is_clinical, conversation.sensitive_category = clinical, sensitive_category
    conversation.save(
        update_fields=["topic", "queue", "is_clinical", "sensitive_category", "assigned_to"]
    )
    return conversation


@transaction.atomic
def conversation_archive(*, conversation: Conversation, archived: bool, actor: User) -> None:
    """Out of the inbox until a newer message arrives; per person, the others keep theirs."""
    if not conversations_visible_to(actor).filter(pk=conversation.pk).exists():
        raise PermissionDenied
    Participant.objects.update_or_create(
        conversation=conversation,
        user=actor,
        defaults={"archived_at": timezone.now() if archived else None},
    )


# --- Reading ---------------------------------------------------------------------------------


@dataclass
class ShownAttachment:
    pk: int
    filename: str
    size: int
    content_type: str
    scan_status: str
    can_be_opened: bool


@dataclass
class ShownMessage:
    pk: int
    author: User
    side: str
    body: str
    withheld: bool
    created_at: datetime
    # Not screened yet (the scanner was down): held from readers until it is (MSG-6).
    being_checked: bool = False
    held: bool = False
    attachments: list[ShownAttachment] = field(default_factory=list)
    read_by_member: bool = False


@dataclass
class ShownConversation:
    conversation: Conversation
    subject: str
    messages: list[ShownMessage]
    member_read_at: datetime | None


def _mark_read(conversation: Conversation, user: User, up_to: datetime) -> None:
    """Move the user's read marker forward (never back) to the newest message they were shown."""
    place, created = Participant.objects.get_or_create(
        conversation=conversation, user=user, defaults={"last_read_at": up_to}
    )
    if not created and (place.last_read_at is None or place.last_read_at < up_to):
        Participant.objects.filter(pk=place.pk).update(last_read_at=up_to)


# Messages with customer service about bills, coverage or the website hold no clinical content;
# the policy table opens them to customer service under this resource once it names it.
SERVICE_MESSAGES = "service_messages"


def message_resource(conversation: Conversation) -> str:
    """The part of the member's record a conversation is, for the audited accessor."""
    if conversation.is_clinical or SERVICE_MESSAGES not in FIELDS:
        return Resource.MESSAGES
    return SERVICE_MESSAGES


def reading_purpose(user: User, conversation: Conversation) -> str | None:
    """Why staff open a conversation: their team's work on it; members need no purpose."""
    if not user.is_staff_member:
        return None
    if conversation.queue == Queue.CARE_TEAM:
        return Purpose.TREATMENT
    return Purpose.PAYMENT if conversation.topic == Topic.CLAIMS else Purpose.OPERATIONS


def audited_read(
    *,
    conversation: Conversation,
    actor: User,
    request: HttpRequest | None = None,
    subtype: str = "read",
) -> access.Permitted | None:
    """Every read of a member's messages goes through the audited accessor, which decides and
    records it (AUD-1, AUD-3); raises `access.AccessDenied` when the policy refuses.

    Conversations of accounts without a roster entry are not part of a member's record.
    Call outside a transaction: the accessor records in a durable transaction of its own.
    """
    if conversation.member_id is None:
        return None
    return access.read(
        member=conversation.member,
        resource=message_resource(conversation),
        purpose=reading_purpose(actor, conversation),
        record_id=conversation.pk,
        category=conversation.sensitive_category,
        actor=actor,
        request=request,
        subtype=subtype,
    )


def audited_inbox_read(
    *, mailbox: Mailbox, actor: User, request: HttpRequest | None = None
) -> access.Permitted | None:
    """A page of a member's inbox shows their subjects: one audited read of their messages."""
    if mailbox.member is None:
        return None
    resources = [Resource.MESSAGES]
    if SERVICE_MESSAGES in FIELDS:
        resources.append(SERVICE_MESSAGES)
    return access.read(
        member=mailbox.member, resource=resources, actor=actor, request=request, subtype="list"
    )


def conversation_read(
    *, conversation: Conversation, actor: User, request: HttpRequest | None = None
) -> ShownConversation:
    """Decrypt a conversation for someone allowed to see it, and move their read marker."""
    if not conversations_visible_to(actor).filter(pk=conversation.pk).exists():
        raise PermissionDenied
    audited_read(conversation=conversation, actor=actor, request=request)
    with transaction.atomic():
        messages = list(
            conversation.messages.select_related("author", "conversation").prefetch_related(
                # Attachments' contents stay in the database until someone opens one.
                Prefetch("attachments", queryset=Attachment.objects.defer("content_sealed"))
            )
        )
        member_read_at = (
            Participant.objects.filter(conversation=conversation)
            .exclude(user__kind=User.Kind.STAFF)
            .aggregate(latest=Max("last_read_at"))["latest"]
        )
        shown = []
        for message in messages:
            withheld = message.is_withheld
            # Text still waiting for the scanner is held from everyone but its author, who
            # wrote it; it is shown once screened, or withheld if it proves infected.
            being_checked = message.is_being_checked
            held = withheld or (being_checked and message.author_id != actor.pk)
            shown.append(
                ShownMessage(
                    pk=message.pk,
                    author=message.author,
                    side=message.side,
                    body="" if held else message.body,
                    withheld=withheld,
                    being_checked=being_checked,
                    held=held and not withheld,
                    created_at=message.created_at,
                    attachments=[
                        ShownAttachment(
                            pk=attachment.pk,
                            filename=attachment.filename,
                            size=attachment.size,
                            content_type=attachment.content_type,
                            scan_status=attachment.scan_status,
                            can_be_opened=attachment.can_be_opened,
                        )
                        for attachment in message.attachments.all()
                    ],
                    read_by_member=member_read_at is not None
                    and member_read_at >= message.created_at,
                )
            )
        if messages:
            _mark_read(conversation, actor, messages[-1].created_at)
    # The subject was screened with the first message: held with it.
    subject_held = bool(shown) and shown[0].held
    return ShownConversation(
        conversation=conversation,
        subject=_("Message being checked") if subject_held else conversation.subject,
        messages=shown,
        member_read_at=member_read_at,
    )


def attachment_open(
    *, pk: int, actor: User, request: HttpRequest | None = None
) -> tuple[Attachment, bytes]:
    """An attachment's name and content, once screened, for someone who may see its message."""
    attachment = (
        Attachment.objects.select_related("message__conversation__member")
        .filter(pk=pk, message__conversation__in=conversations_visible_to(actor))
        .first()
    )
    if attachment is None:
        raise Attachment.DoesNotExist
    if not attachment.can_be_opened:
        raise PermissionDenied
    audited_read(
        conversation=attachment.message.conversation,
        actor=actor,
        request=request,
        subtype="download",
    )
    return attachment, attachment.unseal("content")


# --- Notifications (MSG-4) -------------------------------------------------------------------


def recipients_of(message: Message) -> list[User]:
    """Who hears of a new message: the other side, never the author."""
    conversation = message.conversation
    if message.side == Message.Side.MEMBER:
        people = [conversation.assigned_to] if conversation.assigned_to_id else []
    elif conversation.account_id is not None:
        people = [conversation.account]
    else:
        people = list(User.objects.filter(member_id=conversation.member_id, is_active=True))
        if not conversation.is_sensitive:
            grants = Grant.objects.current().filter(member_id=conversation.member_id)
            people += [
                grant.grantee
                for grant in grants.select_related("grantee", "member")
                if grant.grantee.is_active
                and grant_for(grant.grantee, grant.member, Scope.MESSAGES)
            ]
    unique = {person.pk: person for person in people if person.pk != message.author_id}
    return list(unique.values())


def preferences_for(user: User) -> NotificationPreference:
    return NotificationPreference.objects.filter(user=user).first() or NotificationPreference(
        user=user
    )


@transaction.atomic
def notification_preferences_update(
    *, user: User, by_email: bool, by_text: bool, by_push: bool, actor: User
) -> NotificationPreference:
    if actor.pk != user.pk:
        raise PermissionDenied
    preference, _created = NotificationPreference.objects.update_or_create(
        user=user,
        defaults={
            "by_email": by_email,
            "by_text": by_text,
            "by_push": by_push,
            "updated_at": timezone.now(),
        },
    )
    return preference


def conversation_link(conversation: Conversation) -> str:
    return reverse("messaging:conversation", kwargs={"pk": conversation.pk})


def _email_waiting_message(*, user: User, message: Message) -> str:
    """Queue the fixed "a secure message is waiting" e-mail in the mail outbox (MAIL-6, MAIL-7)."""
    if not user.email:
        return Notification.Status.NO_ADDRESS
    email = secure_message_notify(
        user=user,
        link_path=conversation_link(message.conversation),
        idempotency_key=f"messaging:{message.uuid}:{user.pk}",
    )
    if email.status == OutgoingEmail.Status.SUPPRESSED:
        return Notification.Status.OPTED_OUT
    return Notification.Status.QUEUED


def notify_new_message(message: Message) -> list[Notification]:
    """Tell each recipient by the channels they chose; nothing of the message goes with it.

    E-mail, text and push go through their outboxes in the caller's transaction.
    """
    made = []
    for user in recipients_of(message):
        preference = preferences_for(user)
        if preference.by_email:
            made.append(
                Notification.objects.create(
                    user=user,
                    message=message,
                    channel=Notification.Channel.EMAIL,
                    status=_email_waiting_message(user=user, message=message),
                )
            )
        if preference.by_text:
            made.append(_text_waiting_message(user=user, message=message))
        if preference.by_push:
            made.append(_push_waiting_message(user=user, message=message))
    return made


# --- Text and push notifications (MSG-4) -------------------------------------------------------


def text_waiting_body(*, user: User, link: str) -> str:
    """The only text Haven sends: fixed wording in the person's language, and the link."""
    with translation.override(user.language or settings.LANGUAGE_CODE):
        return _("%(site)s: a secure message is waiting for you. Sign in to read it: %(link)s") % {
            "site": settings.SITE_NAME,
            "link": link,
        }


def push_waiting_payload(*, user: User, link: str) -> dict:
    """The only push Haven sends: its name, fixed wording in the person's language, the link."""
    language = user.language or settings.LANGUAGE_CODE
    with translation.override(language):
        body = _("A secure message is waiting for you. Sign in to read it.")
    return {"title": settings.SITE_NAME, "body": body, "url": link, "lang": language}


def _text_waiting_message(*, user: User, message: Message) -> Notification:
    """Record the text notification; with a gateway and a number, queue it in the SMS outbox."""
    number = sms.normalise_number(user.phone)
    if number is None:
        status = Notification.Status.NO_ADDRESS
    elif sms.gateway() is None:
        status = Notification.Status.NO_PROVIDER
    else:
        status = Notification.Status.QUEUED
    notification = Notification.objects.create(
        user=user, message=message, channel=Notification.Channel.TEXT, status=status
    )
    if status == Notification.Status.QUEUED:
        link = links.site_url(conversation_link(message.conversation))
        text = OutgoingText.objects.create(
            notification=notification,
            to_number=number,
            body=text_waiting_body(user=user, link=link),
        )
        _enqueue(text)
    return notification


def _push_waiting_message(*, user: User, message: Message) -> Notification:
    """Record the push notification; with a VAPID key, queue one push per device turned on."""
    devices = list(PushDevice.objects.filter(user=user))
    if not push.is_configured():
        status = Notification.Status.NO_PROVIDER
    elif not devices:
        status = Notification.Status.NO_DEVICE
    else:
        status = Notification.Status.QUEUED
    notification = Notification.objects.create(
        user=user, message=message, channel=Notification.Channel.PUSH, status=status
    )
    if status == Notification.Status.QUEUED:
        for device in devices:
            _enqueue(OutgoingPush.objects.create(notification=notification, device=device))
    return notification


def _enqueue(item: NotificationOutbox) -> None:
    from haven.messaging.tasks import send_outgoing_push, send_outgoing_text

    task = send_outgoing_text if isinstance(item, OutgoingText) else send_outgoing_push
    if item.next_attempt_at > timezone.now():
        task = task.using(run_after=item.next_attempt_at)
    task.enqueue(item.pk)


def notification_max_attempts() -> int:
    return int(getattr(settings, "HAVEN_SMS_MAX_ATTEMPTS", 8))


def notification_retry_delay(attempts: int) -> timedelta:
    """Exponential backoff like the mail outbox's: one minute, two, four... at most six hours."""
    base = int(getattr(settings, "HAVEN_SMS_RETRY_SECONDS", 60))
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 6 * 3600))


def _claim(model: type[NotificationOutbox], pk: int) -> bool:
    """queued -> sending for one worker only: a conditional UPDATE that a second worker loses."""
    now = timezone.now()
    return bool(
        model.objects.filter(
            pk=pk, status=NotificationOutbox.Status.QUEUED, next_attempt_at__lte=now
        ).update(
            status=NotificationOutbox.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
    )


def outgoing_text_send(*, text_id: int) -> str:
    """Send one queued text; the worker runs this. Returns the text's new status.

    If the gateway took the text and its answer was lost, the retry carries the same
    Idempotency-Key and the gateway sends nothing new.
    """
    if not _claim(OutgoingText, text_id):
        return "not-claimed"
    text = OutgoingText.objects.select_related("notification__user").get(pk=text_id)
    user = text.notification.user
    if not (user.is_active and preferences_for(user).by_text):
        return _finish(text, status=OutgoingText.Status.CANCELLED, error="texts turned off")
    try:
        reference = sms.send(
            to=text.to_number, body=text.body, idempotency_key=str(text.idempotency_key)
        )
    except sms.GatewayError as error:
        return _failure(text, error)
    return _finish(text, status=OutgoingText.Status.SENT, gateway_reference=reference)


def outgoing_push_send(*, push_id: int) -> str:
    """Send one queued push to its device; the worker runs this. Returns the push's new status.

    A device its push service reports gone is forgotten. The push service keeps one notification
    per topic, so a push sent again after a lost answer shows once on the device.
    """
    if not _claim(OutgoingPush, push_id):
        return "not-claimed"
    item = OutgoingPush.objects.select_related(
        "notification__user", "notification__message__conversation", "device"
    ).get(pk=push_id)
    user, device = item.notification.user, item.device
    if device is None or not (user.is_active and preferences_for(user).by_push):
        return _finish(item, status=OutgoingPush.Status.CANCELLED, error="push turned off")
    link = links.site_url(conversation_link(item.notification.message.conversation))
    try:
        push.send(
            keys=push.BrowserKeys(endpoint=device.endpoint, p256dh=device.p256dh, auth=device.auth),
            payload=push_waiting_payload(user=user, link=link),
        )
    except push.PushError as error:
        if error.gone:  # the browser unsubscribed: as good as turning push off there
            PushDevice.objects.filter(pk=device.pk).delete()
            return _finish(item, status=OutgoingPush.Status.CANCELLED, error=str(error))
        return _failure(item, error)
    PushDevice.objects.filter(pk=device.pk).update(last_sent_at=timezone.now())
    return _finish(item, status=OutgoingPush.Status.SENT)


@transaction.atomic
def _finish(item: NotificationOutbox, *, status: str, error: str = "", **values) -> str:
    """sending -> `status`, once; the notification then says what happened on its channel."""
    values.update(status=status, last_error=error)
    if status == NotificationOutbox.Status.SENT:
        values["sent_at"] = timezone.now()
    type(item).objects.filter(pk=item.pk, status=NotificationOutbox.Status.SENDING).update(**values)
    _settle(type(item), item.notification_id)
    return status


def _settle(model: type[NotificationOutbox], notification_id: int) -> None:
    """A notification is sent when one of its rows was; failed or withdrawn when none is left."""
    rows = model.objects.filter(notification_id=notification_id)
    states = set(rows.values_list("status", flat=True))
    Status = NotificationOutbox.Status
    if Status.SENT in states:
        settled = Notification.Status.SENT
    elif states & {Status.QUEUED, Status.SENDING}:
        return
    elif Status.FAILED in states:
        settled = Notification.Status.FAILED
    else:
        settled = Notification.Status.WITHDRAWN
    Notification.objects.filter(pk=notification_id).update(status=settled)


@transaction.atomic
def _failure(item: NotificationOutbox, error: sms.GatewayError | push.PushError) -> str:
    if error.permanent or item.attempts >= notification_max_attempts():
        return _finish(item, status=NotificationOutbox.Status.FAILED, error=str(error))
    next_attempt_at = timezone.now() + notification_retry_delay(item.attempts)
    type(item).objects.filter(pk=item.pk, status=NotificationOutbox.Status.SENDING).update(
        status=NotificationOutbox.Status.QUEUED,
        last_error=str(error),
        next_attempt_at=next_attempt_at,
    )
    item.next_attempt_at = next_attempt_at
    _enqueue(item)
    return NotificationOutbox.Status.QUEUED


@transaction.atomic
def notifications_requeue_stale() -> int:
    """Put back texts and pushes stuck in "sending" (a worker died mid-send).

    A text keeps its Idempotency-Key and a push its topic, so one the provider already took is
    not shown twice.
    """
    timeout = int(getattr(settings, "HAVEN_MAIL_SENDING_TIMEOUT_SECONDS", 900))
    cutoff = timezone.now() - timedelta(seconds=timeout)
    count = 0
    for model in (OutgoingText, OutgoingPush):
        stale = model.objects.filter(
            status=NotificationOutbox.Status.SENDING, claimed_at__lt=cutoff
        ).values_list("pk", flat=True)
        now = timezone.now()
        for pk in list(stale):
            count += model.objects.filter(pk=pk, status=NotificationOutbox.Status.SENDING).update(
                status=NotificationOutbox.Status.QUEUED,
                next_attempt_at=now,
                last_error="the worker stopped while sending; sending again",
            )
            _enqueue(model(pk=pk, next_attempt_at=now))
    return count


# --- Push devices (MSG-4) -----------------------------------------------------------------------

MAX_PUSH_DEVICES = 10


@transaction.atomic
def push_device_add(
    *, user: User, endpoint: str, p256dh: str, auth: str, user_agent: str, actor: User
) -> PushDevice:
    """Remember a browser where the person turned push on, and turn push on in their choices.

    An endpoint belongs to one browser: if another account had it (two people on one computer),
    it moves to this one, so the other account's notifications stop going there.
    """
    if actor.pk != user.pk:
        raise PermissionDenied
    keys = push.checked_keys(endpoint=endpoint, p256dh=p256dh, auth=auth)
    others = PushDevice.objects.filter(user=user).exclude(endpoint=keys.endpoint)
    if others.count() >= MAX_PUSH_DEVICES:
        raise ValidationError(
            _("Push is on for %(count)s devices already. Remove one you no longer use first.")
            % {"count": MAX_PUSH_DEVICES},
            code="too_many",
        )
    from haven.security.services import describe_user_agent

    browser, system = describe_user_agent(user_agent)
    device, _created = PushDevice.objects.update_or_create(
        endpoint=keys.endpoint,
        defaults={
            "user": user,
            "p256dh": keys.p256dh,
            "auth": keys.auth,
            "label": _("%(browser)s on %(system)s") % {"browser": browser, "system": system},
            "created_at": timezone.now(),
        },
    )
    NotificationPreference.objects.update_or_create(
        user=user, defaults={"by_push": True, "updated_at": timezone.now()}
    )
    return device


@transaction.atomic
def push_device_remove(*, user: User, device_id: int | None = None, endpoint: str = "") -> int:
    """Forget one of the person's devices, by its id (device list) or endpoint (this browser)."""
    devices = PushDevice.objects.filter(user=user)
    if device_id is not None:
        devices = devices.filter(pk=device_id)
    elif endpoint:
        devices = devices.filter(endpoint=endpoint)
    else:
        return 0
    return devices.delete()[1].get("messaging.PushDevice", 0)


def recent_notifications_of(user: User, limit: int = 10) -> QuerySet[Notification]:
    """The person's latest text and push notifications and their state, for their own page."""
    channels = [Notification.Channel.TEXT, Notification.Channel.PUSH]
    return Notification.objects.filter(user=user, channel__in=channels).order_by("-created_at")[
        :limit
    ]


# --- Quarantine and rescanning (MSG-6) -------------------------------------------------------


def _schedule_rescan() -> None:
    from haven.messaging.tasks import rescan_quarantined

    rescan_quarantined.using(run_after=timezone.now() + RESCAN_DELAY).enqueue()


def quarantine_rescan(*, batch_size: int = 100) -> int:
    """Screen what waited while the scanner was down; returns how many still wait.

    Clean files become downloadable; infected ones are destroyed and marked refused, and an
    infected message body is withheld. Stops at the first sign the scanner is still down.
    """
    for model in (Attachment, Message):
        last_pk = 0
        while True:
            pending = model.objects.filter(scan_status=ScanStatus.PENDING, pk__gt=last_pk)
            related = "message__conversation" if model is Attachment else "conversation"
            batch = list(pending.select_related(related).order_by("pk")[:batch_size])
            if not batch:
                break
            for item in batch:
                if not _rescan_one(item):
                    return _still_waiting()
                last_pk = item.pk
    return _still_waiting()


def _rescan_one(item: Attachment | Message) -> bool:
    """Screen one waiting item; False when the scanner gave no verdict."""
    is_file = isinstance(item, Attachment)
    verdict = clamd.scan(item.unseal("content" if is_file else "body"))
    if verdict is clamd.Verdict.UNAVAILABLE:
        return False
    with transaction.atomic():
        if verdict is clamd.Verdict.INFECTED:
            item.scan_status = ScanStatus.REFUSED
            if is_file:
                item.content_sealed = b""
            else:
                item.seal("body", b"")
        else:
            item.scan_status = _status_for(verdict)
        if is_file:
            item.scanned_at = timezone.now()
            item.save(update_fields=["scan_status", "scanned_at", "content_sealed"])
        else:
            item.save(update_fields=["scan_status", "body_sealed"])
    return True


def _still_waiting() -> int:
    return (
        Attachment.objects.filter(scan_status=ScanStatus.PENDING).count()
        + Message.objects.filter(scan_status=ScanStatus.PENDING).count()
    )


# --- Retention (MSG-5) -----------------------------------------------------------------------


def past_retention(now: datetime | None = None) -> QuerySet[Conversation]:
    from haven.privacy.models import RetentionCategory
    from haven.privacy.retention import without_held

    cutoff = (now or timezone.now()) - timedelta(days=retention_days())
    due = Conversation.objects.filter(
        status=Conversation.Status.CLOSED, closed_at__lt=cutoff, legal_hold=False
    )
    # Also kept: conversations of members and accounts under a privacy officer's hold (LOG-5).
    return without_held(due, RetentionCategory.MESSAGES, account="account")


def messages_purge(*, batch_size: int = 200, now: datetime | None = None) -> int:
    """Delete conversations closed longer ago than the retention period, not under legal hold.

    One batch per transaction, so a long purge never holds locks for long and can be resumed.
    """
    deleted = 0
    while True:
        with transaction.atomic():
            batch = list(
                past_retention(now).order_by("pk").values_list("pk", flat=True)[:batch_size]
            )
            if not batch:
                break
            Conversation.objects.filter(pk__in=batch).delete()
        deleted += len(batch)
    Broadcast.objects.filter(conversations__isnull=True).delete()
    return deleted
