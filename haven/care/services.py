"""Writes of finding and booking care: the directory, provider accounts, services and availability,
appointments (book, request, confirm, decline, move, cancel, refer) with what the member shares,
reminders, reviews and invitations.

A member's appointments are part of their record: booking, moving and cancelling go through the
audited accessor (haven.audit.access.change), and what they share with the provider is recorded by
the privacy center as a disclosure (haven.privacy.services.disclosure_record), which writes the
audit trail's disclosure event and appears in the member's accounting of disclosures (DIS-1).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from haven.accounts.models import User
from haven.audit import access
from haven.audit.models import Action
from haven.audit.policy import Purpose, Resource
from haven.care import geo, screening, sharing
from haven.care.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentEvent,
    AppointmentStatus,
    BookingMode,
    BookingPreference,
    Facility,
    Invitation,
    InvitationSuppression,
    Practitioner,
    PractitionerName,
    ProviderAccount,
    Reminder,
    ReminderChoice,
    Review,
    ReviewAnswer,
    Service,
    Slot,
    languages_mask,
)
from haven.caregivers.models import Grant, Scope
from haven.lib.hashing import lookup_hash
from haven.plans.models import Member

Event = AppointmentEvent.What
REMINDER_OFFSETS = {
    ReminderChoice.DAY_BEFORE: timedelta(days=1),
    ReminderChoice.HOURS_BEFORE: timedelta(hours=2),
}
PROVIDER_RECIPIENT_PURPOSES = ["treatment", "operations"]


class BookingRefused(ValidationError):
    """The booking, move or cancellation cannot happen; the message says why."""


def _who(actor: User, request: HttpRequest | None) -> access.Actor:
    return (
        access.Actor.from_request(request, user=actor)
        if request is not None
        else access.Actor(user=actor)
    )


def when(moment: datetime) -> str:
    """A time as people read it, in Haven's time zone and the active language."""
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


# --- The directory (CARE-1) ---------------------------------------------------------------------


@transaction.atomic
def practitioner_save(*, practitioner: Practitioner, languages: list[str]) -> Practitioner:
    """Save a directory entry with its languages and the words its name is found by."""
    practitioner.languages = languages_mask(languages)
    practitioner.full_clean(exclude=["recipient"])
    practitioner.save()
    PractitionerName.objects.filter(practitioner=practitioner).delete()
    PractitionerName.objects.bulk_create(name_index_rows(practitioner))
    return practitioner


def name_index_rows(practitioner: Practitioner) -> list[PractitionerName]:
    """The rows of the name index for one practitioner: each word of the name, with the name's
    sort order."""
    order = geo.sort_name(practitioner.first_name, practitioner.last_name)
    return [
        PractitionerName(practitioner_id=practitioner.pk, word=word, sort_name=order)
        for word in geo.name_words(f"{practitioner.first_name} {practitioner.last_name}")
    ]


@transaction.atomic
def facility_save(*, facility: Facility, languages: list[str]) -> Facility:
    facility.languages = languages_mask(languages)
    facility.search_name = geo.normalise(facility.name)
    facility.full_clean()
    facility.save()
    return facility


@transaction.atomic
def provider_account_link(
    *,
    user: User,
    practitioner: Practitioner,
    actor: User,
    role: str = ProviderAccount.Role.PRACTITIONER,
) -> ProviderAccount:
    """Link a provider's sign-in to its practice, and enter the practice in the privacy center's
    registry of recipients, so that members can share their data with it when they book."""
    if user.kind != User.Kind.PROVIDER:
        raise ValidationError(_("Only provider accounts can be linked to a practice."))
    if not actor.has_staff_role(User.StaffRole.ADMINISTRATOR, User.StaffRole.PRIVACY_OFFICER):
        raise PermissionDenied
    link, _created = ProviderAccount.objects.update_or_create(
        user=user, defaults={"practitioner": practitioner, "role": role}
    )
    if practitioner.recipient_id is None:
        from haven.privacy.models import Recipient, RecipientCategory

        recipient = Recipient.objects.create(
            name=f"{practitioner.display_name} (care directory {practitioner.pk})"[:200],
            category=RecipientCategory.HEALTH_CARE,
            country="US",
            address=practitioner.address,
            purposes=PROVIDER_RECIPIENT_PURPOSES,
            description="Provider chosen by members in Haven's care directory: receives what each member chooses to share when booking.",
            added_by=actor,
        )
        Practitioner.objects.filter(pk=practitioner.pk).update(recipient=recipient)
        practitioner.recipient = recipient
    return link


