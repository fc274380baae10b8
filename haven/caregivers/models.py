"""Grants that let a caregiver or guardian act for a member within chosen scopes (ACC-8, ACC-9)."""

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

ADULT_GRANT_DAYS = 548  # 18 months, unless renewed
INVITATION_DAYS = 14  # an invitation link not accepted by then stops working

SENSITIVE_NEVER_GRANTED = _(
    "Sensitive health information (such as mental health, substance use, HIV and "
    "reproductive health) is never opened by a grant, whatever parts are chosen."
)


class Scope(models.TextChoices):
    """Parts of a member's record a grant can open. Sensitive categories are never among them."""

    PROFILE = "profile", _("Profile and contact details")
    MESSAGES = "messages", _("Secure messages")
    APPOINTMENTS = "appointments", _("Appointments")
    PLAN = "plan", _("Plan, benefits and ID card")
    CLAIMS = "claims", _("Claims")
    PRIVACY = "privacy", _("Privacy choices and requests")


def start_of_day(day: date) -> datetime:
    """Midnight at the start of `day` in the current time zone, as an aware datetime."""
    return timezone.make_aware(datetime.combine(day, time.min))


class GrantQuerySet(models.QuerySet):
    def current(self, at=None):
        at = at or timezone.now()
        return self.filter(
            accepted_at__isnull=False, revoked_at__isnull=True, starts_at__lte=at, expires_at__gt=at
        )


class Grant(models.Model):
    class Kind(models.TextChoices):
        CAREGIVER = "caregiver", _("Caregiver authorised by the member")
        GUARDIAN = "guardian", _("Parent or guardian of a minor")

    class Status(models.TextChoices):
        PENDING = "pending", _("Invitation not yet accepted")
        INVITATION_EXPIRED = "invitation_expired", _("Invitation expired")
        CURRENT = "current", _("Current")
        EXPIRED = "expired", _("Expired")
        REVOKED = "revoked", _("Revoked")

    member = models.ForeignKey("plans.Member", on_delete=models.PROTECT, related_name="grants")
    grantee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="grants_held",
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    scopes = models.JSONField(_("parts of the record"), default=list)
    starts_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    accepted_at = models.DateTimeField(null=True, blank=True)
    invitation_token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    invited_name = models.CharField(_("caregiver's name"), max_length=200, blank=True)
    # Guardian grants: what member services checked (documents of parenthood or guardianship).
    verification_note = models.TextField(_("documents checked"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    renewed_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revocation_note = models.TextField(_("why the grant ended"), blank=True)

    objects = GrantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("starts_at")),
                name="grant_expires_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(accepted_at__isnull=True) | models.Q(grantee__isnull=False),
                name="grant_accepted_has_grantee",
            ),
            models.CheckConstraint(
                condition=models.Q(revoked_at__isnull=True) | models.Q(revoked_by__isnull=False),
                name="grant_revoked_by_someone",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.member}"

    @property
    def is_current(self) -> bool:
        return self.status_at() == self.Status.CURRENT

    def allows(self, scope: str) -> bool:
        return self.is_current and scope in self.scopes

    @property
    def invitation_expires_at(self) -> datetime:
        return min(self.created_at + timedelta(days=INVITATION_DAYS), self.expires_at)

    def status_at(self, at: datetime | None = None) -> "Grant.Status":
        at = at or timezone.now()
        if self.revoked_at is not None:
            return self.Status.REVOKED
        if self.accepted_at is None:
            if at >= self.invitation_expires_at:
                return self.Status.INVITATION_EXPIRED
            return self.Status.PENDING
        if self.starts_at <= at < self.expires_at:
            return self.Status.CURRENT
        return self.Status.EXPIRED

    @property
    def status(self) -> "Grant.Status":
        return self.status_at()

    @property
    def last_day(self) -> date:
        """The last day on which the grant works (it ends at the start of the next day)."""
        return timezone.localdate(self.expires_at - timedelta(microseconds=1))

    def scope_labels(self) -> list[str]:
        labels = dict(Scope.choices)
        return [str(labels[scope]) for scope in Scope.values if scope in self.scopes]

    @staticmethod
    def default_caregiver_expiry(start=None):
        return (start or timezone.now()) + timedelta(days=ADULT_GRANT_DAYS)

    @staticmethod
    def last_day_limit(now: datetime | None = None) -> date:
        """The latest last day a caregiver grant may have: 18 months from now at most."""
        return timezone.localdate(Grant.default_caregiver_expiry(now)) - timedelta(days=1)
