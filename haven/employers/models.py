"""Employers as plan sponsors (DIS-3) and premium bills sent to payment partners (DIS-4).

An employer's account is linked to the group it sponsors and sees that group's enrolment and
administrative data, never claims or clinical data. Premium bills leave Haven only to a payment
partner in the privacy center's registry, as disclosures of payment data alone.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SponsorContact(models.Model):
    """An employer's account and the group it sponsors (administrators link them)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sponsor_contact"
    )
    group = models.ForeignKey(
        "plans.EmployerGroup",
        on_delete=models.PROTECT,
        related_name="sponsor_contacts",
        verbose_name=_("group"),
    )
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    linked_at = models.DateTimeField(_("linked"), default=timezone.now)

    class Meta:
        ordering = ["group__name", "user__username"]

    def __str__(self) -> str:
        return f"{self.user} for {self.group}"


class PaymentPartner(models.Model):
    """A company that collects premiums for the plan: a recipient in the privacy center's
    registry, allowed payment data."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    recipient = models.OneToOneField(
        "privacy.Recipient", on_delete=models.PROTECT, related_name="+"
    )

    def __str__(self) -> str:
        return self.name


class PremiumBill(models.Model):
    """What a subscriber owes for a month of coverage, and to which partner it was sent."""

    member = models.ForeignKey(
        "plans.Member", on_delete=models.PROTECT, related_name="premium_bills"
    )
    period = models.DateField(_("month"), help_text=_("The first day of the month billed."))
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)
    due_date = models.DateField(_("due date"))
    partner = models.ForeignKey(
        PaymentPartner, null=True, blank=True, on_delete=models.PROTECT, related_name="bills"
    )
    disclosure = models.OneToOneField(
        "privacy.Disclosure", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["due_date", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["member", "period"], name="premium_bill_one_a_month"),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="premium_not_negative"),
            models.CheckConstraint(
                condition=models.Q(partner__isnull=True, disclosure__isnull=True)
                | models.Q(partner__isnull=False, disclosure__isnull=False),
                name="premium_sent_with_its_disclosure",
            ),
        ]

    def __str__(self) -> str:
        return f"premium bill {self.pk}"