def provider_view_record(
    *, appointment: Appointment, actor: User, request: HttpRequest | None = None
) -> None:
    """Record in the audit trail that the practice looked at the copy a member shared with it:
    the accessor checks the appointment is with this practice and names the provider account."""
    access.read(
        member=appointment.member,
        resource=sharing.resources_for(appointment.shared),
        purpose=Purpose.TREATMENT,
        record_id=appointment.pk,
        actor=actor,
        request=request,
        subtype="provider-view",
    )


def practice_of(user: User) -> Practitioner | None:
    """The practice a provider account works for, or None."""
    if not user.is_authenticated or user.kind != User.Kind.PROVIDER:
        return None
    link = ProviderAccount.objects.filter(user=user).select_related("practitioner").first()
    return link.practitioner if link else None


def works_for(user: User, practitioner_id: int) -> bool:
    return (
        user.is_authenticated
        and user.kind == User.Kind.PROVIDER
        and ProviderAccount.objects.filter(user=user, practitioner_id=practitioner_id).exists()
    )


def _require_practice(actor: User, practitioner: Practitioner) -> None:
    if not works_for(actor, practitioner.pk):
        raise PermissionDenied


# --- Services and availability (CARE-2) ---------------------------------------------------------


@transaction.atomic
def service_update(
    *, service: Service, booking: str, duration_minutes: int, actor: User
) -> Service:
    """The practice chooses how members book each kind of visit."""
    _require_practice(actor, service.practitioner)
    if booking not in BookingMode.values:
        raise ValidationError(_("Choose how members book this visit."))
    service.booking = booking
    service.duration_minutes = duration_minutes
    service.full_clean()
    service.save(update_fields=["booking", "duration_minutes"])
    return service


@transaction.atomic
def service_add(
    *, practitioner: Practitioner, visit_type: str, booking: str, actor: User
) -> Service:
    _require_practice(actor, practitioner)
    service, _created = Service.objects.get_or_create(
        practitioner=practitioner, visit_type=visit_type, defaults={"booking": booking}
    )
    return service


@transaction.atomic
def availability_publish(
    *,
    service: Service,
    first_day: date,
    last_day: date,
    weekdays: list[int],
    start: time,
    end: time,
    actor: User,
) -> int:
    """Publish the service's times on the chosen weekdays between two times of day; times the
    practice has already published are kept as they are, and no new time overlaps one of them,
    whatever its visit. Returns how many were added.

    The practice's row is locked first, so two publications for the same practice run one after
    the other; on PostgreSQL an exclusion constraint refuses overlapping times whatever the path
    (a trigger does on SQLite)."""
    practitioner = service.practitioner
    _require_practice(actor, practitioner)
    _lock_practice(practitioner.pk)
    today = timezone.localdate()
    if first_day < today or last_day < first_day:
        raise ValidationError(_("Choose dates from today on, the last not before the first."))
    if (last_day - first_day).days > 92:
        raise ValidationError(_("Publish at most three months at a time."))
    if end <= start:
        raise ValidationError(_("The end of the day must come after its start."))
    length = timedelta(minutes=service.duration_minutes)
    zone = timezone.get_current_timezone()
    nearby = Slot.objects.filter(
        practitioner=practitioner,
        starts_at__date__gte=first_day - timedelta(days=1),
        starts_at__date__lte=last_day + timedelta(days=1),
    )
    existing = set(nearby.values_list("starts_at", flat=True))
    published = list(nearby.filter(withdrawn_at__isnull=True).values_list("starts_at", "ends_at"))
    now = timezone.now()
    new = []
    day = first_day
    while day <= last_day:
        if day.weekday() in weekdays:
            moment = datetime.combine(day, start, tzinfo=zone)
            closing = datetime.combine(day, end, tzinfo=zone)
            while moment + length <= closing:
                overlaps = any(
                    begins < moment + length and moment < ends for begins, ends in published
                )
                if moment > now and moment not in existing and not overlaps:
                    new.append(
                        Slot(
                            practitioner=practitioner,
                            service=service,
                            starts_at=moment,
                            ends_at=moment + length,
                        )
                    )
                moment += length
        day += timedelta(days=1)
    try:
        with transaction.atomic():
            Slot.objects.bulk_create(new)
    except IntegrityError as error:  # only if something wrote times beside this practice's lock
        raise ValidationError(
            _("Some of these times overlap times just published. Please try again.")
        ) from error
    return len(new)


def _lock_practice(practitioner_id: int) -> None:
    """Hold the practice's row until the transaction ends (PostgreSQL; SQLite writes one at a
    time anyway): its schedule changes and bookings then happen one after the other."""
    list(Practitioner.objects.select_for_update().filter(pk=practitioner_id).values_list("pk"))


