"""The privacy center: contact preferences, consents, notices, rights requests, the recipients
registry and disclosures, and the breach register.

Consent records are append-only (CON-8): a withdrawal is a new row, never an edit. Access
archives are stored encrypted under their own data key (haven.lib.crypto) until their link expires.
"""

import secrets
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from haven.lib import crypto

# --- Contact preferences (CON-1) ------------------------------------------------------------


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    TEXT = "text", _("Text message")
    VOICE = "voice", _("Phone call")
    POST = "post", _("Post")


class Kind(models.TextChoices):
    """What a message is about, as members choose them."""

    NEWSLETTERS = "newsletters", _("Newsletters")
    HEALTH_REMINDERS = "health_reminders", _("Health reminders (screenings, vaccines)")
    QUESTIONNAIRES = "questionnaires", _("Questionnaires and surveys")
    APPOINTMENT_REMINDERS = "appointment_reminders", _("Appointment reminders")
    PLAN_NOTICES = "plan_notices", _("Plan notices (benefits, privacy notice, changes)")


class ContactChoice(models.Model):
    """One answer of a user's preferences grid: this kind of message, by this channel."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contact_choices"
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    kind = models.CharField(_("kind of message"), max_length=24, choices=Kind.choices)
    wanted = models.BooleanField(_("wanted"))
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "channel", "kind"], name="contact_choice_once_per_cell"
            ),
            models.CheckConstraint(
                condition=models.Q(channel__in=Channel.values), name="contact_choice_channel_known"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=Kind.values), name="contact_choice_kind_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} by {self.channel}"


# --- Consent records (CON-2, CON-3, CON-4, CON-6, CON-8) -------------------------------------


class Subject(models.TextChoices):
    """What a consent is about."""

    CONTACT = "contact", _("Contact preference")
    MARKETING = "marketing", _("Marketing authorisation")
    MEDICAL_DATA = "medical_data", _("Collection of medical data")
    ANALYTICS = "analytics", _("Site analytics (page-view counts)")
    LOCATION = "location", _("Precise location for finding care")
    NOTICE = "notice", _("Privacy notice acknowledged")


class Source(models.TextChoices):
    FORM = "form", _("The person's own choice on a form")
    BANNER = "banner", _("The cookie banner")
    BROWSER = "browser", _("The browser's permission prompt")
    SIGNAL = "signal", _("A browser privacy signal (GPC or Do Not Track)")
    STAFF = "staff", _("Recorded by staff")


class ConsentRecordQuerySet(models.QuerySet):
    def current(self, subject: str, scope: str | None = None):
        """The latest record about a subject (and scope, if given) decides; older ones are
        history."""
        records = self.filter(subject=subject)
        if scope is not None:
            records = records.filter(scope=scope)
        return records.order_by("-recorded_at", "-pk").first()


class ConsentRecord(models.Model):
    """One consent given or withdrawn, with the exact wording shown, its version and time (CON-8).

    Never changed or deleted: `save` refuses updates and PostgreSQL refuses them too.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="consent_records",
    )
    # A visitor who is not signed in: the random id kept in the cookie-choice cookie.
    visitor = models.CharField(max_length=32, blank=True)
    member = models.ForeignKey(
        "plans.Member", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    subject = models.CharField(_("about"), max_length=16, choices=Subject.choices)
    scope = models.CharField(_("scope"), max_length=64, blank=True)
    given = models.BooleanField(_("given"))
    version = models.CharField(_("version"), max_length=40)
    wording = models.TextField(_("wording shown"))
    language = models.CharField(_("language"), max_length=8)
    source = models.CharField(_("how"), max_length=8, choices=Source.choices)
    # A Global Privacy Control or Do Not Track signal the browser sent with this choice.
    signal = models.CharField(_("browser signal"), max_length=8, blank=True)
    # The person confirmed a choice that goes against their browser's signal.
    confirmed_against_signal = models.BooleanField(default=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)

    objects = ConsentRecordQuerySet.as_manager()

    class Meta:
        ordering = ["-recorded_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(user__isnull=False) | ~models.Q(visitor=""),
                name="consent_record_names_someone",
            ),
            models.CheckConstraint(
                condition=~models.Q(version="") & ~models.Q(wording=""),
                name="consent_record_has_version_and_wording",
            ),
        ]

    def __str__(self) -> str:
        return f"consent {self.pk}: {self.subject} {'given' if self.given else 'withdrawn'}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValidationError("consent records are append-only: record a new one")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("consent records are append-only")


