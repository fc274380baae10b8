"""Grants that let a caregiver or guardian act for a member within chosen scopes (ACC-8, ACC-9)."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

ADULT_GRANT_DAYS = 548  # 18 months, unless renewed


class Scope(models.TextChoices):
    """Parts of a member's record a grant can open. Sensitive categories are never among them."""

    PROFILE = "profile", _("Profile and contact details")
    MESSAGES = "messages", _("Secure messages")
    APPOINTMENTS = "appointments", _("Appointments")
    PLAN = "plan", _("Plan, benefits and ID card")
    CLAIMS = "claims", _("Claims")
    PRIVACY = "privacy", _("Privacy choices and requests")


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
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

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
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.member}"

    @property
    def is_current(self) -> bool:
        now = timezone.now()
        return (
            self.accepted_at is not None
            and self.revoked_at is None
            and self.starts_at <= now < self.expires_at
        )

    def allows(self, scope: str) -> bool:
        return self.is_current and scope in self.scopes

    @staticmethod
    def default_caregiver_expiry(start=None):
        return (start or timezone.now()) + timedelta(days=ADULT_GRANT_DAYS)
