"""Which staff accesses the privacy officer should look at, decided when they happen (AUD-4).

A relationship is a current care or service assignment (records.CareAssignment); later sources,
such as a recent conversation with the member, are added in `_facts`. Everything a flag needs is
read in one query, since it runs on every staff page that shows member data.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.apps import apps
from django.conf import settings
from django.db.models import Count, Exists, IntegerField, OuterRef, Subquery
from django.utils import timezone

from haven.accounts.models import User
from haven.audit.models import AuditEvent, Flag, StaffCoverage
from haven.audit.policy import Purpose
from haven.plans.models import Member

# Purposes under which staff are expected to know the member through their work.
RELATIONSHIP_PURPOSES = (Purpose.TREATMENT, Purpose.PAYMENT, Purpose.OPERATIONS)


def volume_limit() -> int:
    """More distinct members than this in an hour is unusual for one staff member."""
    return getattr(settings, "HAVEN_AUDIT_MEMBERS_PER_HOUR", 30)


def working_hours() -> tuple[int, int]:
    """Local hours [start, end) in which access is usual."""
    return getattr(settings, "HAVEN_AUDIT_WORKING_HOURS", (7, 20))


@dataclass
class _Facts:
    related: bool
    others_this_hour: int
    own_family: int | None  # the staff member's own roster entry: family head, group, postal code
    own_group: int | None
    own_postal_code: str | None


def _facts(staff: User, member: Member, at: datetime) -> _Facts:
    assignments = apps.get_model("records", "CareAssignment").objects.current(
        timezone.localdate(at)
    )
    coverage = StaffCoverage.objects.filter(staff=OuterRef("pk"))
    recent = (
        AuditEvent.objects.filter(
            actor=OuterRef("pk"), recorded_at__gte=at - timedelta(hours=1), member__isnull=False
        )
        .exclude(member=member)
        .values("actor")
        .annotate(members=Count("member", distinct=True))
        .values("members")
    )
    row = (
        User.objects.filter(pk=staff.pk)
        .annotate(
            related=Exists(assignments.filter(staff=OuterRef("pk"), member=member)),
            others=Subquery(recent, output_field=IntegerField()),
            own_subscriber=Subquery(coverage.values("member__subscriber_id")[:1]),
            own_member=Subquery(coverage.values("member_id")[:1]),
            own_group=Subquery(coverage.values("member__group_id")[:1]),
            own_postal_code=Subquery(coverage.values("member__postal_code")[:1]),
        )
        .values("related", "others", "own_subscriber", "own_member", "own_group", "own_postal_code")
        .get()
    )
    return _Facts(
        related=row["related"],
        others_this_hour=row["others"] or 0,
        own_family=row["own_subscriber"] or row["own_member"],
        own_group=row["own_group"],
        own_postal_code=row["own_postal_code"],
    )


def family_or_coworker(staff: User, member: Member, facts: _Facts) -> str | None:
    """FAMILY or COWORKER when the member is close to the staff member, else None.

    With the staff member's own roster entry: the same family, the same surname at the same postal
    code, or the same employer group (the plan's own workforce). Without it: the same surname.
    """
    surname = staff.last_name.strip().lower()
    same_surname = bool(surname) and member.last_name.strip().lower() == surname
    if facts.own_family is None:
        return Flag.FAMILY if same_surname else None
    if (member.subscriber_id or member.pk) == facts.own_family:
        return Flag.FAMILY
    if same_surname and member.postal_code and member.postal_code == facts.own_postal_code:
        return Flag.FAMILY
    if member.group_id == facts.own_group:
        return Flag.COWORKER
    return None


def outside_hours(at: datetime) -> bool:
    start, end = working_hours()
    return not start <= timezone.localtime(at).hour < end


def flags_for(
    *, staff: User, member: Member | None, purpose: str, allowed: bool, at: datetime
) -> list[str]:
    """The flags of one staff access, sorted, so they hash the same way every time."""
    flags = set()
    if not allowed:
        flags.add(Flag.DENIED)
    if purpose == Purpose.EMERGENCY:
        flags.add(Flag.BREAK_GLASS)
    if outside_hours(at):
        flags.add(Flag.HOURS)
    if member is not None:
        facts = _facts(staff, member, at)
        if allowed and purpose in RELATIONSHIP_PURPOSES and not facts.related:
            flags.add(Flag.NO_RELATIONSHIP)
        close = family_or_coworker(staff, member, facts)
        if close:
            flags.add(close)
        if allowed and facts.others_this_hour + 1 > volume_limit():
            flags.add(Flag.VOLUME)
    return sorted(str(flag) for flag in flags)