class LocationPermission(models.Model):
    """When the browser's permission to use precise location was given, and for what (CON-3)."""

    class Purpose(models.TextChoices):
        FIND_FACILITY = "find_facility", _("Finding a facility near me")
        FIND_DOCTOR = "find_doctor", _("Finding a doctor near me")
        WAYFINDING = "wayfinding", _("Finding my way inside a facility")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="location_permissions"
    )
    purpose = models.CharField(_("used for"), max_length=16, choices=Purpose.choices)
    granted_at = models.DateTimeField(_("permission given"), default=timezone.now)
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-granted_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(purpose__in=["find_facility", "find_doctor", "wayfinding"]),
                name="location_only_for_finding_care",
            )
        ]

    def __str__(self) -> str:
        return f"location for {self.purpose}"

    @property
    def is_current(self) -> bool:
        return self.withdrawn_at is None


# --- Notices (NOT-1..6) ----------------------------------------------------------------------


class Notice(models.Model):
    """One version of the privacy notice, named by its revision date, with an effective date."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    revision_date = models.DateField(_("revision date"), unique=True)
    effective_date = models.DateField(_("effective date"))
    material = models.BooleanField(
        _("material change"),
        default=True,
        help_text=_("A material change is posted before it takes effect and members are told."),
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-revision_date"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(effective_date__gte=models.F("revision_date")),
                name="notice_effective_on_or_after_revision",
            ),
            models.CheckConstraint(
                condition=models.Q(status="draft", published_at__isnull=True)
                | models.Q(status="published", published_at__isnull=False),
                name="notice_published_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"notice {self.revision_date.isoformat()}"

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    def text_in(self, language: str) -> "NoticeText | None":
        texts = {text.language: text for text in self.texts.all()}
        return texts.get(language) or texts.get(settings.LANGUAGE_CODE)


class NoticeText(models.Model):
    """The officer's text of one notice version in one language (NOT-5)."""

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="texts")
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    title = models.CharField(_("title"), max_length=200)
    changes = models.TextField(_("what changed"), blank=True)
    body = models.TextField(
        _("text"), help_text=_("Paragraphs separated by a blank line; '## ' starts a heading.")
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["notice", "language"], name="notice_text_per_language")
        ]

    def __str__(self) -> str:
        return f"{self.notice} ({self.language})"


class NoticeCampaign(models.Model):
    """Telling every account holder of a published notice, run by the worker (progress shown)."""

    class Reason(models.TextChoices):
        NEW_VERSION = "new_version", _("A new version")
        REMINDER = "reminder", _("A reminder")

    notice = models.ForeignKey(Notice, on_delete=models.PROTECT, related_name="campaigns")
    reason = models.CharField(max_length=12, choices=Reason.choices)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"campaign {self.pk} for {self.notice}"

    @property
    def percent(self) -> int:
        return 100 if not self.total else int(100 * self.done / self.total)


class NoticeReceipt(models.Model):
    """That a person was told of a notice version, how, and when they acknowledged it (NOT-4)."""

    class How(models.TextChoices):
        EMAIL = "email", _("E-mail")
        PORTAL = "portal", _("Notice in the portal")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notice_receipts"
    )
    notice = models.ForeignKey(Notice, on_delete=models.PROTECT, related_name="receipts")
    reason = models.CharField(max_length=12, choices=NoticeCampaign.Reason.choices)
    how = models.CharField(max_length=8, choices=How.choices)
    told_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-told_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "notice"],
                condition=models.Q(reason="new_version"),
                name="notice_receipt_once_per_version",
            )
        ]

    def __str__(self) -> str:
        return f"receipt of {self.notice} by {self.user_id}"


