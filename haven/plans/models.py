"""Plans, employer groups and the eligibility roster that members register against."""

from datetime import date

from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _


class Plan(models.Model):
    code = models.CharField(_("plan code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    carrier = models.CharField(_("carrier"), max_length=200)
    year = models.PositiveSmallIntegerField(_("plan year"))

    def __str__(self) -> str:
        return f"{self.name} ({self.year})"


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
