"""Pages of finding and booking care: the directory and practice pages (public), booking and the
member's appointments, the practice's schedule, reviews, invitations and the leaving page."""

from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from haven.accounts.decorators import kind_required
from haven.accounts.models import User
from haven.audit import access
from haven.audit.policy import STAFF_POLICY, Resource
from haven.care import directory, geo, links, services, sharing
from haven.care.forms import (
    AnswerForm,
    AvailabilityForm,
    BookingForm,
    InvitationForm,
    MoveForm,
    NewServiceForm,
    PreciseLocationForm,
    ReferralSearchForm,
    ReviewForm,
    SearchForm,
    ServiceForm,
)
from haven.care.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentStatus,
    BookingPreference,
    Facility,
    Practitioner,
    Review,
    Service,
    Slot,
)
from haven.caregivers.services import acting_member
from haven.replica import reads_from_replica

BOOKERS = (User.Kind.MEMBER, User.Kind.CAREGIVER, User.Kind.CONSUMER)
REVIEWERS = (User.Kind.MEMBER, User.Kind.CAREGIVER, User.Kind.CONSUMER)
INVITERS = (User.Kind.MEMBER, User.Kind.CAREGIVER, User.Kind.CONSUMER, User.Kind.PROVIDER)
SLOTS_SHOWN = 24


# --- The directory (CARE-1, CON-3, LOG-6) -------------------------------------------------------


def _location_purpose(kind: str) -> str:
    from haven.privacy.models import LocationPermission

    Purpose_ = LocationPermission.Purpose
    return Purpose_.FIND_FACILITY if kind == directory.FACILITIES else Purpose_.FIND_DOCTOR


def _precise_position(request: HttpRequest, form: PreciseLocationForm) -> geo.Position | None:
    """The browser's position, used for this one search only. A signed-in person's permission
    is recorded (when it was given, for what; never where they were)."""
    position = geo.precise(form.cleaned_data["latitude"], form.cleaned_data["longitude"])
    if position is not None and request.user.is_authenticated:
        from haven.privacy.services import location_permission_record, location_use_allowed

        purpose = _location_purpose(form.cleaned_data.get("kind") or directory.PRACTITIONERS)
        if not location_use_allowed(request.user, purpose):
            location_permission_record(
                user=request.user,
                purpose=purpose,
                actor=request.user,
                user_agent=request.headers.get("User-Agent", ""),
            )
    return position


@require_http_methods(["GET", "POST"])
def search(request: HttpRequest) -> HttpResponse:
    """Find practitioners and facilities. Distance from a typed ZIP code or town, from the
    browser's position after permission (POST), or from the connection's approximate location
    when the operator has configured a GeoIP database; no position is kept anywhere."""
    if request.method == "POST":
        form = PreciseLocationForm(request.POST)
    else:
        form = SearchForm(request.GET or None)
    page = None
    position = None
    if form.is_bound and form.is_valid():
        if isinstance(form, PreciseLocationForm):
            position = _precise_position(request, form)
        else:
            position = form.position
            if position is None and form.cleaned_data.get("approximate") != "off":
                position = geo.approximate_position(request.META.get("REMOTE_ADDR", ""))
        with reads_from_replica():  # the public directory may be a little late
            page = directory.search(form.query(position))
    elif not form.is_bound:
        position = geo.approximate_position(request.META.get("REMOTE_ADDR", ""))
        if position is not None:
            with reads_from_replica():
                page = directory.search(directory.Query(position=position))
    precise = PreciseLocationForm(initial=form.data if form.is_bound else None)
    context = {
        "form": form,
        "page": page,
        "position": position,
        "facilities": bool(
            form.is_bound
            and form.is_valid()
            and form.cleaned_data.get("kind") == directory.FACILITIES
        ),
        "precise_form": precise,
        "query_string": _page_query(request) if request.method == "GET" else "",
        "carried": _carried(form) if request.method == "POST" and form.is_valid() else {},
    }
    return render(request, "care/search.html", context)


def _page_query(request: HttpRequest) -> str:
    """The search's own query string without its page number, for the page links."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _carried(form: PreciseLocationForm) -> dict:
    """What a position search's page buttons post again (the position stays in the page only)."""
    data = form.cleaned_data
    return {
        name: ("on" if value is True else value)
        for name, value in data.items()
        if name != "page" and value not in (None, "", False)
    }