class NoticeServed(models.Model):
    """Each time a signed-in person was shown a notice version, and in which form (NOT-2)."""

    class Form(models.TextChoices):
        PAGE = "page", _("Web page")
        PDF = "pdf", _("PDF")
        EMAIL = "email", _("E-mail")
        BANNER = "banner", _("Portal banner")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices_served"
    )
    notice = models.ForeignKey(Notice, on_delete=models.PROTECT, related_name="served")
    form = models.CharField(max_length=8, choices=Form.choices)
    language = models.CharField(max_length=8)
    served_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-served_at"]

    def __str__(self) -> str:
        return f"{self.notice} served as {self.form}"


class PrintedCopyRequest(models.Model):
    """A member asks for the notice on paper, by post; staff work the queue (NOT-1)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="printed_copy_requests"
    )
    notice = models.ForeignKey(Notice, on_delete=models.PROTECT, related_name="+")
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    address = models.TextField(_("postal address"))
    requested_at = models.DateTimeField(_("asked"), default=timezone.now)
    mailed_at = models.DateTimeField(_("posted"), null=True, blank=True)
    mailed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["requested_at"]

    def __str__(self) -> str:
        return f"printed copy request {self.pk}"


# --- Recipients and disclosures (RIG-3, RIG-4, DIS-5, DIS-6) --------------------------------


class RecipientCategory(models.TextChoices):
    AFFILIATE = "affiliate", _("Affiliate of the plan")
    SERVICE_PROVIDER = "service_provider", _("Service provider working for the plan")
    PLAN_SPONSOR = "plan_sponsor", _("Employer as sponsor of the plan")
    HEALTH_CARE = "health_care", _("Health care provider or other health plan")
    OVERSIGHT = "oversight", _("Health oversight agency")
    COURT = "court", _("Court or tribunal")
    PUBLIC_HEALTH = "public_health", _("Public health authority")


class DisclosurePurpose(models.TextChoices):
    """Why personal data may leave Haven. There is no purpose for selling or renting it (DIS-6)."""

    TREATMENT = "treatment", _("Treatment")
    PAYMENT = "payment", _("Payment")
    OPERATIONS = "operations", _("Health care operations")
    PLAN_ADMINISTRATION = "plan_administration", _("Administration of the employer's plan")
    REQUIRED_BY_LAW = "required_by_law", _("Required by law (oversight, public health)")
    LEGAL_PROCESS = "legal_process", _("Court order or other legal process")


# Disclosures the privacy officer records with their legal basis (DIS-5).
LEGAL_PURPOSES = (DisclosurePurpose.REQUIRED_BY_LAW, DisclosurePurpose.LEGAL_PROCESS)


class Recipient(models.Model):
    """A partner, affiliate or authority that may receive members' data: the registry (RIG-3)."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    category = models.CharField(_("kind"), max_length=24, choices=RecipientCategory.choices)
    country = models.CharField(
        _("country"), max_length=2, help_text=_("Two-letter ISO code, for example US or BE.")
    )
    address = models.TextField(_("address"), blank=True)
    purposes = models.JSONField(_("purposes"), default=list)
    description = models.CharField(_("what they do"), max_length=300, blank=True)
    active = models.BooleanField(_("may receive data"), default=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    added_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["category", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(category__in=RecipientCategory.values),
                name="recipient_category_known",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def purpose_labels(self) -> list[str]:
        labels = dict(DisclosurePurpose.choices)
        return [str(labels.get(purpose, purpose)) for purpose in self.purposes]


class Disclosure(models.Model):
    """What left Haven, to whom and why; its audit event is the record of the trail (DIS-5)."""

    # Whose data: a roster member's or, for someone with no roster entry (a consumer who booked
    # care), their own account's.
    member = models.ForeignKey(
        "plans.Member", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recipient = models.ForeignKey(Recipient, on_delete=models.PROTECT, related_name="disclosures")
    purpose = models.CharField(_("purpose"), max_length=24, choices=DisclosurePurpose.choices)
    description = models.CharField(_("data disclosed"), max_length=300)
    legal_basis = models.TextField(_("legal basis"), blank=True)
    audit_event = models.OneToOneField(
        "audit.AuditEvent", on_delete=models.PROTECT, related_name="disclosure"
    )
    disclosed_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-disclosed_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(purpose__in=DisclosurePurpose.values),
                name="disclosure_purpose_known",
            ),
            models.CheckConstraint(
                condition=~models.Q(purpose__in=[p.value for p in LEGAL_PURPOSES])
                | ~models.Q(legal_basis=""),
                name="disclosure_by_law_has_legal_basis",
            ),
            models.CheckConstraint(
                condition=models.Q(member__isnull=False, account__isnull=True)
                | models.Q(member__isnull=True, account__isnull=False),
                name="disclosure_names_one_subject",
            ),
        ]

    def __str__(self) -> str:
        return f"disclosure {self.pk}"


# --- Rights requests (RIG-1, RIG-2, RIG-4, RIG-7, ACC-11) ------------------------------------


class RequestKind(models.TextChoices):
    ACCESS = "access", _("A copy of my data")
    CORRECTION = "correction", _("Correct my data")
    DELETION = "deletion", _("Delete my account")
    ACCOUNTING = "accounting", _("An accounting of disclosures")
    RECIPIENTS = "recipients", _("The list of recipients of my data")


class RequestStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    IN_PROGRESS = "in_progress", _("In progress")
    EXTENDED = "extended", _("In progress, deadline extended")
    COMPLETED = "completed", _("Completed")
    REFUSED = "refused", _("Refused")
    WITHDRAWN = "withdrawn", _("Withdrawn")


OPEN_STATUSES = (RequestStatus.RECEIVED, RequestStatus.IN_PROGRESS, RequestStatus.EXTENDED)


class RightsRequest(models.Model):
    """A request under the member's rights, with its legal deadline and a status they follow."""

    class Identity(models.TextChoices):
        PASSWORD = "password", _("Signed in and confirmed the password")
        GRANT = "grant", _("Guardian or caregiver with a current grant for privacy")
        STAFF = "staff", _("Checked by staff (documents or security questions)")

    kind = models.CharField(_("request"), max_length=12, choices=RequestKind.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=RequestStatus.choices, default=RequestStatus.RECEIVED
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="rights_requests"
    )
    # Whose data: a roster member, or (for accounts without one) the requester's own account.
    member = models.ForeignKey(
        "plans.Member", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    law = models.CharField(_("law"), max_length=8)
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    due_on = models.DateField(_("due"))
    extended_due_on = models.DateField(_("extended to"), null=True, blank=True)
    extension_reason = models.TextField(_("reason for the extension"), blank=True)
    extended_at = models.DateTimeField(null=True, blank=True)
    extended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    identity = models.CharField(_("identity checked by"), max_length=12, choices=Identity.choices)
    identity_checked_at = models.DateTimeField(default=timezone.now)
    # Correction: which item is wrong, what it should say, why.
    field = models.CharField(_("what is wrong"), max_length=40, blank=True)
    proposed_value = models.CharField(_("what it should say"), max_length=200, blank=True)
    details = models.TextField(_("details"), blank=True)
    decision_reason = models.TextField(_("reason"), blank=True)
    disagreement = models.TextField(_("statement of disagreement"), blank=True)
    disagreement_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["status", "due_on"], name="rights_request_open_due")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=RequestKind.values), name="rights_request_kind_known"
            ),
            models.CheckConstraint(
                condition=models.Q(extended_due_on__isnull=True) | ~models.Q(extension_reason=""),
                name="rights_request_extension_has_reason",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="refused") | ~models.Q(decision_reason=""),
                name="rights_request_refusal_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"request {self.pk} ({self.kind})"

    @property
    def deadline(self):
        return self.extended_due_on or self.due_on

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def is_late(self, today=None) -> bool:
        return self.is_open and (today or timezone.localdate()) > self.deadline

    def days_left(self, today=None) -> int:
        return (self.deadline - (today or timezone.localdate())).days


