"""Plans and their benefits, employer groups, the eligibility roster, claims, rate tables,
quotes and coverage applications.

Everything about a member's health (claims, their codes) is read only through the audited
accessor (haven/audit/access.py); these models hold it, they do not show it.
"""

import secrets
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

ZERO = Decimal("0.00")
HALF_CENT = Decimal("0.005")


def money(verbose_name, **options) -> models.DecimalField:
    """An amount in dollars and cents: never a float."""
    return models.DecimalField(verbose_name, max_digits=12, decimal_places=2, **options)


class Plan(models.Model):
    class NetworkType(models.TextChoices):
        PPO = "PPO", _("PPO: any provider, lower costs in network")
        HMO = "HMO", _("HMO: network providers, referrals from your primary care provider")
        EPO = "EPO", _("EPO: network providers only, no referrals")
        POS = "POS", _("POS: network providers, some cover out of network")

    code = models.CharField(_("plan code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    carrier = models.CharField(_("carrier"), max_length=200)
    year = models.PositiveSmallIntegerField(_("plan year"))
    network_type = models.CharField(
        _("network type"), max_length=3, choices=NetworkType.choices, default=NetworkType.PPO
    )
    deductible_individual = money(_("deductible, individual"), default=ZERO)
    deductible_family = money(_("deductible, family"), default=ZERO)
    out_of_pocket_max_individual = money(_("out-of-pocket maximum, individual"), default=ZERO)
    out_of_pocket_max_family = money(_("out-of-pocket maximum, family"), default=ZERO)
    # Printed on the ID card (PLAN-3).
    member_services_phone = models.CharField(_("member services phone"), max_length=32, blank=True)
    rx_bin = models.CharField(_("pharmacy BIN"), max_length=16, blank=True)
    rx_pcn = models.CharField(_("pharmacy PCN"), max_length=16, blank=True)
    rx_group = models.CharField(_("pharmacy group"), max_length=32, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(deductible_family__gte=models.F("deductible_individual")),
                name="plan_family_deductible_covers_individual",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    out_of_pocket_max_family__gte=models.F("out_of_pocket_max_individual")
                ),
                name="plan_family_oop_covers_individual",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.year})"


class ServiceCategory(models.TextChoices):
    """Kinds of care a benefit covers and a claim is for."""

    PREVENTIVE = "preventive", _("Preventive care")
    PRIMARY_CARE = "primary_care", _("Primary care visit")
    SPECIALIST = "specialist", _("Specialist visit")
    TELEHEALTH = "telehealth", _("Telehealth visit")
    URGENT_CARE = "urgent_care", _("Urgent care")
    EMERGENCY = "emergency", _("Emergency room")
    HOSPITAL = "hospital", _("Hospital stay")
    OUTPATIENT_SURGERY = "outpatient_surgery", _("Outpatient surgery")
    LAB = "lab", _("Laboratory tests")
    IMAGING = "imaging", _("Imaging (X-ray, CT, MRI)")
    MENTAL_HEALTH = "mental_health", _("Mental health and substance use care")
    MATERNITY = "maternity", _("Maternity care")
    THERAPY = "therapy", _("Physical, occupational and speech therapy")
    GENERIC_DRUGS = "generic_drugs", _("Generic drugs")
    BRAND_DRUGS = "brand_drugs", _("Brand-name drugs")
    SPECIALTY_DRUGS = "specialty_drugs", _("Specialty drugs")


