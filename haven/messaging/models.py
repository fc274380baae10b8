"""The secure message center: conversations between members and the plan's teams (MSG-1, MSG-2).

Subjects, message bodies, attachment names and contents are stored encrypted, each record under
its own data key (MSG-3, haven.lib.crypto). Topics and queues stay in clear: they route the work.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from haven.audit.policy import Sensitivity
from haven.lib import crypto


class Topic(models.TextChoices):
    CARE_QUESTION = "care_question", _("A question for my care team")
    PRESCRIPTIONS = "prescriptions", _("Prescriptions")
    CLAIMS = "claims", _("Claims and billing")
    COVERAGE = "coverage", _("Coverage and benefits")
    TECHNICAL = "technical", _("Technical help with the website")
    OTHER = "other", _("Something else")


class Queue(models.TextChoices):
    """The team that answers; its value is the staff role that works it."""

    CARE_TEAM = "care_team", _("Care team")
    CUSTOMER_SERVICE = "customer_service", _("Customer service")


# Each topic goes to one team's queue; clinical topics only ever reach the care team (AUD-2).
TOPIC_ROUTES: dict[str, tuple[str, bool]] = {
    Topic.CARE_QUESTION: (Queue.CARE_TEAM, True),
    Topic.PRESCRIPTIONS: (Queue.CARE_TEAM, True),
    Topic.CLAIMS: (Queue.CUSTOMER_SERVICE, False),
    Topic.COVERAGE: (Queue.CUSTOMER_SERVICE, False),
    Topic.TECHNICAL: (Queue.CUSTOMER_SERVICE, False),
    Topic.OTHER: (Queue.CUSTOMER_SERVICE, False),
}


class ScanStatus(models.TextChoices):
    PENDING = "pending_scan", _("Waiting to be screened")
    CLEAN = "clean", _("Screened")
    UNSCANNED = "unscanned", _("Not screened (no scanner configured)")
    REFUSED = "refused", _("Removed by screening")


class Sealed(models.Model):
    """A record with its own data key; subclasses name the fields kept in `<name>_sealed`."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    wrapped_key = models.BinaryField(editable=False)
    kek_id = models.CharField(max_length=32, db_index=True, editable=False)

    ENVELOPE_LABEL = ""
    ENVELOPE_CONTEXT_FIELDS: tuple[str, ...] = ("uuid",)

    class Meta:
        abstract = True

    def envelope_context(self) -> bytes:
        """Associated data that binds every ciphertext of this record to this row."""
        return f"{self.ENVELOPE_LABEL}:{self.uuid}".encode()

    def start_envelope(self, *, encrypt: bool = True) -> None:
        self._data_key = crypto.new_data_key(context=self.envelope_context(), encrypt=encrypt)
        self.wrapped_key = self._data_key.wrapped
        self.kek_id = self._data_key.kek_id

    def _key(self) -> crypto.DataKey:
        if getattr(self, "_data_key", None) is None:
            self._data_key = crypto.unwrap_data_key(
                wrapped=self.wrapped_key, kek_id=self.kek_id, context=self.envelope_context()
            )
        return self._data_key

    def seal(self, field: str, value: bytes) -> None:
        context = self.envelope_context() + b"|" + field.encode()
        setattr(self, f"{field}_sealed", crypto.encrypt(self._key(), value, context=context))

    def unseal(self, field: str) -> bytes:
        context = self.envelope_context() + b"|" + field.encode()
        return crypto.decrypt(self._key(), getattr(self, f"{field}_sealed"), context=context)