class RequestEvent(models.Model):
    """One step of a request, in words the member reads on its page."""

    request = models.ForeignKey(RightsRequest, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    what = models.CharField(max_length=32)
    note = models.TextField(blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.what} on request {self.request_id}"


def new_download_token() -> str:
    return secrets.token_urlsafe(32)


class Archive(models.Model):
    """The access archive a worker builds for a request (RIG-1); encrypted until its link expires."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting to start")
        BUILDING = "building", _("Being prepared")
        READY = "ready", _("Ready to download")
        FAILED = "failed", _("Could not be prepared")
        EXPIRED = "expired", _("Link expired")

    ENVELOPE_LABEL = "privacy.archive"
    ENVELOPE_CONTEXT_FIELDS = ("uuid",)

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    wrapped_key = models.BinaryField(default=b"", editable=False)
    kek_id = models.CharField(max_length=32, db_index=True, default="", editable=False)
    request = models.OneToOneField(RightsRequest, on_delete=models.CASCADE, related_name="archive")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    step = models.CharField(max_length=64, blank=True)
    # Only the hash of the download token is kept; the link in the page carries the token.
    token_hash = models.CharField(max_length=64, unique=True)
    content_sealed = models.BinaryField(default=b"", editable=False)
    size = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    ready_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    downloaded_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"archive {self.pk}"

    def envelope_context(self) -> bytes:
        return f"{self.ENVELOPE_LABEL}:{self.uuid}".encode()

    def seal_content(self, content: bytes) -> None:
        data_key = crypto.new_data_key(context=self.envelope_context())
        self.wrapped_key, self.kek_id = data_key.wrapped, data_key.kek_id
        self.content_sealed = crypto.encrypt(
            data_key, content, context=self.envelope_context() + b"|content"
        )
        self.size = len(content)

    def content(self) -> bytes:
        data_key = crypto.unwrap_data_key(
            wrapped=bytes(self.wrapped_key), kek_id=self.kek_id, context=self.envelope_context()
        )
        return crypto.decrypt(
            data_key, bytes(self.content_sealed), context=self.envelope_context() + b"|content"
        )

    def is_expired(self, now=None) -> bool:
        return self.status == self.Status.EXPIRED or (
            self.expires_at is not None and (now or timezone.now()) >= self.expires_at
        )


class Erasure(models.Model):
    """What the erasure of an account erased, field by field, and what stays and why (ACC-11):
    at a deletion request, or by the nightly retention run once the account has been closed
    longer than the notice states (LOG-5), which has no request and no person acting."""

    class Cause(models.TextChoices):
        REQUEST = "request", _("Deletion request")
        CLOSED_ACCOUNT = "closed_account", _("Closed account past its retention period")

    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="erasures"
    )
    cause = models.CharField(max_length=16, choices=Cause.choices, default=Cause.REQUEST)
    request = models.OneToOneField(
        RightsRequest, null=True, blank=True, on_delete=models.PROTECT, related_name="erasure"
    )
    erased_fields = models.JSONField(default=list)
    kept = models.JSONField(default=list)
    erased_at = models.DateTimeField(default=timezone.now)
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            # A request's erasure names the request and the officer who carried it out; the
            # retention run's has neither.
            models.CheckConstraint(
                condition=models.Q(cause="request", request__isnull=False, erased_by__isnull=False)
                | models.Q(cause="closed_account", request__isnull=True),
                name="erasure_cause_matches_request",
            ),
            models.UniqueConstraint(fields=["account"], name="erasure_once_per_account"),
        ]

    def __str__(self) -> str:
        return f"erasure of account {self.account_id} ({self.cause})"


# --- Contact with the privacy officer (RIG-5) -----------------------------------------------


class Inquiry(models.Model):
    """A question for the privacy officer sent with the contact form."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(_("your name"), max_length=200)
    email = models.EmailField(_("your e-mail address"))
    message = models.TextField(_("your question"))
    received_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"inquiry {self.pk}"


# --- Breach register (RIG-6) ----------------------------------------------------------------


class Incident(models.Model):
    """A breach or suspected breach of members' data, its affected people and legal deadline."""

    class Status(models.TextChoices):
        OPEN = "open", _("Being assessed")
        NOTIFYING = "notifying", _("Notifying affected people")
        NOTIFIED = "notified", _("Affected people notified")
        CLOSED = "closed", _("Closed")

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("what happened (for the register)"))
    member_message = models.TextField(
        _("what affected people are told"),
        help_text=_("What happened, which data, what Haven is doing, and what they can do."),
    )
    discovered_at = models.DateTimeField(_("discovered"))
    occurred_from = models.DateTimeField(_("from"), null=True, blank=True)
    occurred_to = models.DateTimeField(_("until"), null=True, blank=True)
    notify_by = models.DateField(_("notify affected people by"))
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    notified_at = models.DateTimeField(null=True, blank=True)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-discovered_at"]

    def __str__(self) -> str:
        return f"incident {self.pk}"

    @property
    def percent(self) -> int:
        return 100 if not self.total else int(100 * self.done / self.total)

    def is_late(self, today=None) -> bool:
        return self.notified_at is None and (today or timezone.localdate()) > self.notify_by


