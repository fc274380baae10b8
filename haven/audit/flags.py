"""Which staff accesses the privacy officer should look at, decided when they happen (AUD-4).

A relationship is a current care or service assignment (records.CareAssignment); later sources,
such as a recent conversation with the member, are added to `FACTS_SQL`. Everything a flag needs
is read in one query, since it runs on every staff page that shows member data.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.apps import apps
from django.conf import settings
from django.db import connection
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


# Plain SQL: this runs on every audited staff page, and building the equivalent ORM query with
# its subqueries takes many times longer than running it. Table names come from the models.
FACTS_SQL = """
SELECT
    EXISTS (SELECT 1 FROM {assignment} a WHERE a.staff_id = %s AND a.member_id = %s
            AND a.since <= %s AND (a.until IS NULL OR a.until >= %s)),
    (SELECT COUNT(DISTINCT e.member_id) FROM {event} e WHERE e.actor_id = %s
            AND e.recorded_at >= %s AND e.member_id IS NOT NULL AND e.member_id <> %s),
    m.subscriber_id, m.id, m.group_id, m.postal_code
FROM (SELECT 1 AS one) base
LEFT JOIN {coverage} c ON c.staff_id = %s
LEFT JOIN {member} m ON m.id = c.member_id
"""


def _facts(staff: User, member: Member, at: datetime) -> _Facts:
    ops = connection.ops
    sql = FACTS_SQL.format(
        assignment=ops.quote_name(apps.get_model("records", "CareAssignment")._meta.db_table),
        event=ops.quote_name(AuditEvent._meta.db_table),
        coverage=ops.quote_name(StaffCoverage._meta.db_table),
        member=ops.quote_name(Member._meta.db_table),
    )
    day = ops.adapt_datefield_value(timezone.localdate(at))
    since = ops.adapt_datetimefield_value(at - timedelta(hours=1))
    with connection.cursor() as cursor:
        cursor.execute(sql, [staff.pk, member.pk, day, day, staff.pk, since, member.pk, staff.pk])
        related, others, own_subscriber, own_member, own_group, own_postal = cursor.fetchone()
    return _Facts(
        related=bool(related),
        others_this_hour=others or 0,
        own_family=own_subscriber or own_member,
        own_group=own_group,
        own_postal_code=own_postal,
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
