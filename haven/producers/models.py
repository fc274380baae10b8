"""Producers (brokers) and agencies, who see nothing private until staff approve them (ACC-2)."""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from haven.lib.hashing import lookup_hash

TAX_ID_PURPOSE = "producer-tax-id"
# Nine digits, as written on an EIN letter (12-3456789), a Social Security card (123-45-6789) or bare.
TAX_ID_FORMAT = re.compile(r"^(\d{9}|\d{2}-\d{7}|\d{3}-\d{2}-\d{4})$")
LICENCE_NUMBER_FORMAT = re.compile(r"^[A-Z0-9][A-Z0-9 .-]{1,28}[A-Z0-9]$")

# Producers are licensed by a US state or territory; the code keeps the licence key unambiguous.
US_STATES = [
    ("AL", _("Alabama")),
    ("AK", _("Alaska")),
    ("AS", _("American Samoa")),
    ("AZ", _("Arizona")),
    ("AR", _("Arkansas")),
    ("CA", _("California")),
    ("CO", _("Colorado")),
    ("CT", _("Connecticut")),
    ("DE", _("Delaware")),
    ("DC", _("District of Columbia")),
    ("FL", _("Florida")),
    ("GA", _("Georgia")),
    ("GU", _("Guam")),
    ("HI", _("Hawaii")),
    ("ID", _("Idaho")),
    ("IL", _("Illinois")),
    ("IN", _("Indiana")),
    ("IA", _("Iowa")),
    ("KS", _("Kansas")),
    ("KY", _("Kentucky")),
    ("LA", _("Louisiana")),
    ("ME", _("Maine")),
    ("MD", _("Maryland")),
    ("MA", _("Massachusetts")),
    ("MI", _("Michigan")),
    ("MN", _("Minnesota")),
    ("MS", _("Mississippi")),
    ("MO", _("Missouri")),
    ("MT", _("Montana")),
    ("NE", _("Nebraska")),
    ("NV", _("Nevada")),
    ("NH", _("New Hampshire")),
    ("NJ", _("New Jersey")),
    ("NM", _("New Mexico")),
    ("NY", _("New York")),
    ("NC", _("North Carolina")),
    ("ND", _("North Dakota")),
    ("MP", _("Northern Mariana Islands")),
    ("OH", _("Ohio")),
    ("OK", _("Oklahoma")),
    ("OR", _("Oregon")),
    ("PA", _("Pennsylvania")),
    ("PR", _("Puerto Rico")),
    ("RI", _("Rhode Island")),
    ("SC", _("South Carolina")),
    ("SD", _("South Dakota")),
    ("TN", _("Tennessee")),
    ("TX", _("Texas")),
    ("VI", _("U.S. Virgin Islands")),
    ("UT", _("Utah")),
    ("VT", _("Vermont")),
    ("VA", _("Virginia")),
    ("WA", _("Washington")),
    ("WV", _("West Virginia")),
    ("WI", _("Wisconsin")),
    ("WY", _("Wyoming")),
]


def _never_issued(compact: str, digits: str) -> bool:
    """Numbers the IRS and the Social Security Administration never issue."""
    if digits == "0" * 9:
        return True
    if len(compact) == 11:  # SSN: area, group, serial
        area, group, serial = digits[:3], digits[3:5], digits[5:]
        return area in ("000", "666") or area.startswith("9") or group == "00" or serial == "0000"
    if len(compact) == 10:  # EIN: the campus prefix
        return digits.startswith("00")
    return False


def tax_id_digits(value: str) -> str:
    """The nine digits of a US EIN or SSN, or a ValidationError that says what is wrong."""
    compact = "".join(value.split())
    if not TAX_ID_FORMAT.match(compact):
        raise ValidationError(
            _(
                "Enter a nine-digit tax ID: an EIN such as 12-3456789 "
                "or a Social Security number such as 123-45-6789."
            ),
            code="format",
        )
    digits = compact.replace("-", "")
    if _never_issued(compact, digits):
        raise ValidationError(
            _("That is not a tax ID the IRS or Social Security issues. Check the number."),
            code="invalid",
        )
    return digits


