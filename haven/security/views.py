"""The security staff's dashboard: suspicious traffic to review (SEC-2) and the web log (LOG-1)."""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from haven.accounts.decorators import staff_required
from haven.security import services
from haven.security.forms import ReviewForm, WebLogFilterForm
from haven.security.models import SecurityEvent, WebRequest

SECURITY_ROLES = ("administrator", "compliance")
WEB_LOG_LINES = 200


@staff_required(*SECURITY_ROLES)
def dashboard(request):
    return render(
        request,
        "security/dashboard.html",
        {
            "waiting": services.events_awaiting_review().select_related("reviewed_by")[:100],
            "reviewed": SecurityEvent.objects.filter(reviewed_at__isnull=False).select_related(
                "reviewed_by"
            )[:20],
            "form": ReviewForm(),
        },
    )


@staff_required(*SECURITY_ROLES)
@require_POST
def review(request, pk: int):
    event = get_object_or_404(SecurityEvent, pk=pk)
    if event.reviewed_at is not None:
        # Two colleagues on the same event: the first review stands.
        messages.info(request, _("A colleague has already reviewed this event."))
        return redirect("security:dashboard")
    form = ReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Write what you found or did before marking the event reviewed."))
        return redirect("security:dashboard")
    services.review(event, request.user, form.cleaned_data["note"])
    if form.cleaned_data["lift_throttle"]:
        services.lift_throttle(event)
    messages.success(request, _("The event is marked reviewed."))
    return redirect("security:dashboard")


@staff_required(*SECURITY_ROLES)
def web_log(request):
    form = WebLogFilterForm(request.GET or None)
    lines = WebRequest.objects.all()
    if form.is_valid() and form.cleaned_data["address"]:
        lines = lines.filter(address=form.cleaned_data["address"])
    return render(
        request,
        "security/web_log.html",
        {
            "form": form,
            "lines": lines[:WEB_LOG_LINES],
            "retention_days": settings.HAVEN_WEBLOG_RETENTION_DAYS,
        },
    )