class AffectedMember(models.Model):
    """A member whose data an incident may have exposed, and how they were told."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="affected")
    member = models.ForeignKey("plans.Member", on_delete=models.PROTECT, related_name="+")
    how_selected = models.CharField(max_length=200)
    notified_at = models.DateTimeField(null=True, blank=True)
    channels = models.JSONField(default=list)
    seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["incident", "member"], name="affected_once")]

    def __str__(self) -> str:
        return f"member {self.member_id} in incident {self.incident_id}"


class PageViewCount(models.Model):
    """How often a page was viewed on a day, by visitors who allowed site analytics (CON-4,
    CON-5). Counted by the page's URL name ("privacy:request_detail"), never its path (a path
    may hold an identifier or say something about health), and nothing about who viewed it."""

    day = models.DateField()
    page = models.CharField(max_length=120)
    views = models.PositiveIntegerField(default=0)
    # Views that began a visit: arriving from another site or from nowhere (LOG-2).
    entries = models.PositiveIntegerField(default=0)
    # Time on the page the browser reported on leaving it: a sum and how many reports.
    seconds = models.PositiveBigIntegerField(default=0)
    timed = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day", "page"]
        constraints = [
            models.UniqueConstraint(fields=["day", "page"], name="privacy_page_view_once_a_day")
        ]

    def __str__(self) -> str:
        return f"{self.page} on {self.day}: {self.views}"


class ReferrerCount(models.Model):
    """Visits that arrived from another site on a day, by that site's domain only (LOG-2)."""

    day = models.DateField()
    domain = models.CharField(max_length=255)
    visits = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day", "-visits"]
        constraints = [
            models.UniqueConstraint(fields=["day", "domain"], name="privacy_referrer_once_a_day")
        ]

    def __str__(self) -> str:
        return f"{self.domain} on {self.day}: {self.visits}"


