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
from haven.producers.decorators import approved_producer_required
from haven.producers.forms import (
    DUPLICATE_MESSAGE,
    ProducerUpdateForm,
    RegistrationForm,
    ReviewForm,
)
from haven.producers.models import Producer
from haven.producers.services import (
    REVIEWER_ROLES,
    AlreadyReviewed,
    RegistrationConflict,
    UsernameTaken,
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
    return render(request, "producers/home.html", {"producer": producer})


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