@transaction.atomic
def slot_withdraw(*, slot: Slot, actor: User) -> Slot:
    """Take a free time off the schedule; a booked time is cancelled through its appointment."""
    _require_practice(actor, slot.practitioner)
    slot = Slot.objects.select_for_update().get(pk=slot.pk)
    if Appointment.objects.filter(slot=slot, status__in=ACTIVE_STATUSES).exists():
        raise BookingRefused(_("This time is booked: cancel the appointment instead."))
    slot.withdrawn_at = slot.withdrawn_at or timezone.now()
    slot.save(update_fields=["withdrawn_at"])
    return slot


# --- Booking (CARE-2, DIS-1) --------------------------------------------------------------------


@dataclass(frozen=True)
class Booking:
    """Who an appointment is for and on whose authority: a member (themselves, or through a
    caregiver's or guardian's grant) or a consumer's own account."""

    member: Member | None
    account: User | None
    grant: Grant | None

    def categories_open_to(self, actor: User) -> list[str]:
        scopes = self.grant.scopes if self.grant is not None else []
        return sharing.categories_open_to(actor, self.member, scopes)


def booking_for(actor: User, member: Member | None) -> Booking:
    """Whom `actor` may book for: their own record, the member they act for within the
    appointments scope, or (a consumer) themselves. Refuses anything else."""
    from haven.caregivers.services import grant_for

    if member is None:
        if actor.kind == User.Kind.CONSUMER:
            return Booking(member=None, account=actor, grant=None)
        raise PermissionDenied
    if actor.member_id == member.pk:
        return Booking(member=member, account=None, grant=None)
    grant = grant_for(actor, member, Scope.APPOINTMENTS)
    if grant is None:
        raise PermissionDenied
    return Booking(member=member, account=None, grant=grant)


def _bookable(slot: Slot) -> None:
    if slot.withdrawn_at is not None or slot.starts_at <= timezone.now():
        raise BookingRefused(_("This time is no longer offered. Choose another."))
    if not slot.service.bookable:
        raise BookingRefused(_("This practice takes bookings for this visit by phone only."))
    if slot.practitioner.recipient_id is None:
        raise BookingRefused(_("This practice does not take bookings through Haven yet."))


def _status_for(service: Service) -> str:
    return (
        AppointmentStatus.CONFIRMED
        if service.booking == BookingMode.DIRECT
        else AppointmentStatus.REQUESTED
    )


def _hold(slot: Slot, appointment: Appointment | None = None) -> Slot:
    """Lock the slot (PostgreSQL: until the transaction ends) and make sure no active booking
    holds it; the database's unique constraint refuses whatever slips past."""
    _lock_practice(slot.practitioner_id)
    locked = (
        Slot.objects.select_for_update().select_related("service", "practitioner").get(pk=slot.pk)
    )
    active = Appointment.objects.filter(status__in=ACTIVE_STATUSES)
    if appointment is not None:
        active = active.exclude(pk=appointment.pk)
    if active.filter(slot=locked).exists():
        raise BookingRefused(_("This time has just been taken. Choose another."))
    # Another visit of the same practice at an overlapping time (times published before
    # overlaps were refused, or written around the schedule): the practice cannot be in two
    # places at once.
    if active.filter(
        practitioner_id=locked.practitioner_id,
        slot__starts_at__lt=locked.ends_at,
        slot__ends_at__gt=locked.starts_at,
    ).exists():
        raise BookingRefused(
            _("The practice already has an appointment at this time. Choose another.")
        )
    return locked


def _save_or_refuse(appointment: Appointment, **options) -> None:
    try:
        with transaction.atomic():
            appointment.save(**options)
    except IntegrityError as error:
        raise BookingRefused(_("This time has just been taken. Choose another.")) from error


def _disclosure_description(categories: list[str]) -> str:
    parts = [str(sharing.SHORT_LABELS[category]) for category in sharing.ordered(categories)]
    listed = ", ".join(parts) if parts else _("nothing beyond the appointment")
    return _("Appointment booked through Haven: the appointment time and %(parts)s.") % {
        "parts": listed
    }


def _disclose_to_provider(
    *,
    appointment: Appointment,
    categories: list[str],
    who: access.Actor,
    request: HttpRequest | None,
    description: str,
    purpose: str,
) -> tuple[list[str], object]:
    """Record the sharing with the privacy center (registry, audit trail, accounting) and return
    the categories the accessor actually opened, with the disclosure."""
    from haven.privacy.services import disclosure_record

    disclosure = disclosure_record(
        member=appointment.member,
        account=appointment.account if appointment.member is None else None,
        recipient=appointment.practitioner.recipient,
        purpose=purpose,
        resources=sharing.resources_for(categories),
        description=description,
        actor=who,
        request=request,
    )
    opened = set(disclosure.audit_event.entity)
    given = [
        category
        for category in categories
        if all(resource in opened for resource in sharing.RESOURCES[category])
    ]
    return given, disclosure


