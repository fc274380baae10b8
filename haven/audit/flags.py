"""Which staff accesses the privacy officer should look at, decided when they happen (AUD-4).

A relationship is a current care or service assignment (records.CareAssignment); later sources,
such as a recent conversation with the member, are added in `has_relationship`.
"""

from datetime import datetime, timedelta

from django.apps import apps
from django.conf import settings
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


def has_relationship(staff: User, member: Member, at: datetime) -> bool:
    assignment = apps.get_model("records", "CareAssignment")
    return (
        assignment.objects.current(timezone.localdate(at))
        .filter(staff=staff, member=member)
        .exists()
    )


def family_or_coworker(staff: User, member: Member) -> str | None:
    """FAMILY or COWORKER when the member is close to the staff member, else None.

    With the staff member's own roster entry: the same family, the same employer group (the plan's
    own workforce), or the same surname at the same postal code. Without it: the same surname.
    """
    own = StaffCoverage.objects.select_related("member").filter(staff=staff).first()
    surname = staff.last_name.strip().lower()
    same_surname = bool(surname) and member.last_name.strip().lower() == surname
    if own is None:
        return Flag.FAMILY if same_surname else None
    mine = own.member
    if member.family_head.pk == mine.family_head.pk:
        return Flag.FAMILY
    if same_surname and member.postal_code and member.postal_code == mine.postal_code:
        return Flag.FAMILY
    if member.group_id == mine.group_id:
        return Flag.COWORKER
    return None


def unusual_volume(staff: User, member: Member, at: datetime) -> bool:
    others = (
        AuditEvent.objects.filter(
            actor=staff, recorded_at__gte=at - timedelta(hours=1), member__isnull=False
        )
        .exclude(member=member)
        .values("member")
        .distinct()
        .count()
    )
    return others + 1 > volume_limit()


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
        if allowed and purpose in RELATIONSHIP_PURPOSES and not has_relationship(staff, member, at):
            flags.add(Flag.NO_RELATIONSHIP)
        close = family_or_coworker(staff, member)
        if close:
            flags.add(close)
        if allowed and unusual_volume(staff, member, at):
            flags.add(Flag.VOLUME)
    return sorted(str(flag) for flag in flags)