class Broadcast(Sealed):
    """One message the plan posted to many members: one conversation each (MSG-1).

    Large audiences are delivered by a background task; until every copy is written, the text
    waits here sealed under its own data key, and is wiped once delivery is done.
    """

    ENVELOPE_LABEL = "messaging.broadcast"

    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    topic = models.CharField(_("topic"), max_length=24, choices=Topic.choices)
    group = models.ForeignKey(
        "plans.EmployerGroup",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("employer group"),
    )
    # Roster primary keys chosen when it was sent (a snapshot: joining the group later is not
    # being sent the message).
    member_ids = models.JSONField(default=list)
    recipient_count = models.PositiveIntegerField(default=0)
    subject_sealed = models.BinaryField(default=b"", editable=False)
    body_sealed = models.BinaryField(default=b"", editable=False)
    body_status = models.CharField(
        max_length=16, choices=ScanStatus.choices, default=ScanStatus.CLEAN
    )
    idempotency_key = models.UUIDField(unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"broadcast {self.pk} to {self.recipient_count}"


class Conversation(Sealed):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    class Origin(models.TextChoices):
        MEMBER = "member", _("Started by the member")
        PLAN = "plan", _("Message from the plan")

    ENVELOPE_LABEL = "messaging.conversation"

    # Whose inbox: a roster member (and so their caregivers), or an account without one.
    member = models.ForeignKey(
        "plans.Member",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="conversations",
    )
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="account_conversations",
    )
    topic = models.CharField(_("topic"), max_length=24, choices=Topic.choices)
    queue = models.CharField(_("team"), max_length=24, choices=Queue.choices)
    is_clinical = models.BooleanField(default=False)
    # A protected category (haven.audit.policy.Sensitivity): never opened by a caregiver's or
    # guardian's grant, and only to the care team roles the policy table names.
    sensitive_category = models.CharField(
        _("sensitive category"), max_length=24, choices=Sensitivity.choices, blank=True
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    origin = models.CharField(max_length=8, choices=Origin.choices, default=Origin.MEMBER)
    subject_sealed = models.BinaryField(editable=False)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_conversations",
        verbose_name=_("assigned to"),
    )
    broadcast = models.ForeignKey(
        Broadcast, null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_message_at = models.DateTimeField(default=timezone.now, db_index=True)
    closed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    legal_hold = models.BooleanField(
        _("legal hold"),
        default=False,
        help_text=_("Kept past the retention period until the hold is lifted."),
    )

    class Meta:
        ordering = ["-last_message_at"]
        indexes = [models.Index(fields=["queue", "status", "-last_message_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(member__isnull=False, account__isnull=True)
                | models.Q(member__isnull=True, account__isnull=False),
                name="conversation_belongs_to_member_or_account",
            ),
            models.CheckConstraint(
                condition=models.Q(is_clinical=False) | models.Q(queue="care_team"),
                name="conversation_clinical_only_for_care_team",
            ),
            models.CheckConstraint(
                condition=models.Q(sensitive_category="") | models.Q(is_clinical=True),
                name="conversation_sensitive_category_is_clinical",
            ),
            models.CheckConstraint(
                condition=models.Q(status="open", closed_at__isnull=True)
                | models.Q(status="closed", closed_at__isnull=False),
                name="conversation_closed_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"conversation {self.pk}"

    @property
    def subject(self) -> str:
        return self.unseal("subject").decode()

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def is_sensitive(self) -> bool:
        return bool(self.sensitive_category)


class Message(Sealed):
    class Side(models.TextChoices):
        MEMBER = "member", _("Member")
        STAFF = "staff", _("Staff")

    ENVELOPE_LABEL = "messaging.message"
    ENVELOPE_CONTEXT_FIELDS = ("uuid", "conversation__uuid")

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    side = models.CharField(max_length=8, choices=Side.choices)
    body_sealed = models.BinaryField(editable=False)
    scan_status = models.CharField(
        max_length=16, choices=ScanStatus.choices, default=ScanStatus.PENDING
    )
    # The form's key: a double submit or a retry after a timeout finds the first message.
    idempotency_key = models.UUIDField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["author", "idempotency_key"], name="message_sent_once_per_key"
            )
        ]

    def __str__(self) -> str:
        return f"message {self.pk}"

    def envelope_context(self) -> bytes:
        return f"{self.ENVELOPE_LABEL}:{self.conversation.uuid}:{self.uuid}".encode()

    @property
    def body(self) -> str:
        return self.unseal("body").decode()

    @property
    def is_withheld(self) -> bool:
        return self.scan_status == ScanStatus.REFUSED

    @property
    def is_being_checked(self) -> bool:
        return self.scan_status == ScanStatus.PENDING


class Attachment(Sealed):
    class Kind(models.TextChoices):
        PDF = "application/pdf", "PDF"
        PNG = "image/png", "PNG"
        JPEG = "image/jpeg", "JPEG"
        TEXT = "text/plain", _("Plain text")

    ENVELOPE_LABEL = "messaging.attachment"
    ENVELOPE_CONTEXT_FIELDS = ("uuid", "message__uuid")

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    filename_sealed = models.BinaryField(editable=False)
    content_sealed = models.BinaryField(editable=False)
    content_type = models.CharField(max_length=32, choices=Kind.choices)
    size = models.PositiveIntegerField()
    scan_status = models.CharField(
        max_length=16, choices=ScanStatus.choices, default=ScanStatus.PENDING
    )
    scanned_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"attachment {self.pk}"

    def envelope_context(self) -> bytes:
        return f"{self.ENVELOPE_LABEL}:{self.message.uuid}:{self.uuid}".encode()

    @property
    def filename(self) -> str:
        return self.unseal("filename").decode()

    @property
    def can_be_opened(self) -> bool:
        return self.scan_status in (ScanStatus.CLEAN, ScanStatus.UNSCANNED)


class Participant(models.Model):
    """One person's place in a conversation: how far they have read, whether they archived it.

    Unread counts are computed from `last_read_at`, never stored, so they cannot drift.
    """

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="participants"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversation_places"
    )
    last_read_at = models.DateTimeField(null=True, blank=True)
    # Archived until a newer message arrives: then the conversation is back in the inbox.
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "user"], name="participant_once_per_conversation"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.conversation}"