def appointment_book(
    *,
    slot: Slot,
    booking: Booking,
    shared: list[str],
    reason: str = "",
    reminders: list[str] | tuple[str, ...] = (),
    allow_referrals: bool = False,
    phone: str = "",
    actor: User,
    request: HttpRequest | None = None,
) -> Appointment:
    """Book (or request) a slot and give the provider the categories chosen (CARE-2, DIS-1).

    The slot is held first; the sharing is then recorded as a disclosure to the practice (which
    also tells what the accessor opens to this actor), and the copy the provider will see is
    sealed on the appointment. If the disclosure is refused, the booking is undone.
    """
    _bookable(slot)
    open_categories = booking.categories_open_to(actor)
    shared = [category for category in sharing.ordered(shared) if category in open_categories]
    reason = " ".join(reason.split())[:500]
    if reason and sharing.C.VISIT not in shared:
        raise BookingRefused(
            _("You wrote a reason for the visit but chose not to share it: share it, or clear it.")
        )
    if reason and booking.member is not None:
        from haven.privacy.services import medical_data_collection_allowed

        # The reason for a visit is medical data: where the law makes consent its basis (CON-6).
        if not medical_data_collection_allowed(booking.member):
            raise BookingRefused(
                _(
                    "The reason for a visit is medical data, and the law in force asks for consent "
                    "before Haven keeps it: give it in the privacy center, or book without a reason."
                )
            )
    reminders = [choice for choice in ReminderChoice.values if choice in reminders]
    if phone and not actor.phone and booking.grant is None:
        actor.phone = phone.strip()[:32]
        actor.save(update_fields=["phone"])
    who = _who(actor, request)

    def create() -> Appointment:
        locked = _hold(slot)
        appointment = Appointment(
            slot=locked,
            practitioner=locked.practitioner,
            service=locked.service,
            member=booking.member,
            account=booking.account,
            booked_by=actor,
            grant=booking.grant,
            status=_status_for(locked.service),
            allow_referrals=allow_referrals and booking.member is not None,
            reminders=reminders,
        )
        appointment.start_envelope()
        appointment.seal_reason(reason)
        _save_or_refuse(appointment)
        requested = appointment.status == AppointmentStatus.REQUESTED
        AppointmentEvent.objects.create(
            appointment=appointment,
            what=Event.REQUESTED if requested else Event.BOOKED,
            actor=actor,
            note=when(locked.starts_at),
        )
        return appointment

    if booking.member is not None:
        with access.change(
            member=booking.member, resource=Resource.APPOINTMENTS, action=Action.CREATE, actor=who
        ) as change:
            appointment = create()
            change.record_id = appointment.pk
    else:
        with transaction.atomic():
            appointment = create()
    try:
        given, disclosure = _disclose_to_provider(
            appointment=appointment,
            categories=shared,
            who=who,
            request=request,
            description=_disclosure_description(shared),
            purpose="treatment",
        )
    except (ValidationError, PermissionDenied) as error:
        Appointment.objects.filter(pk=appointment.pk).delete()
        raise BookingRefused(
            _("The booking could not be completed: %(why)s")
            % {"why": " ".join(getattr(error, "messages", [str(error)]))}
        ) from error
    if booking.member is not None:
        values = sharing.member_values(booking.member, reason=reason)
    else:
        values = sharing.consumer_values(booking.account, reason=reason)

    with transaction.atomic():
        appointment.shared = given
        appointment.disclosure = disclosure
        appointment.seal_shared(sharing.pick(values, {c: sharing.FIELDS[c] for c in given}))
        appointment.save(update_fields=["shared", "disclosure", "shared_sealed", "updated_at"])
        AppointmentEvent.objects.create(appointment=appointment, what=Event.SHARED, actor=actor)
        _schedule_reminders(appointment)
        BookingPreference.objects.update_or_create(
            user=actor,
            defaults={
                "shared": given,
                "reminders": reminders,
                "allow_referrals": appointment.allow_referrals,
                "updated_at": timezone.now(),
            },
        )
    return appointment


def _change(appointment: Appointment, actor: User, request: HttpRequest | None, action: str):
    """The transaction a change of the appointment runs in: the accessor's for a member's
    appointment changed by them or for them, a plain one otherwise (a consumer, the practice)."""
    if appointment.member is not None and not works_for(actor, appointment.practitioner_id):
        return access.change(
            member=appointment.member,
            resource=Resource.APPOINTMENTS,
            action=action,
            record_id=appointment.pk,
            actor=_who(actor, request),
        )
    return transaction.atomic()


def may_manage(actor: User, appointment: Appointment) -> bool:
    """Whether the user may move or cancel the appointment as its patient's side."""
    if appointment.account_id is not None:
        return appointment.account_id == actor.pk
    if appointment.member_id is None:
        return False
    if actor.member_id == appointment.member_id:
        return True
    from haven.caregivers.services import grant_for

    return grant_for(actor, appointment.member, Scope.APPOINTMENTS) is not None


