"""What a member may share with a provider when booking, field by field (DIS-1), and the smaller
set a referral passes on (DIS-2).

Each category names the parts of the member's record (haven.audit.policy resources) it opens and
the fields it copies. The copy is what the provider sees; nothing else of the record reaches them.
"""

from collections.abc import Iterable, Mapping
from datetime import date

from django.utils import formats
from django.utils.translation import gettext_lazy as _

from haven.accounts.models import ConsumerProfile, User
from haven.audit.policy import Resource, scopes_for
from haven.care.models import ShareCategory
from haven.plans.models import Member

C = ShareCategory

# The record's resources each category opens when it is disclosed.
RESOURCES: dict[str, tuple[str, ...]] = {
    C.CONTACT: (Resource.CONTACT,),
    C.DEMOGRAPHIC: (Resource.DEMOGRAPHICS,),
    C.INSURANCE: (Resource.COVERAGE, Resource.DEMOGRAPHICS),
    C.VISIT: (Resource.APPOINTMENTS,),
}

# The fields each category copies, in the order the provider sees them.
FIELDS: dict[str, tuple[str, ...]] = {
    C.CONTACT: ("address_line", "city", "region", "postal_code", "phone", "email"),
    C.DEMOGRAPHIC: ("first_name", "last_name", "date_of_birth", "gender"),
    C.INSURANCE: ("carrier", "plan", "group", "member_id"),
    C.VISIT: ("reason",),
}

# A referral books with another doctor: only what booking needs, never anything clinical (DIS-2).
REFERRAL_FIELDS: dict[str, tuple[str, ...]] = {
    C.DEMOGRAPHIC: ("first_name", "last_name"),
    C.CONTACT: ("phone", "email"),
    C.INSURANCE: ("carrier", "plan", "group", "member_id"),
}
REFERRAL_RESOURCES = (Resource.DEMOGRAPHICS, Resource.CONTACT, Resource.COVERAGE)

FIELD_LABELS = {
    "address_line": _("Address"),
    "city": _("City"),
    "region": _("State"),
    "postal_code": _("ZIP code"),
    "phone": _("Phone"),
    "email": _("E-mail"),
    "first_name": _("First name"),
    "last_name": _("Last name"),
    "date_of_birth": _("Date of birth"),
    "gender": _("Gender"),
    "carrier": _("Insurance carrier"),
    "plan": _("Plan"),
    "group": _("Group"),
    "member_id": _("Member ID"),
    "reason": _("Reason for the visit"),
}

HEADINGS = {
    C.CONTACT: _("Contact"),
    C.DEMOGRAPHIC: _("Name, date of birth and gender"),
    C.INSURANCE: _("Insurance"),
    C.VISIT: _("Visit"),
}

SHORT_LABELS = {
    C.CONTACT: _("contact"),
    C.DEMOGRAPHIC: _("name, date of birth and gender"),
    C.INSURANCE: _("insurance"),
    C.VISIT: _("reason for the visit"),
}


def ordered(categories: Iterable[str]) -> list[str]:
    chosen = set(categories)
    return [category for category in C.values if category in chosen]


def resources_for(categories: Iterable[str]) -> list[str]:
    """The record's resources that sharing these categories discloses, always with the
    appointment itself (its time and provider go to the provider in any case)."""
    resources = [Resource.APPOINTMENTS]
    for category in ordered(categories):
        for resource in RESOURCES[category]:
            if resource not in resources:
                resources.append(resource)
    return resources


def categories_open_to(user: User, member: Member | None, grant_scopes: Iterable[str]) -> list[str]:
    """What this user may share: everything of their own; for someone they act for, only the
    categories whose every part their grant's scopes open."""
    if member is None or user.member_id == member.pk:
        return list(C.values)
    scopes = set(grant_scopes)
    return [
        category
        for category in C.values
        if all(set(scopes_for(resource)) & scopes for resource in RESOURCES[category])
    ]


def member_values(member: Member, reason: str = "") -> dict[str, dict[str, str]]:
    """Every shareable field of a member's record, by category, as text."""
    account = User.objects.filter(member=member).first()
    plan = member.group.plan
    return {
        C.CONTACT: {
            "address_line": member.address_line,
            "city": member.city,
            "region": member.region,
            "postal_code": member.postal_code,
            "phone": member.phone or (account.phone if account else ""),
            "email": account.email if account else "",
        },
        C.DEMOGRAPHIC: {
            "first_name": member.first_name,
            "last_name": member.last_name,
            "date_of_birth": member.date_of_birth.isoformat(),
            "gender": member.gender,
        },
        C.INSURANCE: {
            "carrier": plan.carrier,
            "plan": plan.name,
            "group": member.group.group_number,
            "member_id": member.member_id,
        },
        C.VISIT: {"reason": reason},
    }


def consumer_values(user: User, reason: str = "") -> dict[str, dict[str, str]]:
    """A consumer's own details, from their account and sign-up profile (ACC-3)."""
    profile = ConsumerProfile.objects.filter(user=user).first()
    return {
        C.CONTACT: {
            "address_line": profile.address_line if profile else "",
            "city": profile.city if profile else "",
            "region": profile.region if profile else "",
            "postal_code": profile.postal_code if profile else "",
            "phone": user.phone,
            "email": user.email,
        },
        C.DEMOGRAPHIC: {"first_name": user.first_name, "last_name": user.last_name},
        C.INSURANCE: {
            "carrier": profile.insurance_carrier if profile else "",
            "plan": profile.insurance_plan if profile else "",
        },
        C.VISIT: {"reason": reason},
    }


def pick(
    values: Mapping[str, Mapping[str, str]], fields: Mapping[str, tuple[str, ...]]
) -> dict[str, dict[str, str]]:
    """Only the named fields of the named categories, and only those with a value."""
    picked = {}
    for category, names in fields.items():
        chosen = {
            name: values[category][name] for name in names if values.get(category, {}).get(name)
        }
        if chosen:
            picked[category] = chosen
    return picked


def _shown(name: str, value: str) -> str:
    """Dates and codes are kept as data and shown in the reader's language."""
    if name == "date_of_birth":
        try:
            return formats.date_format(date.fromisoformat(value), "DATE_FORMAT")
        except ValueError:
            return value
    if name == "gender":
        return str(dict(Member.Gender.choices).get(value, value))
    return value


def for_display(data: Mapping[str, Mapping[str, str]]) -> list[tuple[str, list[tuple[str, str]]]]:
    """Categories and their labelled values, in a fixed order, for templates."""
    return [
        (
            str(HEADINGS[category]),
            [
                (str(FIELD_LABELS[name]), _shown(name, data[category][name]))
                for name in FIELDS[category]
                if name in data[category]
            ],
        )
        for category in C.values
        if category in data
    ]