class PlanBenefit(models.Model):
    """What a member pays for one kind of care under a plan, in and out of network."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="benefits")
    category = models.CharField(_("service"), max_length=24, choices=ServiceCategory.choices)
    in_network_copay = money(_("in-network copay"), null=True, blank=True)
    in_network_coinsurance = models.PositiveSmallIntegerField(
        _("in-network coinsurance (%)"), null=True, blank=True
    )
    in_network_deductible_applies = models.BooleanField(
        _("in network, deductible applies"), default=True
    )
    out_of_network_covered = models.BooleanField(_("covered out of network"), default=True)
    out_of_network_copay = money(_("out-of-network copay"), null=True, blank=True)
    out_of_network_coinsurance = models.PositiveSmallIntegerField(
        _("out-of-network coinsurance (%)"), null=True, blank=True
    )
    out_of_network_deductible_applies = models.BooleanField(
        _("out of network, deductible applies"), default=True
    )
    limits = models.CharField(_("limits"), max_length=200, blank=True)

    class Meta:
        ordering = ["plan", "category"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "category"], name="plan_benefit_unique"),
            models.CheckConstraint(
                condition=models.Q(in_network_coinsurance__lte=100)
                & models.Q(out_of_network_coinsurance__lte=100),
                name="plan_benefit_coinsurance_is_a_percentage",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan.code}: {self.get_category_display()}"


class EmployerGroup(models.Model):
    """An employer or other sponsor whose employees are covered under a plan."""

    group_number = models.CharField(_("group ID"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="groups")

    def __str__(self) -> str:
        return f"{self.name} ({self.group_number})"


class Member(models.Model):
    """One person on the eligibility roster: a subscriber or a dependant."""

    class Gender(models.TextChoices):
        FEMALE = "F", _("Female")
        MALE = "M", _("Male")
        OTHER = "X", _("Another gender")
        UNKNOWN = "U", _("Prefer not to say")

    class Relationship(models.TextChoices):
        SELF = "self", _("Subscriber")
        SPOUSE = "spouse", _("Spouse or partner")
        CHILD = "child", _("Child")
        OTHER = "other", _("Other dependant")

    member_id = models.CharField(_("member ID"), max_length=32, unique=True)
    group = models.ForeignKey(EmployerGroup, on_delete=models.PROTECT, related_name="members")
    subscriber = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="dependants"
    )
    relationship = models.CharField(
        max_length=8, choices=Relationship.choices, default=Relationship.SELF
    )
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices)
    date_of_birth = models.DateField(_("date of birth"))
    address_line = models.CharField(_("address"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    region = models.CharField(_("state or region"), max_length=100, blank=True)
    postal_code = models.CharField(_("ZIP or postal code"), max_length=16, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    coverage_start = models.DateField(_("coverage start"))
    coverage_end = models.DateField(_("coverage end"), null=True, blank=True)

    class Meta:
        indexes = [models.Index(Lower("last_name"), "date_of_birth", name="member_name_dob")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(subscriber__isnull=True, relationship="self")
                | (models.Q(subscriber__isnull=False) & ~models.Q(relationship="self")),
                name="member_subscriber_matches_relationship",
            )
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def family_head(self) -> "Member":
        return self.subscriber or self

    def age_on(self, day: date) -> int:
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    def birthday_of_age(self, years: int) -> date:
        """The date on which the member turns `years` old (29 February falls to 1 March)."""
        born = self.date_of_birth
        try:
            return born.replace(year=born.year + years)
        except ValueError:
            return date(born.year + years, 3, 1)

    def family(self) -> models.QuerySet["Member"]:
        head = self.family_head
        return Member.objects.filter(models.Q(pk=head.pk) | models.Q(subscriber=head))

    def is_covered_on(self, day: date) -> bool:
        return self.coverage_start <= day and (
            self.coverage_end is None or day <= self.coverage_end
        )


class Accumulator(models.Model):
    """What a member has paid towards the deductible and out-of-pocket maximum in a plan year.

    Stored, and recomputed from the member's claims by the claims import in the same transaction
    as the claims it read: pages read one row, and the figure always adds up to the claims shown.
    """

    # Indexed by the unique constraint below, which starts with it.
    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="accumulators", db_index=False
    )
    plan_year = models.PositiveSmallIntegerField(_("plan year"))
    deductible_met = money(_("deductible met"), default=ZERO)
    out_of_pocket_met = money(_("out-of-pocket met"), default=ZERO)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "plan_year"], name="accumulator_unique")
        ]

    def __str__(self) -> str:
        return f"accumulator {self.plan_year} #{self.member_id}"


class ClaimStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    IN_REVIEW = "in_review", _("In review")
    PENDING_INFORMATION = "pending_information", _("Waiting for information")
    APPROVED = "approved", _("Approved")
    DENIED = "denied", _("Denied")
    PAID = "paid", _("Paid")
    APPEALED = "appealed", _("Appealed")


# Claims whose member responsibility counts towards the deductible and out-of-pocket maximum.
COUNTED_STATUSES = (ClaimStatus.APPROVED, ClaimStatus.PAID)


class Claim(models.Model):
    """A claim for care a member received. Its codes are health data: read them via the accessor."""

    claim_number = models.CharField(_("claim number"), max_length=32, unique=True)
    # Indexed with the service date below.
    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="claims", db_index=False
    )
    service_start = models.DateField(_("first day of service"))
    service_end = models.DateField(_("last day of service"))
    received_on = models.DateField(_("received"))
    provider_name = models.CharField(_("provider"), max_length=200)
    provider_npi = models.CharField(_("provider NPI"), max_length=10, blank=True)
    in_network = models.BooleanField(_("in network"), default=True)
    service_category = models.CharField(
        _("service"), max_length=24, choices=ServiceCategory.choices, blank=True
    )
    status = models.CharField(_("status"), max_length=24, choices=ClaimStatus.choices)
    status_on = models.DateField(_("status since"))
    billed_amount = money(_("billed"))
    allowed_amount = money(_("allowed"), default=ZERO)
    plan_paid = money(_("plan paid"), default=ZERO)
    member_responsibility = money(_("you may owe"), default=ZERO)
    deductible_applied = money(_("applied to the deductible"), default=ZERO)
    diagnosis_codes = models.JSONField(_("diagnosis codes"), default=list, blank=True)
    procedure_codes = models.JSONField(_("procedure codes"), default=list, blank=True)

    class Meta:
        ordering = ["-service_start", "-pk"]
        indexes = [models.Index(fields=["member", "service_start"], name="claim_member_service")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(service_end__gte=models.F("service_start")),
                name="claim_service_end_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(billed_amount__gte=0)
                & models.Q(allowed_amount__gte=0)
                & models.Q(plan_paid__gte=0)
                & models.Q(member_responsibility__gte=0)
                & models.Q(deductible_applied__gte=0),
                name="claim_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(allowed_amount__lte=models.F("billed_amount")),
                name="claim_allowed_within_billed",
            ),
            # Half a cent of slack: SQLite adds decimals as floating point numbers.
            models.CheckConstraint(
                condition=models.Q(
                    allowed_amount__gte=models.F("plan_paid")
                    + models.F("member_responsibility")
                    - HALF_CENT
                ),
                name="claim_shares_within_allowed",
            ),
            models.CheckConstraint(
                condition=models.Q(deductible_applied__lte=models.F("member_responsibility")),
                name="claim_deductible_within_member_share",
            ),
        ]

    def __str__(self) -> str:
        return f"claim #{self.pk}"


class ClaimStatusChange(models.Model):
    """One step in a claim's history: the status it reached, and when."""

    # Indexed by the unique constraint below, which starts with it.
    claim = models.ForeignKey(
        Claim, on_delete=models.CASCADE, related_name="history", db_index=False
    )
    status = models.CharField(_("status"), max_length=24, choices=ClaimStatus.choices)
    on = models.DateField(_("date"))
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["claim", "status", "on"], name="claim_status_change_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.status} on {self.on}"