def appointment_move(
    *, appointment: Appointment, slot: Slot, actor: User, request: HttpRequest | None = None
) -> Appointment:
    """Move to another time of the same practice; a request goes back to the practice."""
    if not may_manage(actor, appointment):
        raise PermissionDenied
    if not appointment.is_active:
        raise BookingRefused(_("Only an upcoming appointment can be moved."))
    if slot.practitioner_id != appointment.practitioner_id:
        raise BookingRefused(_("Choose another time with the same practice."))
    _bookable(slot)
    with _change(appointment, actor, request, Action.UPDATE):
        locked = _hold(slot, appointment)
        Appointment.objects.select_for_update().filter(pk=appointment.pk).first()
        before = appointment.slot.starts_at
        appointment.slot = locked
        appointment.service = locked.service
        appointment.status = _status_for(locked.service)
        appointment.updated_at = timezone.now()
        _save_or_refuse(appointment, update_fields=["slot", "service", "status", "updated_at"])
        AppointmentEvent.objects.create(
            appointment=appointment,
            what=Event.MOVED,
            actor=actor,
            note=_("from %(before)s to %(after)s")
            % {"before": when(before), "after": when(locked.starts_at)},
        )
        _withdraw_reminders(appointment)
        _schedule_reminders(appointment)
    return appointment


def appointment_cancel(
    *, appointment: Appointment, actor: User, request: HttpRequest | None = None
) -> Appointment:
    """The patient's side or the practice cancels; the time is free again at once."""
    by_practice = works_for(actor, appointment.practitioner_id)
    if not by_practice and not may_manage(actor, appointment):
        raise PermissionDenied
    if not appointment.is_active:
        raise BookingRefused(_("This appointment is not upcoming any more."))
    with _change(appointment, actor, request, Action.UPDATE):
        appointment.status = AppointmentStatus.CANCELLED
        appointment.updated_at = timezone.now()
        appointment.save(update_fields=["status", "updated_at"])
        AppointmentEvent.objects.create(appointment=appointment, what=Event.CANCELLED, actor=actor)
        _withdraw_reminders(appointment)
    return appointment


@transaction.atomic
def appointment_decide(*, appointment: Appointment, confirm: bool, actor: User) -> Appointment:
    """The practice's staff confirm or decline a request."""
    _require_practice(actor, appointment.practitioner)
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if appointment.status != AppointmentStatus.REQUESTED:
        raise BookingRefused(_("This request has already been answered."))
    appointment.status = AppointmentStatus.CONFIRMED if confirm else AppointmentStatus.DECLINED
    appointment.updated_at = timezone.now()
    appointment.save(update_fields=["status", "updated_at"])
    AppointmentEvent.objects.create(
        appointment=appointment, what=Event.CONFIRMED if confirm else Event.DECLINED, actor=actor
    )
    if not confirm:
        _withdraw_reminders(appointment)
    return appointment


# --- Referrals (DIS-2) --------------------------------------------------------------------------


def referral_book(
    *, source: Appointment, slot: Slot, actor: User, request: HttpRequest | None = None
) -> Appointment:
    """The member's provider books with another doctor for them (DIS-2).

    Allowed only to the practice the member booked with, when the member allowed referrals on
    that appointment. Only what booking needs passes on (sharing.REFERRAL_FIELDS): the name, a
    phone and e-mail, and the insurance; never the reason for the visit or anything clinical.
    """
    _require_practice(actor, source.practitioner)
    if source.member is None or not source.allow_referrals:
        raise BookingRefused(_("This patient has not allowed you to book other doctors for them."))
    if source.status not in ACTIVE_STATUSES:
        raise BookingRefused(_("Referrals are made from a current appointment."))
    if slot.practitioner_id == source.practitioner_id:
        raise BookingRefused(_("Choose a time with another doctor."))
    _bookable(slot)
    with transaction.atomic():
        locked = _hold(slot)
        appointment = Appointment(
            slot=locked,
            practitioner=locked.practitioner,
            service=locked.service,
            member=source.member,
            booked_by=actor,
            referred_from=source,
            status=_status_for(locked.service),
            reminders=_member_reminder_choices(source.member),
        )
        appointment.start_envelope()
        appointment.seal_reason("")
        _save_or_refuse(appointment)
        AppointmentEvent.objects.create(
            appointment=appointment, what=Event.REFERRED, actor=actor, note=when(locked.starts_at)
        )
    labels = {
        "referrer": source.practitioner.display_name,
        "parts": ", ".join(str(sharing.SHORT_LABELS[c]) for c in sharing.REFERRAL_FIELDS),
    }
    try:
        disclosure = _disclose_referral(source, appointment, actor, request, labels)
    except (ValidationError, PermissionDenied) as error:
        Appointment.objects.filter(pk=appointment.pk).delete()
        raise BookingRefused(_("The referral could not be booked.")) from error
    with transaction.atomic():
        values = sharing.member_values(source.member)
        appointment.shared = list(sharing.REFERRAL_FIELDS)
        appointment.disclosure = disclosure
        appointment.seal_shared(sharing.pick(values, sharing.REFERRAL_FIELDS))
        appointment.save(update_fields=["shared", "disclosure", "shared_sealed", "updated_at"])
        AppointmentEvent.objects.create(appointment=appointment, what=Event.SHARED, actor=actor)
        _schedule_reminders(appointment)
    return appointment