class NotificationPreference(models.Model):
    """How a person wants to hear that a secure message is waiting (MSG-4)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="message_notifications"
    )
    by_email = models.BooleanField(_("E-mail"), default=True)
    by_text = models.BooleanField(_("Text message"), default=False)
    by_push = models.BooleanField(_("Push notification on my phone"), default=False)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"notifications for {self.user}"


class Notification(models.Model):
    """That someone was told a message is waiting, by which channel; it holds no message content."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        TEXT = "text", _("Text message")
        PUSH = "push", _("Push notification")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued for sending")
        NO_PROVIDER = "no_provider", _("Waiting: no provider configured for this channel")
        NO_ADDRESS = "no_address", _("Not sent: no address on file")
        NO_DEVICE = "no_device", _("Not sent: push is not turned on on any device")
        OPTED_OUT = "opted_out", _("Not sent: the person opted out of these e-mails")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Not sent: the provider refused it")
        WITHDRAWN = "withdrawn", _("Not sent: the person turned this channel off")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="message_alerts"
    )
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="notifications")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    status = models.CharField(max_length=16, choices=Status.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["message", "user", "channel"], name="notification_once_per_channel"
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel} to {self.user}"


class NotificationOutbox(models.Model):
    """What every notification outbox row has: a state, attempts with backoff, the last error.

    A row is written in the same transaction as the message it announces, claimed by one worker
    with a conditional UPDATE (queued -> sending) and finished once (sending -> sent, failed or
    cancelled), so two workers never send it both and nothing is lost when a worker dies.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Not sent: turned off")

    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="%(class)s_due"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["queued", "sending", "sent", "failed", "cancelled"]),
                name="%(class)s_status_known",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="sent") | models.Q(sent_at__isnull=False),
                name="%(class)s_sent_has_time",
            ),
        ]


class OutgoingText(NotificationOutbox):
    """One text in the SMS outbox, written in the same transaction as the message it announces.

    Its body is Haven's fixed wording (a secure message waits, and the link): never anything of
    the message (MSG-4). The idempotency key goes to the gateway, so a retry never sends twice.
    """

    notification = models.OneToOneField(Notification, on_delete=models.CASCADE, related_name="text")
    idempotency_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    to_number = models.CharField(_("to"), max_length=20)
    body = models.CharField(max_length=480)
    gateway_reference = models.CharField(max_length=100, blank=True)

    def __str__(self) -> str:
        return f"text {self.idempotency_key} ({self.status})"


class PushDevice(models.Model):
    """A browser or phone where the person turned push notifications on (MSG-4).

    The endpoint is the push service's address for that one browser, and the keys are the
    browser's own: Haven encrypts each notification for it alone. A device that the push service
    reports gone (404, 410) is deleted.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_devices"
    )
    endpoint = models.URLField(max_length=1000, unique=True)
    p256dh = models.CharField(max_length=100)
    auth = models.CharField(max_length=40)
    # "Firefox on Android": shown in the device list so the person knows which one to remove.
    label = models.CharField(_("device"), max_length=100)
    created_at = models.DateTimeField(_("turned on"), default=timezone.now)
    last_sent_at = models.DateTimeField(_("last notification"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"push device {self.pk} of {self.user_id}"


class OutgoingPush(NotificationOutbox):
    """One push notification to one device, in the push outbox. Its payload is made at sending
    time from Haven's fixed wording in the person's language and the link: never the message."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="pushes")
    # Null once the device is removed or gone: the row stays as the record of the attempt.
    device = models.ForeignKey(PushDevice, on_delete=models.SET_NULL, null=True, related_name="+")

    def __str__(self) -> str:
        return f"push {self.pk} ({self.status})"