# --- Retention runs and legal holds (LOG-5) --------------------------------------------------


class RetentionCategory(models.TextChoices):
    """What `haven privacy retention` erases, each on the period the notice states (facts)."""

    WEB_LOGS = "web_logs", _("Web server logs")
    MESSAGES = "messages", _("Secure messages")
    PORTAL = "portal", _("Secure e-mail portal messages")
    OUTBOX = "outbox", _("E-mails sent")
    CONSENTS = "consents", _("Replaced consent records")
    EXPORTS = "exports", _("Access archives (exports)")
    BACKUPS = "backups", _("Encrypted backups")
    CLOSED_ACCOUNTS = "closed_accounts", _("Closed accounts")


class LegalHold(models.Model):
    """A hold placed by the privacy officer: the member's or account's data in the categories
    named (all when none) is kept past its retention until the hold is lifted (LOG-5)."""

    member = models.ForeignKey(
        "plans.Member",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="legal_holds",
        verbose_name=_("member"),
    )
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="legal_holds",
        verbose_name=_("account"),
    )
    # Values of RetentionCategory; empty means every category.
    categories = models.JSONField(_("categories"), default=list, blank=True)
    reason = models.TextField(_("reason"))
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    placed_at = models.DateTimeField(default=timezone.now)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-placed_at"]
        verbose_name = _("legal hold")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(member__isnull=False) | models.Q(account__isnull=False),
                name="legal_hold_names_member_or_account",
            )
        ]

    def __str__(self) -> str:
        return f"legal hold {self.pk}"

    @property
    def is_active(self) -> bool:
        return self.lifted_at is None

    def covers(self, category: str) -> bool:
        return not self.categories or category in self.categories


class RetentionRun(models.Model):
    """One category's part of one nightly retention run: append-only (LOG-5)."""

    run = models.UUIDField(db_index=True)
    category = models.CharField(max_length=16, choices=RetentionCategory.choices)
    period_days = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    erased = models.PositiveIntegerField(default=0)
    held = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "category"]

    def __str__(self) -> str:
        return f"{self.category} {self.started_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError("A retention run is recorded once and never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("A retention run is never deleted.")
