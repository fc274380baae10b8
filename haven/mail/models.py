"""The outbox of outgoing e-mail, opt-outs, and the secure e-mail portal for people without an account."""

import secrets
import uuid

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from haven.lib import crypto
from haven.lib.hashing import lookup_hash
from haven.messaging.models import ScanStatus

ADDRESS_PURPOSE = "mail-address"


def address_hash(address: str) -> str:
    """The keyed hash that finds an address (opt-outs, portal recipients) without comparing text."""
    return lookup_hash(address.strip(), purpose=ADDRESS_PURPOSE)


def from_domain() -> str:
    """The organisation's own mail domain: every From address and Message-ID uses it (MAIL-6)."""
    configured = getattr(settings, "HAVEN_MAIL_FROM_DOMAIN", "")
    if configured:
        return configured
    return settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(" >")


def new_message_id() -> str:
    return f"<{uuid.uuid4().hex}@{from_domain()}>"


class Category(models.TextChoices):
    """Why an e-mail is sent; the category decides whether permission is needed (MAIL-7)."""

    REGISTRATION = "registration", _("About your registration")
    ANSWER = "answer", _("In answer to your request")
    REQUIRED_NOTICE = "required_notice", _("Notices the law requires")
    NOTIFICATION = "notification", _("Secure message notifications")
    REMINDER = "reminder", _("Reminders")
    NEWSLETTER = "newsletter", _("Newsletters")
    MARKETING = "marketing", _("News and offers")


# Sent without asking (000: registration, answers to the user, and notices required by law).
ALWAYS_ALLOWED = frozenset({Category.REGISTRATION, Category.ANSWER, Category.REQUIRED_NOTICE})
OPTIONAL = tuple(category for category in Category if category not in ALWAYS_ALLOWED)


class EmailStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    PORTAL = "portal", _("Delivered to the secure e-mail portal")
    SUPPRESSED = "suppressed", _("Not sent: no permission")


class OutgoingEmail(models.Model):
    """One e-mail in the outbox, written in the same transaction as its cause."""

    Status = EmailStatus

    message_id = models.CharField(max_length=200, unique=True, default=new_message_id)
    idempotency_key = models.CharField(max_length=200, unique=True)
    to_address = models.EmailField(_("to"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="outgoing_emails",
    )
    category = models.CharField(_("category"), max_length=24, choices=Category.choices)
    # Why Haven sends it, in words fit for the staff outbox page (never health information).
    reason = models.CharField(_("reason"), max_length=200)
    subject = models.CharField(_("subject"), max_length=200)
    text_body = models.TextField()
    html_body = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    # Portal notifications and copies go to the relay over TLS and never fall back to the portal.
    portal_fallback = models.BooleanField(default=True)
    via_relay = models.BooleanField(default=False)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # An opaque open-tracking token, only when the user agreed to tracking (MAIL-9).
    tracking_token = models.CharField(max_length=64, null=True, blank=True, unique=True)
    opened_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=EmailStatus.values),
                name="outgoing_email_status_known",
            ),
            models.CheckConstraint(
                condition=models.Q(category__in=Category.values),
                name="outgoing_email_category_known",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="sent") | models.Q(sent_at__isnull=False),
                name="outgoing_email_sent_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.message_id} ({self.status})"


class OptOut(models.Model):
    """An address, or a user, left one kind of optional e-mail (MAIL-8); found by keyed hash."""

    class Source(models.TextChoices):
        LINK = "link", _("Unsubscribe link in an e-mail")
        ONE_CLICK = "one_click", _("One-click unsubscribe from the mail program")
        REGISTRATION = "registration", _("At registration")
        SUPPORT = "support", _("Through support")
        PREFERENCES = "preferences", _("E-mail preferences")

    address_hash = models.CharField(max_length=64, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="email_opt_outs",
    )
    category = models.CharField(_("category"), max_length=24, choices=Category.choices)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(address_hash="") | models.Q(user__isnull=False),
                name="opt_out_names_someone",
            ),
            models.CheckConstraint(
                # Sorted: a set's order changes between processes and would churn migrations.
                condition=~models.Q(category__in=sorted(c.value for c in ALWAYS_ALLOWED)),
                name="opt_out_only_optional_categories",
            ),
            models.UniqueConstraint(
                fields=["user", "category"],
                condition=models.Q(user__isnull=False),
                name="opt_out_once_per_user_and_category",
            ),
            models.UniqueConstraint(
                fields=["address_hash", "category"],
                condition=~models.Q(address_hash=""),
                name="opt_out_once_per_address_and_category",
            ),
        ]

    def __str__(self) -> str:
        return f"opt-out of {self.category}"