def _disclose_referral(source, appointment, actor, request, labels):
    """The referring practice discloses, for treatment, as itself: the accessor checks that the
    member's appointment it refers from is with that practice."""
    from haven.privacy.services import disclosure_record

    return disclosure_record(
        member=appointment.member,
        recipient=appointment.practitioner.recipient,
        purpose="treatment",
        resources=list(sharing.REFERRAL_RESOURCES),
        description=_("Referral booked by %(referrer)s: %(parts)s only, nothing clinical.")
        % labels,
        actor=actor,
        request=request,
        record_id=source.pk,
    )


def _member_reminder_choices(member: Member) -> list[str]:
    account = User.objects.filter(member=member).first()
    preference = BookingPreference.objects.filter(user=account).first() if account else None
    return list(preference.reminders) if preference else [ReminderChoice.DAY_BEFORE]


# --- Reminders (CARE-2) -------------------------------------------------------------------------


def reminder_recipient(appointment: Appointment) -> User | None:
    """Whoever chose the reminders: the person who booked, or for a referral the member."""
    if appointment.referred_from_id is None:
        return appointment.booked_by
    return User.objects.filter(member_id=appointment.member_id).first()


def _schedule_reminders(appointment: Appointment) -> None:
    from haven.care.tasks import send_reminder

    now = timezone.now()
    for choice in appointment.reminders:
        due = appointment.slot.starts_at - REMINDER_OFFSETS[choice]
        if due <= now:
            continue
        reminder = Reminder.objects.create(appointment=appointment, kind=choice, due_at=due)
        transaction.on_commit(
            lambda pk=reminder.pk, due=due: send_reminder.using(run_after=due).enqueue(pk)
        )


def _withdraw_reminders(appointment: Appointment) -> None:
    Reminder.objects.filter(appointment=appointment, status=Reminder.Status.PENDING).update(
        status=Reminder.Status.WITHDRAWN
    )


@transaction.atomic
def reminder_send(*, reminder_id: int, now: datetime | None = None) -> str:
    """Send one reminder if it is due, still needed, and the person takes appointment reminders
    by e-mail (privacy's may_contact). The e-mail says only when: no provider, no reason."""
    from haven.mail.services import outbox_enqueue
    from haven.privacy.models import Channel, Kind
    from haven.privacy.services import may_contact

    now = now or timezone.now()
    reminder = (
        Reminder.objects.select_for_update()
        .select_related("appointment__slot")
        .filter(pk=reminder_id)
        .first()
    )
    if reminder is None or reminder.status != Reminder.Status.PENDING:
        return "done"
    appointment = reminder.appointment
    if not appointment.is_active or appointment.slot.starts_at <= now:
        reminder.status = Reminder.Status.WITHDRAWN
        reminder.save(update_fields=["status"])
        return reminder.status
    if reminder.due_at > now:
        return "early"
    person = reminder_recipient(appointment)
    if (
        person is None
        or not person.email
        or not may_contact(person, Channel.EMAIL, Kind.APPOINTMENT_REMINDERS)
    ):
        reminder.status = Reminder.Status.SKIPPED
        reminder.save(update_fields=["status"])
        return reminder.status
    language = person.language or settings.LANGUAGE_CODE
    with translation.override(language):
        context = {
            "when": when(appointment.slot.starts_at),
            "url": settings.SITE_URL.rstrip("/")
            + reverse("care:appointment", kwargs={"pk": appointment.pk}),
            "site_name": settings.SITE_NAME,
            "organisation_name": settings.ORGANISATION_NAME,
        }
        subject = _("%(site)s: appointment reminder") % {"site": settings.SITE_NAME}
        body = render_to_string("care/email/reminder.txt", context)
    reminder.email = outbox_enqueue(
        to_address=person.email,
        subject=subject,
        text_body=body,
        category="reminder",
        user=person,
        reason="appointment reminder",
        idempotency_key=f"care-reminder:{reminder.pk}",
    )
    reminder.status = Reminder.Status.SENT
    reminder.save(update_fields=["status", "email"])
    return reminder.status


