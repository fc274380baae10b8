"""What the privacy officer and compliance record: reviews of flagged access, privacy training."""

from datetime import date, datetime, time, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from haven.accounts.models import User
from haven.audit.models import AuditEvent, AuditReview, EventType, TrainingAttestation

REVIEWER_ROLES = (User.StaffRole.PRIVACY_OFFICER,)
# Compliance watches the trail and records training, but leaves findings to the privacy officer.
TRAIL_ROLES = (User.StaffRole.PRIVACY_OFFICER, User.StaffRole.COMPLIANCE)
TRAINING_RECORDER_ROLES = (User.StaffRole.PRIVACY_OFFICER, User.StaffRole.COMPLIANCE)
LONGEST_TRAINING_DAYS = 2 * 366


def start_of_day(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


@transaction.atomic
def review_record(*, event: AuditEvent, finding: str, note: str, actor: User) -> AuditReview:
    """The privacy officer's finding on an event, as a new row; the event stays as it was."""
    if not actor.has_staff_role(*REVIEWER_ROLES):
        raise PermissionDenied
    if event.actor_id == actor.pk:
        raise ValidationError(
            _("You cannot review your own access; another privacy officer reviews it."),
            code="own_access",
        )
    if not note.strip():
        raise ValidationError(_("Write what you found."), code="note")
    return AuditReview.objects.create(
        event=event, reviewer=actor, finding=finding, note=note.strip()
    )


@transaction.atomic
def training_record(
    *, staff: User, course: str, completed_on: date, valid_until: date, actor: User
) -> TrainingAttestation:
    """Compliance records a staff member's completed privacy training (AUD-5)."""
    if not actor.has_staff_role(*TRAINING_RECORDER_ROLES):
        raise PermissionDenied
    if not staff.is_staff_member:
        raise ValidationError(_("Training is recorded for staff members only."), code="staff")
    if staff.pk == actor.pk:
        raise ValidationError(_("Someone else records your own training."), code="self_attested")
    today = timezone.localdate()
    if completed_on > today:
        raise ValidationError(_("The course cannot be completed in the future."), code="future")
    if valid_until < completed_on or valid_until < today:
        raise ValidationError(
            _("The training must still be valid today: check the dates."), code="expired"
        )
    if (valid_until - completed_on).days > LONGEST_TRAINING_DAYS:
        raise ValidationError(_("Training is valid for two years at most."), code="too_long")
    return TrainingAttestation.objects.create(
        staff=staff,
        course=course.strip(),
        completed_at=start_of_day(completed_on),
        expires_at=start_of_day(valid_until + timedelta(days=1)),
        recorded_by=actor,
    )


def trail(
    *,
    member=None,
    staff: User | None = None,
    purpose: str = "",
    outcome: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
    flagged_only: bool = False,
    unreviewed_only: bool = False,
    include_trail_use: bool = False,
) -> QuerySet[AuditEvent]:
    """The audit trail filtered as the dashboard and its CSV report ask, newest first."""
    # Counted in a subquery, not grouped by the event: on PostgreSQL the trail is partitioned
    # and its `id` is not the table's primary key, so GROUP BY id cannot select the other columns.
    reviews = (
        AuditReview.objects.filter(event=OuterRef("pk"))
        .order_by()
        .values("event")
        .annotate(count=Count("pk"))
        .values("count")
    )
    events = AuditEvent.objects.select_related("actor", "member").annotate(
        review_count=Coalesce(Subquery(reviews), 0)
    )
    if member is not None:
        events = events.filter(member=member)
    if staff is not None:
        events = events.filter(actor=staff)
    if purpose:
        events = events.filter(purpose=purpose)
    if outcome:
        events = events.filter(outcome=outcome)
    if date_from:
        events = events.filter(recorded_at__gte=start_of_day(date_from))
    if date_to:
        events = events.filter(recorded_at__lt=start_of_day(date_to + timedelta(days=1)))
    if flagged_only:
        events = events.filter(flagged=True)
    if unreviewed_only:
        events = events.filter(reviews__isnull=True)
    if not include_trail_use and member is None:
        events = events.filter(~Q(type=EventType.TRAIL))
    return events.order_by("-sequence")