def practitioner(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    # Signed-in people may have just booked or reviewed here: they read what they wrote.
    with reads_from_replica(not user.is_authenticated):
        practitioner = get_object_or_404(Practitioner.objects.select_related("facility"), pk=pk)
        services_ = list(practitioner.services.all())
        slots = list(
            directory.free_slots([practitioner.pk])
            .select_related("service")
            .order_by("starts_at")[:SLOTS_SHOWN]
        )
        reviews = list(practitioner.reviews.select_related("answer")[:50])
    context = {
        "practitioner": practitioner,
        "services": services_,
        "slots": slots,
        "reviews": reviews,
        "can_book": user.is_authenticated and user.kind in BOOKERS and practitioner.recipient_id,
        "can_review": user.is_authenticated and user.kind in REVIEWERS,
        "my_review": next(
            (r for r in reviews if user.is_authenticated and r.author_id == user.pk), None
        ),
        "works_here": services.works_for(user, practitioner.pk),
    }
    return render(request, "care/practitioner.html", context)


def facility(request: HttpRequest, pk: int) -> HttpResponse:
    with reads_from_replica():
        facility = get_object_or_404(Facility, pk=pk)
        practitioners = list(facility.practitioners.order_by("last_name", "first_name")[:100])
    return render(
        request, "care/facility.html", {"facility": facility, "practitioners": practitioners}
    )


# --- Booking (CARE-2, DIS-1, CARE-6) ------------------------------------------------------------


def _booking_context(request: HttpRequest):
    """Whom the signed-in user books for now: the member they act for, or themselves."""
    member = acting_member(request)
    try:
        return services.booking_for(request.user, member)
    except PermissionDenied:
        raise Http404 from None


def _preview(request: HttpRequest, booking: services.Booking, categories: list[str]) -> dict:
    """What each category would give the practice, read through the accessor (CARE-6: the
    member sees their data filled in, and is not asked for it again)."""
    if booking.member is None:
        return sharing.consumer_values(request.user)
    resources = [r for r in sharing.resources_for(categories) if r != Resource.APPOINTMENTS]
    if not resources:
        return {}
    access.read(
        member=booking.member,
        resource=resources,
        actor=request.user,
        request=request,
        subtype="booking-preview",
    )
    return sharing.member_values(booking.member)


@kind_required(*BOOKERS)
@require_http_methods(["GET", "POST"])
def book(request: HttpRequest, pk: int) -> HttpResponse:
    slot = get_object_or_404(Slot.objects.select_related("service", "practitioner"), pk=pk)
    booking = _booking_context(request)
    user = request.user
    open_categories = booking.categories_open_to(user)
    preference = BookingPreference.objects.filter(user=user).first()
    ask_phone = (
        booking.grant is None
        and not user.phone
        and (booking.member is None or not booking.member.phone)
    )
    initial = {
        "shared": (
            preference.shared if preference else [c for c in open_categories if c != "visit"]
        ),
        "reminders": preference.reminders if preference else ["day"],
        "allow_referrals": preference.allow_referrals if preference else False,
    }
    form = BookingForm(
        request.POST or None,
        initial=initial,
        open_categories=open_categories,
        ask_phone=ask_phone,
        for_member=booking.member is not None,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            appointment = services.appointment_book(
                slot=slot,
                booking=booking,
                shared=data["shared"],
                reason=data["reason"],
                reminders=data["reminders"],
                allow_referrals=data.get("allow_referrals", False),
                phone=data.get("phone", ""),
                actor=user,
                request=request,
            )
        except ValidationError as error:
            form.add_error(None, error.messages)
        except access.AccessDenied as refusal:
            form.add_error(None, refusal.message)
        else:
            if appointment.status == AppointmentStatus.REQUESTED:
                messages.success(request, _("Your request is sent. The practice will confirm it."))
            else:
                messages.success(request, _("Your appointment is booked."))
            return redirect("care:appointment", pk=appointment.pk)
    try:
        values = _preview(request, booking, open_categories)
    except access.AccessDenied as refusal:
        raise PermissionDenied(refusal.message) from refusal
    shown = dict(sharing.for_display(sharing.pick(values, sharing.FIELDS)))
    preview = [
        (value, label, shown.get(str(sharing.HEADINGS[value]), []))
        for value, label in form.fields["shared"].choices
    ]
    context = {
        "slot": slot,
        "form": form,
        "booking": booking,
        "preview": preview,
        "chosen": [str(value) for value in (form["shared"].value() or [])],
        "withheld": [c for c in sharing.C.values if c not in open_categories],
    }
    return render(request, "care/book.html", context)


def _my_appointments(request: HttpRequest):
    """The appointments of the person the user acts for now (their own, or a member's)."""
    member = acting_member(request)
    rows = Appointment.objects.select_related("slot", "practitioner", "service")
    if member is not None:
        return member, rows.filter(member=member)
    return None, rows.filter(account=request.user)


@kind_required(*BOOKERS)
def appointments(request: HttpRequest) -> HttpResponse:
    member, rows = _my_appointments(request)
    if member is not None:
        try:
            services.booking_for(request.user, member)
            access.read(
                member=member,
                resource=Resource.APPOINTMENTS,
                actor=request.user,
                request=request,
                subtype="list",
            )
        except (PermissionDenied, access.AccessDenied):
            raise Http404 from None
    now = timezone.now()
    rows = list(rows.order_by("slot__starts_at"))
    upcoming = [a for a in rows if a.is_active and a.slot.starts_at >= now]
    past = [a for a in rows if a not in upcoming]
    past.reverse()
    return render(
        request,
        "care/appointments.html",
        {"upcoming": upcoming, "past": past, "member": member},
    )


def _appointment(pk: int) -> Appointment:
    return get_object_or_404(
        Appointment.objects.select_related(
            "slot",
            "practitioner",
            "practitioner__facility",
            "service",
            "member",
            "referred_from__practitioner",
        ),
        pk=pk,
    )


@login_required
def appointment(request: HttpRequest, pk: int) -> HttpResponse:
    """One appointment: to its member (or their caregiver or guardian), to the practice it is
    with (only what the member shared), and to staff for a stated purpose. Nobody else."""
    appointment = _appointment(pk)
    user = request.user
    events = list(appointment.events.select_related("actor"))
    if services.works_for(user, appointment.practitioner_id):
        if appointment.member is not None:
            services.provider_view_record(appointment=appointment, actor=user, request=request)
        context = {
            "appointment": appointment,
            "shared": sharing.for_display(appointment.shared_data()),
            "events": events,
            "can_refer": appointment.allow_referrals and appointment.is_active,
        }
        return render(request, "care/provider_appointment.html", context)
    if user.is_staff_member:
        return _staff_appointment(request, appointment, events)
    if not services.may_manage(user, appointment):
        raise Http404
    if appointment.member is not None:
        try:
            access.read(
                member=appointment.member,
                resource=Resource.APPOINTMENTS,
                record_id=appointment.pk,
                actor=user,
                request=request,
            )
        except access.AccessDenied:
            raise Http404 from None
    visible = _visible_categories(user, appointment)
    shared = {c: v for c, v in appointment.shared_data().items() if c in visible}
    context = {
        "appointment": appointment,
        "shared": sharing.for_display(shared),
        "hidden_parts": len(set(appointment.shared) - set(visible)),
        "reason": appointment.reason() if sharing.C.VISIT in visible else "",
        "events": events,
        "reminders": appointment.reminders_due.all(),
        "disclosed": appointment.disclosure_id is not None,
    }
    return render(request, "care/appointment.html", context)


def _visible_categories(user: User, appointment: Appointment) -> list[str]:
    """A caregiver sees of what was shared only the parts their grant opens to them."""
    if appointment.member is None or user.member_id == appointment.member_id:
        return list(sharing.C.values)
    from haven.caregivers.models import Scope
    from haven.caregivers.services import grant_for

    grant = grant_for(user, appointment.member, Scope.APPOINTMENTS)
    return sharing.categories_open_to(user, appointment.member, grant.scopes if grant else [])


def _staff_appointment(request: HttpRequest, appointment: Appointment, events) -> HttpResponse:
    if not user_is_verified(request.user):
        raise PermissionDenied
    if appointment.member is None:
        raise Http404
    purpose = request.GET.get("purpose", "")
    if not purpose:
        role_policy = STAFF_POLICY.get(request.user.staff_role, {})
        choices = [
            (value, label)
            for value, label in access.purposes_for(request.user)
            if Resource.APPOINTMENTS in role_policy[value].read
        ]
        if not choices:
            raise PermissionDenied
        return render(
            request, "care/staff_purpose.html", {"appointment": appointment, "purposes": choices}
        )
    try:
        permitted = access.read(
            member=appointment.member,
            resource=[Resource.APPOINTMENTS, Resource.DEMOGRAPHICS],
            fields=("starts_at", "provider", "location", "reason", "first_name", "last_name"),
            purpose=purpose,
            record_id=appointment.pk,
            actor=request.user,
            request=request,
        )
    except access.AccessDenied as refusal:
        return render(request, "care/staff_refused.html", {"message": refusal.message}, status=403)
    if not permitted.allows(Resource.APPOINTMENTS):
        return render(
            request,
            "care/staff_refused.html",
            {"message": _("Your role and purpose do not open appointments.")},
            status=403,
        )
    context = {
        "appointment": appointment,
        "events": events,
        "name": permitted.pick(Resource.DEMOGRAPHICS, appointment.member),
        "reason": appointment.reason()
        if "reason" in permitted.fields[Resource.APPOINTMENTS]
        else "",
        "purpose": purpose,
    }
    return render(request, "care/staff_appointment.html", context)


def user_is_verified(user: User) -> bool:
    return user.is_staff_member and user.is_verified()


@kind_required(*BOOKERS)
@require_http_methods(["GET", "POST"])
def move(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = _appointment(pk)
    if not services.may_manage(request.user, appointment):
        raise Http404
    slots = (
        directory.free_slots([appointment.practitioner_id])
        .select_related("service")
        .order_by("starts_at")
    )
    form = MoveForm(request.POST or None, slots=slots)
    if request.method == "POST" and form.is_valid():
        try:
            services.appointment_move(
                appointment=appointment,
                slot=form.cleaned_data["slot"],
                actor=request.user,
                request=request,
            )
        except ValidationError as error:
            form.add_error(None, error.messages)
        except access.AccessDenied as refusal:
            form.add_error(None, refusal.message)
        else:
            messages.success(request, _("Your appointment is moved."))
            return redirect("care:appointment", pk=appointment.pk)
    return render(request, "care/move.html", {"appointment": appointment, "form": form})


@login_required
@require_POST
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = _appointment(pk)
    user = request.user
    if not services.works_for(user, appointment.practitioner_id) and not (
        user.kind in BOOKERS and services.may_manage(user, appointment)
    ):
        raise Http404
    try:
        services.appointment_cancel(appointment=appointment, actor=user, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except access.AccessDenied as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, _("The appointment is cancelled."))
    return redirect("care:appointment", pk=appointment.pk)


@kind_required(User.Kind.PROVIDER)
@require_POST
def decide(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = _appointment(pk)
    if not services.works_for(request.user, appointment.practitioner_id):
        raise Http404
    confirm = request.POST.get("decision") == "confirm"
    try:
        services.appointment_decide(appointment=appointment, confirm=confirm, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Confirmed.") if confirm else _("Declined."))
    return redirect("care:appointment", pk=appointment.pk)


# --- Referrals (DIS-2) --------------------------------------------------------------------------


@kind_required(User.Kind.PROVIDER)
@require_http_methods(["GET", "POST"])
def refer(request: HttpRequest, pk: int) -> HttpResponse:
    """The practice books the patient with another doctor: find them, choose a time, confirm
    what passes on (name, phone, e-mail, insurance; nothing clinical)."""
    source = _appointment(pk)
    if not services.works_for(request.user, source.practitioner_id):
        raise Http404
    if not source.allow_referrals or source.member is None:
        raise PermissionDenied
    chosen = None
    slot_id = request.POST.get("slot") or request.GET.get("slot")
    if slot_id and str(slot_id).isdigit():
        chosen = (
            directory.free_slots()
            .exclude(practitioner_id=source.practitioner_id)
            .select_related("practitioner", "service")
            .filter(pk=int(slot_id), practitioner__recipient__isnull=False)
            .first()
        )
    if request.method == "POST" and chosen is not None:
        try:
            services.referral_book(source=source, slot=chosen, actor=request.user, request=request)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The appointment is booked for your patient."))
            return redirect("care:appointment", pk=source.pk)
    form = ReferralSearchForm(request.GET or None)
    candidates = []
    if form.is_bound and form.is_valid() and not chosen:
        page = directory.search(
            directory.Query(text=form.cleaned_data["q"], specialty=form.cleaned_data["specialty"])
        )
        ids = [p.pk for p in page.items if p.pk != source.practitioner_id and p.recipient_id]
        slots = (
            directory.free_slots(ids)
            .select_related("practitioner", "service")
            .order_by("practitioner__last_name", "practitioner_id", "starts_at")
        )
        grouped: dict[int, list] = {}
        for slot in slots:
            if len(grouped.setdefault(slot.practitioner_id, [])) < 6:
                grouped[slot.practitioner_id].append(slot)
        candidates = [(slots_[0].practitioner, slots_) for slots_ in grouped.values()]
    context = {
        "source": source,
        "form": form,
        "candidates": candidates,
        "chosen": chosen,
        "passes": [
            (str(dict(sharing.C.choices)[c]), [str(sharing.FIELD_LABELS[f]) for f in fields])
            for c, fields in sharing.REFERRAL_FIELDS.items()
        ],
    }
    return render(request, "care/refer.html", context)


# --- The practice's side (CARE-2) ---------------------------------------------------------------


def _practice(request: HttpRequest) -> Practitioner:
    practice = services.practice_of(request.user)
    if practice is None:
        raise PermissionDenied(_("Your account is not linked to a practice yet."))
    return practice


@kind_required(User.Kind.PROVIDER)
def provider_home(request: HttpRequest) -> HttpResponse:
    practice = _practice(request)
    now = timezone.now()
    rows = (
        Appointment.objects.filter(
            practitioner=practice, status__in=ACTIVE_STATUSES, slot__starts_at__gte=now
        )
        .select_related("slot", "service")
        .order_by("slot__starts_at")
    )
    rows = list(rows[:200])
    context = {
        "practice": practice,
        "requests": [a for a in rows if a.status == AppointmentStatus.REQUESTED],
        "upcoming": [a for a in rows if a.status == AppointmentStatus.CONFIRMED],
        "free_count": directory.free_slots([practice.pk]).count(),
    }
    return render(request, "care/provider_home.html", context)


@kind_required(User.Kind.PROVIDER)
@require_http_methods(["GET", "POST"])
def provider_services(request: HttpRequest) -> HttpResponse:
    practice = _practice(request)
    services_ = list(practice.services.all())
    forms_ = [
        (
            service,
            ServiceForm(
                request.POST if request.POST.get("service") == str(service.pk) else None,
                prefix=f"s{service.pk}",
                initial={"booking": service.booking, "duration_minutes": service.duration_minutes},
            ),
        )
        for service in services_
    ]
    new_form = NewServiceForm(
        request.POST if request.POST.get("service") == "new" else None, prefix="new"
    )
    if request.method == "POST":
        try:
            if request.POST.get("service") == "new" and new_form.is_valid():
                services.service_add(
                    practitioner=practice, actor=request.user, **new_form.cleaned_data
                )
                messages.success(request, _("The visit is added."))
                return redirect("care:provider_services")
            for service, form in forms_:
                if form.is_bound and form.is_valid():
                    services.service_update(
                        service=service, actor=request.user, **form.cleaned_data
                    )
                    messages.success(request, _("Saved."))
                    return redirect("care:provider_services")
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
    return render(
        request,
        "care/provider_services.html",
        {"practice": practice, "forms": forms_, "new_form": new_form},
    )


@kind_required(User.Kind.PROVIDER)
@require_http_methods(["GET", "POST"])
def provider_availability(request: HttpRequest) -> HttpResponse:
    practice = _practice(request)
    bookable = Service.objects.filter(practitioner=practice)
    form = AvailabilityForm(request.POST or None, services=bookable)
    if request.method == "POST" and form.is_valid():
        try:
            added = services.availability_publish(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(request, _("%(count)s times published.") % {"count": added})
            return redirect("care:provider_availability")
    slots = list(
        directory.free_slots([practice.pk]).select_related("service").order_by("starts_at")[:100]
    )
    return render(
        request,
        "care/provider_availability.html",
        {"practice": practice, "form": form, "slots": slots},
    )


@kind_required(User.Kind.PROVIDER)
@require_POST
def slot_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    slot = get_object_or_404(Slot.objects.select_related("practitioner"), pk=pk)
    if not services.works_for(request.user, slot.practitioner_id):
        raise Http404
    try:
        services.slot_withdraw(slot=slot, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The time is taken off your schedule."))
    return redirect("care:provider_availability")


# --- Reviews (CARE-3, CARE-4) -------------------------------------------------------------------


@kind_required(*REVIEWERS)
@require_http_methods(["GET", "POST"])
def review(request: HttpRequest, pk: int) -> HttpResponse:
    practitioner = get_object_or_404(Practitioner.objects.select_related("facility"), pk=pk)
    mine = Review.objects.filter(practitioner=practitioner, author=request.user).first()
    initial = {"rating": mine.rating, "text": mine.text} if mine else None
    form = ReviewForm(request.POST or None, initial=initial)
    refusal = None
    if request.method == "POST" and form.is_valid():
        try:
            services.review_save(
                practitioner=practitioner,
                rating=form.cleaned_data["rating"],
                text=form.cleaned_data["text"],
                actor=request.user,
            )
        except services.ScreeningRefused as refused:
            refusal = refused.messages
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(request, _("Thank you: your review is published."))
            return redirect("care:practitioner", pk=practitioner.pk)
    return render(
        request,
        "care/review_form.html",
        {"practitioner": practitioner, "form": form, "refusal": refusal, "mine": mine},
        status=400 if refusal else 200,
    )


@kind_required(*REVIEWERS)
@require_POST
def review_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete one's own review of this practitioner, if there is one."""
    practitioner = get_object_or_404(Practitioner, pk=pk)
    mine = Review.objects.filter(practitioner=practitioner, author=request.user).first()
    if mine is not None:
        services.review_delete(review=mine, actor=request.user)
        messages.success(request, _("Your review is deleted."))
    return redirect("care:practitioner", pk=practitioner.pk)


@kind_required(User.Kind.PROVIDER)
@require_http_methods(["GET", "POST"])
def review_answer(request: HttpRequest, pk: int) -> HttpResponse:
    review = get_object_or_404(Review.objects.select_related("practitioner", "author"), pk=pk)
    if not services.works_for(request.user, review.practitioner_id):
        raise Http404
    existing = getattr(review, "answer", None)
    form = AnswerForm(request.POST or None, initial={"text": existing.text} if existing else None)
    refusal = None
    if request.method == "POST" and form.is_valid():
        try:
            services.review_answer_save(
                review=review, text=form.cleaned_data["text"], actor=request.user
            )
        except services.ScreeningRefused as refused:
            refusal = refused.messages
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(request, _("Your answer is published."))
            return redirect("care:practitioner", pk=review.practitioner_id)
    return render(
        request,
        "care/review_answer.html",
        {"review": review, "form": form, "refusal": refusal},
        status=400 if refusal else 200,
    )


# --- Invitations (CARE-5) -----------------------------------------------------------------------


@kind_required(*INVITERS)
@require_http_methods(["GET", "POST"])
def invite(request: HttpRequest) -> HttpResponse:
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.invitations_send(
                inviter=request.user, addresses=form.cleaned_data["addresses"]
            )
        except ValidationError as error:
            form.add_error("addresses", error.messages)
        else:
            messages.success(
                request,
                _(
                    "Your invitations are on their way. People who asked not to be invited, or "
                    "who already use Haven, do not get one."
                ),
            )
            return redirect("care:invite")
    return render(
        request, "care/invite.html", {"form": form, "limit": services.invitations_per_day()}
    )


@csrf_exempt  # RFC 8058-style one click from the e-mail; the signed token is the proof.
@require_http_methods(["GET", "POST"])
def never_invite(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows one button; POST puts the address on the suppression list at once (CARE-5)."""
    hashed = links.read_never_invite_token(token)
    if hashed is None:
        return render(request, "care/never_invite_invalid.html", status=404)
    if request.method == "POST":
        services.invitation_suppress(address_hash=hashed)
        return render(request, "care/never_invite_done.html")
    return render(request, "care/never_invite.html")


# --- Leaving Haven (SEC-3) ----------------------------------------------------------------------


def leaving(request: HttpRequest) -> HttpResponse:
    """A notice before a link leaves Haven: where it goes, and that the site has its own policy.
    Only addresses Haven signed are offered, so this is not an open redirect."""
    url = links.read_leaving_token(request.GET.get("to", ""))
    if url is None:
        return render(request, "care/leaving_invalid.html", status=400)
    back = request.headers.get("Referer", "")
    if not back or urlsplit(back).netloc != request.get_host():
        back = reverse("care:search")
    return render(
        request,
        "care/leaving.html",
        {"url": url, "host": urlsplit(url).hostname, "back": back},
    )
