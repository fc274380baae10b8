"""Members' health documents and the care or service assignments that relate staff to members.

Documents are read only through the audited accessor (haven/audit/access.py); these models hold
them, views never query them for display without it.
"""

from datetime import date

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from haven.audit.policy import Sensitivity, is_sensitive


class Category(models.TextChoices):
    """What a document is about. The sensitive categories come from the policy (AUD-1)."""

    VISIT_SUMMARY = "visit_summary", _("Visit summary")
    LAB_RESULT = "lab_result", _("Lab result")
    IMAGING = "imaging", _("Imaging report")
    IMMUNIZATION = "immunization", _("Immunization record")
    PRESCRIPTION = "prescription", _("Prescription")
    LETTER = "letter", _("Letter")
    MENTAL_HEALTH = Sensitivity.MENTAL_HEALTH.value, Sensitivity.MENTAL_HEALTH.label
    SUBSTANCE_USE = Sensitivity.SUBSTANCE_USE.value, Sensitivity.SUBSTANCE_USE.label
    REPRODUCTIVE_HEALTH = (
        Sensitivity.REPRODUCTIVE_HEALTH.value,
        Sensitivity.REPRODUCTIVE_HEALTH.label,
    )
    HIV = Sensitivity.HIV.value, Sensitivity.HIV.label
    GENETIC = Sensitivity.GENETIC.value, Sensitivity.GENETIC.label


class HealthDocument(models.Model):
    """A clinical document in a member's record: a visit summary, a result, a letter."""

    member = models.ForeignKey(
        "plans.Member", on_delete=models.PROTECT, related_name="health_documents"
    )
    title = models.CharField(_("title"), max_length=200)
    category = models.CharField(_("category"), max_length=24, choices=Category.choices)
    content = models.TextField(_("content"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("added by"),
    )
    created_at = models.DateTimeField(_("added"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["member", "category"], name="document_member_category")]

    def __str__(self) -> str:
        return f"document {self.pk}"

    @property
    def is_sensitive(self) -> bool:
        return is_sensitive(self.category)

    @property
    def filename(self) -> str:
        """A download name that says nothing about the member or the content."""
        return f"haven-document-{self.pk}.txt"


class CareAssignmentQuerySet(models.QuerySet):
    def current(self, day: date | None = None):
        day = day or timezone.localdate()
        return self.filter(since__lte=day).filter(
            models.Q(until__isnull=True) | models.Q(until__gte=day)
        )


class CareAssignment(models.Model):
    """A staff member's care or service relationship with a member; access without one is
    flagged for the privacy officer (AUD-4)."""

    class Kind(models.TextChoices):
        CARE = "care", _("Care team")
        SERVICE = "service", _("Member services case")

    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="care_assignments"
    )
    member = models.ForeignKey(
        "plans.Member", on_delete=models.PROTECT, related_name="care_assignments"
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.CARE)
    since = models.DateField(_("since"), default=timezone.localdate)
    until = models.DateField(_("until"), null=True, blank=True)

    objects = CareAssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["-since"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(until__isnull=True) | models.Q(until__gte=models.F("since")),
                name="care_assignment_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"assignment of staff {self.staff_id} to member {self.member_id}"