class EmailPreference(models.Model):
    """A user's e-mail settings beyond opt-outs: open tracking is off unless they agree (MAIL-9)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_preference"
    )
    open_tracking = models.BooleanField(
        _("let Haven see when I open its e-mail"),
        default=False,
        help_text=_(
            "A tiny image in the e-mail tells Haven that it was opened. It is never linked to "
            "health information. Off unless you turn it on."
        ),
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"e-mail preferences of {self.user}"


class PortalRecipient(models.Model):
    """Someone without a Haven account who receives secure e-mail through the portal (MAIL-3)."""

    address = models.EmailField(_("e-mail address"))
    address_hash = models.CharField(max_length=64, unique=True)
    password = models.CharField(max_length=200, blank=True)
    password_set_at = models.DateTimeField(null=True, blank=True)
    # Bumped when the password changes, so earlier reset links and portal sessions stop working.
    credential_version = models.PositiveIntegerField(default=0)
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    locked_at = models.DateTimeField(null=True, blank=True)
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_signed_in_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"portal recipient {self.pk}"

    @property
    def has_password(self) -> bool:
        return bool(self.password)

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None

    def set_password(self, raw_password: str) -> None:
        self.password = make_password(raw_password)
        self.password_set_at = timezone.now()
        self.credential_version += 1
        self.failed_attempts = 0
        self.locked_at = None

    def check_password(self, raw_password: str) -> bool:
        return bool(self.password) and check_password(raw_password, self.password)


class Sealed(models.Model):
    """Fields stored encrypted under the record's own data key (haven.lib.crypto, MSG-3)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    wrapped_key = models.BinaryField(default=b"", editable=False)
    kek_id = models.CharField(max_length=32, db_index=True, default="", editable=False)

    ENVELOPE_LABEL = ""
    ENVELOPE_CONTEXT_FIELDS: tuple[str, ...] = ("uuid",)

    class Meta:
        abstract = True

    def envelope_context(self) -> bytes:
        return f"{self.ENVELOPE_LABEL}:{self.uuid}".encode()

    def _key(self) -> crypto.DataKey:
        if getattr(self, "_data_key", None) is None:
            if not self.kek_id and not self.wrapped_key:
                self._data_key = crypto.new_data_key(context=self.envelope_context())
                self.wrapped_key = self._data_key.wrapped
                self.kek_id = self._data_key.kek_id
            else:
                self._data_key = crypto.unwrap_data_key(
                    wrapped=self.wrapped_key, kek_id=self.kek_id, context=self.envelope_context()
                )
        return self._data_key

    def seal(self, field: str, value: str) -> None:
        context = self.envelope_context() + b"|" + field.encode()
        setattr(
            self, f"{field}_sealed", crypto.encrypt(self._key(), value.encode(), context=context)
        )

    def unseal(self, field: str) -> str:
        context = self.envelope_context() + b"|" + field.encode()
        return crypto.decrypt(
            self._key(), getattr(self, f"{field}_sealed"), context=context
        ).decode()


class PortalConversation(Sealed):
    """One conversation between a Haven sender and a portal recipient; shown one at a time (MAIL-5)."""

    ENVELOPE_LABEL = "mail.portal_conversation"

    recipient = models.ForeignKey(
        PortalRecipient, on_delete=models.CASCADE, related_name="conversations"
    )
    haven_sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="portal_conversations",
    )
    subject_sealed = models.BinaryField(default=b"", editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    last_message_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-last_message_at"]

    def __str__(self) -> str:
        return f"portal conversation {self.pk}"

    @property
    def subject(self) -> str:
        return self.unseal("subject")

    @subject.setter
    def subject(self, value: str) -> None:
        self.seal("subject", value)


class PortalMessage(Sealed):
    """A message in a portal conversation; its body is stored encrypted."""

    ENVELOPE_LABEL = "mail.portal_message"

    class Direction(models.TextChoices):
        FROM_HAVEN = "from_haven", _("From Haven")
        FROM_RECIPIENT = "from_recipient", _("From the recipient")

    conversation = models.ForeignKey(
        PortalConversation, on_delete=models.CASCADE, related_name="messages"
    )
    direction = models.CharField(max_length=16, choices=Direction.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body_sealed = models.BinaryField(default=b"", editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    # What people write is screened like the message center's (MSG-6): held from the other side
    # while it waits for the scanner, withheld if it proves infected. Haven's own diverted
    # e-mail (fixed wording) is not screened.
    scan_status = models.CharField(
        max_length=16, choices=ScanStatus.choices, default=ScanStatus.UNSCANNED
    )
    # The recipient asked for a copy of a reply that waits for the scanner: it goes once screened.
    copy_requested = models.BooleanField(default=False)
    # The form's key: a double submit or a retry after a timeout finds the first message.
    idempotency_key = models.UUIDField(null=True, blank=True, unique=True)
    # The e-mail whose body could not travel over TLS and came here instead (MAIL-2).
    diverted_email = models.OneToOneField(
        OutgoingEmail, null=True, blank=True, on_delete=models.SET_NULL, related_name="portal_copy"
    )

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(direction__in=["from_haven", "from_recipient"]),
                name="portal_message_direction_known",
            )
        ]

    def __str__(self) -> str:
        return f"portal message {self.pk}"

    @property
    def body(self) -> str:
        return self.unseal("body")

    @body.setter
    def body(self, value: str) -> None:
        self.seal("body", value)

    @property
    def is_withheld(self) -> bool:
        return self.scan_status == ScanStatus.REFUSED

    @property
    def is_being_checked(self) -> bool:
        return self.scan_status == ScanStatus.PENDING


def new_tracking_token() -> str:
    return secrets.token_urlsafe(24)