def reminders_send_due(now: datetime | None = None) -> int:
    """Send every reminder now due (the catch-up for reminders whose task did not run)."""
    now = now or timezone.now()
    due = Reminder.objects.filter(status=Reminder.Status.PENDING, due_at__lte=now)
    return sum(
        1
        for pk in due.values_list("pk", flat=True)
        if reminder_send(reminder_id=pk, now=now) == Reminder.Status.SENT
    )


# --- Reviews (CARE-3, CARE-4) -------------------------------------------------------------------


class ScreeningRefused(ValidationError):
    """The text names the reviewer or says something about health; `findings` say what."""

    def __init__(self, findings: list[screening.Finding]):
        super().__init__(screening.explain(findings), code="screening")
        self.findings = findings


def _screening_reader() -> access.Actor:
    return access.system("care.review-screening")


def names_to_protect(user: User | None) -> list[str]:
    """The names a review or answer must not show: the reviewer's own, and those of the family
    on their plan and the people they act for (read through the accessor, as the system)."""
    if user is None:
        return []
    names = [user.first_name, user.last_name, user.preferred_name]
    members: list[Member] = []
    if user.member_id is not None:
        members.extend(user.member.family())
    members.extend(
        grant.member
        for grant in Grant.objects.current().filter(grantee=user).select_related("member")
    )
    seen = set()
    for member in members:
        if member.pk in seen:
            continue
        seen.add(member.pk)
        permitted = access.read(
            member=member,
            resource=Resource.DEMOGRAPHICS,
            fields=("first_name", "last_name"),
            purpose=Purpose.OPERATIONS,
            actor=_screening_reader(),
        )
        picked = permitted.pick(Resource.DEMOGRAPHICS, member)
        names.extend(picked.values())
    return [name for name in dict.fromkeys(names) if name]


def _screen(text: str, *, names: list[str], practitioner: Practitioner) -> None:
    findings = screening.screen(text, names=names, allowed=screening.allowed_for(practitioner))
    if findings:
        raise ScreeningRefused(findings)


def review_save(*, practitioner: Practitioner, rating: int, text: str, actor: User) -> Review:
    """Publish (or replace) the user's review once it passes screening (CARE-3)."""
    if actor.kind not in (User.Kind.MEMBER, User.Kind.CONSUMER, User.Kind.CAREGIVER):
        raise PermissionDenied
    text = text.strip()
    if not 1 <= rating <= 5:
        raise ValidationError(_("Choose from one to five stars."))
    if len(text) < 10:
        raise ValidationError(_("Write at least a sentence about your visit."))
    # Screening reads names through the accessor, in transactions of its own: before ours.
    _screen(text, names=names_to_protect(actor), practitioner=practitioner)
    with transaction.atomic():
        return _review_store(practitioner, rating, text, actor)


def _review_store(practitioner: Practitioner, rating: int, text: str, actor: User) -> Review:
    locked = Practitioner.objects.select_for_update().get(pk=practitioner.pk)
    review = Review.objects.filter(practitioner=locked, author=actor).first()
    now = timezone.now()
    if review is None:
        review = Review.objects.create(
            practitioner=locked,
            author=actor,
            rating=rating,
            text=text,
            visited=_has_visited(actor, locked),
            created_at=now,
            updated_at=now,
        )
        Practitioner.objects.filter(pk=locked.pk).update(
            rating_count=F("rating_count") + 1, rating_total=F("rating_total") + rating
        )
    else:
        Practitioner.objects.filter(pk=locked.pk).update(
            rating_total=F("rating_total") - review.rating + rating
        )
        review.rating, review.text, review.updated_at = rating, text, now
        review.save(update_fields=["rating", "text", "updated_at"])
    return review


def _has_visited(user: User, practitioner: Practitioner) -> bool:
    mine = Appointment.objects.filter(practitioner=practitioner, status=AppointmentStatus.CONFIRMED)
    if user.member_id is not None:
        return mine.filter(member_id=user.member_id).exists()
    return mine.filter(account=user).exists()


@transaction.atomic
def review_delete(*, review: Review, actor: User) -> None:
    if review.author_id != actor.pk:
        raise PermissionDenied
    Practitioner.objects.select_for_update().filter(pk=review.practitioner_id).update(
        rating_count=F("rating_count") - 1, rating_total=F("rating_total") - review.rating
    )
    review.delete()


def review_answer_save(*, review: Review, text: str, actor: User) -> ReviewAnswer:
    """The practice answers in public, screened like the review: it may not confirm who the
    reviewer is or say anything about their health (CARE-4)."""
    _require_practice(actor, review.practitioner)
    text = text.strip()
    if len(text) < 2:
        raise ValidationError(_("Write your answer."))
    _screen(text, names=names_to_protect(review.author), practitioner=review.practitioner)
    with transaction.atomic():
        answer, _created = ReviewAnswer.objects.update_or_create(
            review=review, defaults={"text": text, "author": actor, "updated_at": timezone.now()}
        )
    return answer


