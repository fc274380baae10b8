"""Producers (brokers) and agencies, who see nothing private until staff approve them (ACC-2)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Producer(models.Model):
    class Kind(models.TextChoices):
        INDIVIDUAL = "individual", _("Individual producer")
        AGENCY = "agency", _("Agency")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Not approved")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="producer"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    legal_name = models.CharField(_("legal name"), max_length=200)
    agency_name = models.CharField(_("agency name"), max_length=200, blank=True)
    # The tax ID itself is not kept: a keyed hash finds duplicates, the last digits help staff.
    tax_id_hash = models.CharField(max_length=64, unique=True)
    tax_id_last4 = models.CharField(max_length=4)
    licence_number = models.CharField(_("licence number"), max_length=64)
    licence_region = models.CharField(_("licensing state or region"), max_length=64)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    address_line = models.CharField(_("address"), max_length=200)
    city = models.CharField(_("city"), max_length=100)
    region = models.CharField(_("state or region"), max_length=100, blank=True)
    postal_code = models.CharField(_("ZIP or postal code"), max_length=16)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    submitted_at = models.DateTimeField(default=timezone.now)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(_("note to the producer"), blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["licence_number", "licence_region"], name="producer_licence_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(status="pending") | models.Q(reviewed_by__isnull=False),
                name="producer_reviewed_by_someone",
            ),
        ]

    def __str__(self) -> str:
        return self.agency_name or self.legal_name

    @property
    def is_approved(self) -> bool:
        return self.status == self.Status.APPROVED