class Product(models.Model):
    """A plan offered to individuals and families, priced from its published rate table."""

    code = models.CharField(_("product code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    plan = models.ForeignKey(
        Plan,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="products",
        verbose_name=_("benefits of plan"),
    )
    year = models.PositiveSmallIntegerField(_("plan year"))
    published = models.BooleanField(_("published"), default=True)
    # Family-size rule: of the people under `child_age_limit`, only the oldest
    # `max_charged_children` pay a premium (the ACA's three-children rule by default).
    child_age_limit = models.PositiveSmallIntegerField(_("children are under"), default=21)
    max_charged_children = models.PositiveSmallIntegerField(
        _("children charged at most"), null=True, blank=True, default=3
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.year})"


class RatingArea(models.Model):
    """A county or region that shares one set of premiums; found from a ZIP code's prefix."""

    code = models.CharField(_("area code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def for_zip(cls, zip_code: str) -> "RatingArea | None":
        """The area of the longest matching prefix (a five-digit ZIP beats its three-digit prefix)."""
        prefixes = [zip_code[:length] for length in (5, 4, 3) if len(zip_code) >= length]
        match = (
            RatingAreaZip.objects.filter(prefix__in=prefixes)
            .select_related("area")
            .order_by(models.functions.Length("prefix").desc())
            .first()
        )
        return match.area if match else None


class RatingAreaZip(models.Model):
    area = models.ForeignKey(RatingArea, on_delete=models.CASCADE, related_name="zip_prefixes")
    prefix = models.CharField(_("ZIP prefix"), max_length=5, unique=True)

    def __str__(self) -> str:
        return self.prefix


class Rate(models.Model):
    """The monthly premium for one person of an age band in an area, by tobacco use."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="rates")
    area = models.ForeignKey(RatingArea, on_delete=models.PROTECT, related_name="rates")
    age_min = models.PositiveSmallIntegerField(_("from age"))
    age_max = models.PositiveSmallIntegerField(_("to age"))
    tobacco = models.BooleanField(_("tobacco use"), default=False)
    monthly_premium = money(_("monthly premium"))

    class Meta:
        ordering = ["product", "area", "tobacco", "age_min"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "area", "tobacco", "age_min"], name="rate_unique_band"
            ),
            models.CheckConstraint(
                condition=models.Q(age_max__gte=models.F("age_min")), name="rate_band_in_order"
            ),
            models.CheckConstraint(
                condition=models.Q(monthly_premium__gte=0), name="rate_premium_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product.code} {self.area.code} {self.band_label}"

    @property
    def band_label(self) -> str:
        return (
            str(self.age_min) if self.age_min == self.age_max else f"{self.age_min}-{self.age_max}"
        )


class Quote(models.Model):
    """What was quoted, kept only for the plan's aggregate analysis (LOG-4).

    No names, birth dates, ZIP codes or IP addresses: the area, the size of the family and the
    age bands. A producer is attached only when an approved producer quoted.
    """

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="quotes")
    area = models.ForeignKey(RatingArea, on_delete=models.PROTECT, related_name="quotes")
    family_size = models.PositiveSmallIntegerField(_("people"))
    age_bands = models.JSONField(_("age bands"), default=list)
    tobacco_users = models.PositiveSmallIntegerField(_("people using tobacco"), default=0)
    monthly_total = money(_("monthly premium"))
    producer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="quotes",
    )
    quoted_on = models.DateField(_("quoted on"), default=timezone.localdate)

    def __str__(self) -> str:
        return f"quote #{self.pk}"


# No 0/O or 1/I: the reference is read out over the phone.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def new_application_reference() -> str:
    code = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"HA-{code[:4]}-{code[4:]}"


class Application(models.Model):
    """A visitor's application for coverage, waiting in the staff queue (PLAN-4)."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Waiting for review")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")

    reference = models.CharField(
        _("reference"), max_length=16, unique=True, default=new_application_reference
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="applications")
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.SUBMITTED
    )
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    date_of_birth = models.DateField(_("date of birth"))
    tobacco = models.BooleanField(_("uses tobacco"), default=False)
    address_line = models.CharField(_("address"), max_length=200)
    city = models.CharField(_("city"), max_length=100)
    region = models.CharField(_("state or region"), max_length=100)
    postal_code = models.CharField(_("ZIP code"), max_length=10)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    submitted_at = models.DateTimeField(_("submitted"), default=timezone.now)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="the signed-in user who sent it (a producer for a client), if any",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["-submitted_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(phone__gt="") | models.Q(email__gt=""),
                name="application_has_contact",
            ),
            models.CheckConstraint(
                condition=models.Q(status="submitted", decided_by__isnull=True)
                | (
                    ~models.Q(status="submitted")
                    & models.Q(decided_by__isnull=False, decided_at__isnull=False)
                ),
                name="application_decided_by_someone",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class ApplicationPerson(models.Model):
    """Someone else the applicant wants covered: a spouse, a child, another dependant."""

    class Relationship(models.TextChoices):
        SPOUSE = "spouse", _("Spouse or partner")
        CHILD = "child", _("Child")
        OTHER = "other", _("Other dependant")

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="people")
    relationship = models.CharField(_("relationship"), max_length=8, choices=Relationship.choices)
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    date_of_birth = models.DateField(_("date of birth"))
    tobacco = models.BooleanField(_("uses tobacco"), default=False)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"person #{self.pk}"
