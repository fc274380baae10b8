from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from haven.accounts import registration
from haven.accounts.decorators import kind_required, staff_required
from haven.accounts.models import User
from haven.audit import access
from haven.producers.decorators import approved_producer_required
from haven.producers.forms import (
    DUPLICATE_MESSAGE,
    ActivityForm,
    AuthoriseForm,
    ClientElementsForm,
    ProducerUpdateForm,
    RegistrationForm,
    ReviewForm,
)
from haven.producers.models import Authorisation, Producer
from haven.producers.services import (
    ANALYST_ROLES,
    REVIEWER_ROLES,
    SMALLEST_GROUP,
    AlreadyReviewed,
    ProducerNotFound,
    RegistrationConflict,
    UsernameTaken,
    approved_producer_by_licence,
    authorisation_grant,
    authorisation_revoke,
    client_list,
    client_read,
    member_authorisations,
    producer_activity,
    producer_register,
    producer_review,
    producer_update,
    waiting_registrations,
)

RECENTLY_REVIEWED = 20


def _own_registration(request: HttpRequest) -> Producer:
    return get_object_or_404(Producer.objects.select_related("user"), user=request.user)


@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    """A producer or agency registers; staff approve them before they see anything private."""
    if request.user.is_authenticated:
        if request.user.kind == User.Kind.PRODUCER:
            return redirect("producers:status")
        return redirect("front:home")
    form = RegistrationForm(data=request.POST or None)
    if request.method == "POST" and registration.attempts_exhausted(request):
        return _too_many_attempts(request, form)
    if request.method == "POST" and form.is_valid():
        try:
            producer = producer_register(
                details=form.details(),
                tax_id=form.cleaned_data["tax_id"],
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password1"],
                language=_interface_language(),
            )
        except RegistrationConflict:
            # Counted, so nobody can try tax IDs one after another to learn who is registered.
            registration.record_failure(request)
            form.add_error(None, DUPLICATE_MESSAGE)
        except UsernameTaken:
            registration.record_failure(request)
            form.add_error("username", _("That username is taken. Choose another."))
        else:
            login(request, producer.user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(
                request,
                _("Thank you for registering. Our producer support team will review it soon."),
            )
            return redirect("producers:status")
    return render(request, "producers/register.html", {"form": form})


def _interface_language() -> str:
    language = translation.get_language() or ""
    return language if language in dict(settings.LANGUAGES) else ""


def _too_many_attempts(request: HttpRequest, form: RegistrationForm) -> HttpResponse:
    form.is_valid()  # keeps what was typed on the page; nothing is checked against other producers
    form.errors.clear()
    form.add_error(
        None,
        _(
            "There have been too many unsuccessful attempts to register from your connection. "
            "For everyone's protection, wait %(minutes)s minutes and try again, "
            "or contact producer support."
        )
        % {"minutes": registration.WINDOW_SECONDS // 60},
    )
    return render(request, "producers/register.html", {"form": form}, status=429)


@kind_required(User.Kind.PRODUCER)
def status(request: HttpRequest) -> HttpResponse:
    """The producer's own registration and where its review stands."""
    return render(request, "producers/status.html", {"producer": _own_registration(request)})


@kind_required(User.Kind.PRODUCER)
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest) -> HttpResponse:
    producer = _own_registration(request)
    if not producer.is_pending:
        return render(request, "producers/edit_closed.html", {"producer": producer}, status=403)
    form = ProducerUpdateForm(data=request.POST or None, producer=producer)
    if request.method == "POST" and form.is_valid():
        try:
            producer_update(
                producer=producer,
                details=form.details(),
                tax_id=form.cleaned_data["tax_id"] or None,
                actor=request.user,
            )
        except RegistrationConflict:
            form.add_error(None, DUPLICATE_MESSAGE)
        except AlreadyReviewed:
            producer.refresh_from_db()
            return render(request, "producers/edit_closed.html", {"producer": producer}, status=403)
        else:
            messages.success(request, _("Your registration details are updated."))
            return redirect("producers:status")
    return render(request, "producers/edit.html", {"form": form, "producer": producer})


@approved_producer_required
def home(request: HttpRequest, producer: Producer) -> HttpResponse:
    """The approved producer's workspace: their details and the clients who authorised them."""
    clients = client_list(producer=producer, request=request)
    return render(request, "producers/home.html", {"producer": producer, "clients": clients})


@approved_producer_required
def client(request: HttpRequest, pk: int, producer: Producer) -> HttpResponse:
    """One client: the producer picks what they need to see, among what the client authorised;
    each look is read through the audited accessor. Another producer's client, or one who
    revoked, is not found."""
    authorisation = get_object_or_404(
        Authorisation.objects.current().select_related("member__group__plan"),
        pk=pk,
        producer=producer,
    )
    form = ClientElementsForm(
        data=request.GET if "elements" in request.GET else None,
        authorised=authorisation.elements,
    )
    shown = None
    status_code = 200
    if form.is_bound and form.is_valid():
        try:
            shown = client_read(
                producer=producer,
                authorisation=authorisation,
                elements=form.cleaned_data["elements"],
                request=request,
            )
        except access.AccessDenied as refusal:
            form.add_error(None, refusal.message)
            status_code = 403
    return render(
        request,
        "producers/client.html",
        {"authorisation": authorisation, "form": form, "shown": shown},
        status=status_code,
    )


@kind_required(User.Kind.MEMBER)
@require_http_methods(["GET", "POST"])
def authorisations(request: HttpRequest) -> HttpResponse:
    """The member's producers: who may see what, since when; authorise one or change what they
    may see."""
    form = AuthoriseForm(data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            producer = approved_producer_by_licence(
                form.cleaned_data["licence_number"], form.cleaned_data["licence_region"]
            )
        except ProducerNotFound:
            form.add_error(
                "licence_number",
                _("No approved producer has this licence. Check the number and the state."),
            )
        else:
            authorisation_grant(
                producer=producer,
                elements=form.cleaned_data["elements"],
                actor=request.user,
                request=request,
            )
            messages.success(
                request,
                _("%(producer)s may now see what you chose. You can revoke this at any time.")
                % {"producer": producer},
            )
            return redirect("producers:authorisations")
    return render(
        request,
        "producers/authorisations.html",
        {"form": form, "authorisations": member_authorisations(request.user.member)},
    )


@kind_required(User.Kind.MEMBER)
@require_http_methods(["POST"])
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    authorisation = get_object_or_404(
        Authorisation.objects.select_related("producer"), pk=pk, member_id=request.user.member_id
    )
    if authorisation.is_current:  # revoking twice (a second tab) changes nothing
        authorisation_revoke(authorisation=authorisation, actor=request.user, request=request)
    messages.success(
        request,
        _("%(producer)s can no longer see anything of yours.")
        % {"producer": authorisation.producer},
    )
    return redirect("producers:authorisations")


@staff_required(*ANALYST_ROLES)
def activity(request: HttpRequest) -> HttpResponse:
    """The plan's view of producers' quoting and requests, in aggregate only (LOG-4)."""
    form = ActivityForm(data=request.GET or None)
    since = form.cleaned_data["since"] if form.is_bound and form.is_valid() else None
    return render(
        request,
        "producers/activity.html",
        {"form": form, "analysis": producer_activity(since=since), "smallest": SMALLEST_GROUP},
    )


@staff_required(*REVIEWER_ROLES)
def review_queue(request: HttpRequest) -> HttpResponse:
    """Registrations waiting for review, oldest first, and the latest decisions."""
    waiting = list(waiting_registrations())
    reviewed = list(
        Producer.objects.exclude(status=Producer.Status.PENDING)
        .select_related("reviewed_by")
        .order_by("-reviewed_at", "-pk")[:RECENTLY_REVIEWED]
    )
    return render(
        request, "producers/review_queue.html", {"waiting": waiting, "reviewed": reviewed}
    )


@staff_required(*REVIEWER_ROLES)
@require_http_methods(["GET", "POST"])
def review(request: HttpRequest, pk: int) -> HttpResponse:
    """One registration as submitted (the tax ID by its last four digits), to approve or reject."""
    producer = get_object_or_404(Producer.objects.select_related("user", "reviewed_by"), pk=pk)
    form = ReviewForm(data=request.POST or None)
    status_code = 200
    if request.method == "POST" and form.is_valid():
        try:
            producer = producer_review(
                producer=producer,
                approve=form.approve,
                note=form.cleaned_data["note"],
                actor=request.user,
            )
        except AlreadyReviewed:
            producer.refresh_from_db()
            messages.error(
                request,
                _("This registration was already reviewed; a decision cannot be made twice."),
            )
            status_code = 409
        else:
            if producer.is_approved:
                messages.success(request, _("Registration approved. The producer will be told."))
            else:
                messages.success(
                    request, _("Registration rejected. The producer will see your note.")
                )
            return redirect("producers:review_queue")
    return render(
        request, "producers/review.html", {"producer": producer, "form": form}, status=status_code
    )