# --- Invitations (CARE-5) -----------------------------------------------------------------------

INVITATION_HASH = "invitation"
SUPPRESSION_HASH = "invitation-suppression"
INVITATIONS_AT_ONCE = 10


def invitations_per_day() -> int:
    return int(getattr(settings, "HAVEN_INVITATIONS_PER_DAY", 20))


def suppression_hash(address: str) -> str:
    return lookup_hash(address, purpose=SUPPRESSION_HASH)


def is_suppressed(address: str) -> bool:
    return InvitationSuppression.objects.filter(address_hash=suppression_hash(address)).exists()


@dataclass(frozen=True)
class InvitationsResult:
    requested: int
    invitations: list[Invitation]


def _reserve(inviter: User, count: int) -> None:
    """Count the invitations against the user's daily allowance (the cache, shared by servers)."""
    key = f"care:invitations:{inviter.pk}:{timezone.localdate().isoformat()}"
    cache.add(key, 0, timeout=2 * 24 * 3600)
    total = cache.incr(key, count)
    if total > invitations_per_day():
        cache.decr(key, count)
        raise ValidationError(
            _("You can send %(limit)s invitations a day. Try again tomorrow.")
            % {"limit": invitations_per_day()},
            code="rate_limited",
        )


def invitations_send(
    *, inviter: User, addresses: list[str], language: str = ""
) -> InvitationsResult:
    """Invite associates by e-mail (CARE-5). Each e-mail carries a one-step "never invite me
    again"; addresses that used it, and people who already have an account, get nothing, and
    the inviter is not told which (that would reveal their choice)."""
    from haven.care.links import never_invite_url
    from haven.mail.models import Category
    from haven.mail.services import outbox_enqueue

    if inviter.kind not in (
        User.Kind.MEMBER,
        User.Kind.CONSUMER,
        User.Kind.CAREGIVER,
        User.Kind.PROVIDER,
    ):
        raise PermissionDenied
    cleaned = []
    for address in addresses:
        address = address.strip()
        if not address:
            continue
        try:
            validate_email(address)
        except ValidationError as error:
            raise ValidationError(
                _("“%(address)s” is not an e-mail address.") % {"address": address}, code="invalid"
            ) from error
        if address.lower() not in [known.lower() for known in cleaned]:
            cleaned.append(address)
    if not cleaned:
        raise ValidationError(_("Give at least one e-mail address."), code="empty")
    if len(cleaned) > INVITATIONS_AT_ONCE:
        raise ValidationError(
            _("Invite at most %(count)s people at a time.") % {"count": INVITATIONS_AT_ONCE}
        )
    _reserve(inviter, len(cleaned))
    today = timezone.localdate().isoformat()
    sent = []
    for address in cleaned:
        hashed = lookup_hash(address, purpose=INVITATION_HASH)
        with transaction.atomic():
            if is_suppressed(address):
                sent.append(
                    Invitation.objects.create(
                        inviter=inviter, address_hash=hashed, status=Invitation.Status.SUPPRESSED
                    )
                )
                continue
            if User.objects.filter(email__iexact=address).exists():
                continue
            with translation.override(language or inviter.language or settings.LANGUAGE_CODE):
                context = {
                    "inviter": inviter.display_name,
                    "site_name": settings.SITE_NAME,
                    "organisation_name": settings.ORGANISATION_NAME,
                    "join_url": settings.SITE_URL.rstrip("/") + reverse("accounts:register"),
                    "never_url": never_invite_url(suppression_hash(address)),
                    "genuine_url": settings.SITE_URL.rstrip("/") + reverse("mail:genuine"),
                }
                subject = _("%(name)s invites you to %(site)s") % {
                    "name": inviter.display_name,
                    "site": settings.SITE_NAME,
                }
                body = render_to_string("care/email/invitation.txt", context)
            email = outbox_enqueue(
                to_address=address,
                subject=subject,
                text_body=body,
                category=Category.MARKETING,
                reason="invitation a user asked for",
                idempotency_key=f"care-invitation:{inviter.pk}:{hashed}:{today}",
            )
            sent.append(
                Invitation.objects.create(
                    inviter=inviter,
                    address_hash=hashed,
                    status=Invitation.Status.SENT,
                    email=email,
                )
            )
    return InvitationsResult(requested=len(cleaned), invitations=sent)


@transaction.atomic
def invitation_suppress(*, address_hash: str) -> InvitationSuppression:
    """Never invite this address again (the one step in every invitation, CARE-5)."""
    suppression, _created = InvitationSuppression.objects.get_or_create(address_hash=address_hash)
    return suppression