def tax_id_lookup_hash(value: str) -> str:
    """The keyed hash that stands in for a tax ID: it finds duplicates and reveals nothing."""
    return lookup_hash(tax_id_digits(value), purpose=TAX_ID_PURPOSE)


def licence_number_normalised(value: str) -> str:
    """A licence number as the state prints it: upper case, single spaces."""
    normalised = " ".join(value.split()).upper()
    if not LICENCE_NUMBER_FORMAT.match(normalised):
        raise ValidationError(
            _(
                "Enter the licence number as it appears on your licence: "
                "3 to 30 letters, digits, dashes or dots."
            ),
            code="invalid",
        )
    return normalised


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
    licence_region = models.CharField(
        _("licensing state or region"), max_length=64, choices=US_STATES
    )
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    address_line = models.CharField(_("address"), max_length=200)
    city = models.CharField(_("city"), max_length=100)
    region = models.CharField(_("state or region"), max_length=100, blank=True, choices=US_STATES)
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
            models.CheckConstraint(
                condition=models.Q(kind="individual") | ~models.Q(agency_name=""),
                name="producer_agency_has_name",
            ),
        ]
        ordering = ["submitted_at", "pk"]

    def __str__(self) -> str:
        return self.agency_name or self.legal_name

    @property
    def is_approved(self) -> bool:
        return self.status == self.Status.APPROVED

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING

    @property
    def is_rejected(self) -> bool:
        return self.status == self.Status.REJECTED


class ClientElement(models.TextChoices):
    """The administrative data elements of a member a producer may be authorised to see."""

    NAME = "name", _("Name")
    DATE_OF_BIRTH = "date_of_birth", _("Date of birth")
    MEMBER_ID = "member_id", _("Member ID")
    CONTACT = "contact", _("Address and phone")
    COVERAGE = "coverage", _("Plan and coverage dates")


class AuthorisationQuerySet(models.QuerySet):
    def current(self) -> "AuthorisationQuerySet":
        return self.filter(revoked_at__isnull=True)


class Authorisation(models.Model):
    """A member lets a producer see some of their administrative data, until they revoke it."""

    member = models.ForeignKey(
        "plans.Member", on_delete=models.PROTECT, related_name="producer_authorisations"
    )
    producer = models.ForeignKey(Producer, on_delete=models.PROTECT, related_name="authorisations")
    elements = models.JSONField(_("what the producer may see"), default=list)
    authorised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    authorised_at = models.DateTimeField(_("authorised"), default=timezone.now)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = AuthorisationQuerySet.as_manager()

    class Meta:
        ordering = ["-authorised_at", "-pk"]
        constraints = [
            # One current authorisation per member and producer: changing it updates that one.
            models.UniqueConstraint(
                fields=["member", "producer"],
                condition=models.Q(revoked_at__isnull=True),
                name="producer_authorisation_one_current",
            ),
            models.CheckConstraint(
                condition=models.Q(revoked_at__isnull=True) | models.Q(revoked_by__isnull=False),
                name="producer_authorisation_revoked_by_someone",
            ),
        ]

    def __str__(self) -> str:
        return f"authorisation {self.pk}"

    @property
    def is_current(self) -> bool:
        return self.revoked_at is None

    def element_labels(self) -> list[str]:
        labels = dict(ClientElement.choices)
        return [
            str(labels[element]) for element in ClientElement.values if element in self.elements
        ]


class ElementRequest(models.Model):
    """One element a producer asked to see for a client, kept without the client: the plan
    analyses which elements producers request, in aggregate only (LOG-4)."""

    producer = models.ForeignKey(Producer, on_delete=models.PROTECT, related_name="+")
    element = models.CharField(max_length=16, choices=ClientElement.choices)
    requested_on = models.DateField(default=timezone.localdate)

    class Meta:
        indexes = [models.Index(fields=["element", "producer"], name="producer_element_request")]

    def __str__(self) -> str:
        return f"{self.element} on {self.requested_on}"
