from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from haven.caregivers.middleware import ACTING_FOR_GRANT
from haven.caregivers.models import Grant


@login_required
@require_http_methods(["GET", "POST"])
def switch(request: HttpRequest) -> HttpResponse:
    """Choose whose record to act on: one's own, or that of someone who granted access."""
    grants = Grant.objects.current().filter(grantee=request.user).select_related("member")
    if request.method == "POST":
        choice = request.POST.get("grant", "")
        if choice == "self":
            request.session.pop(ACTING_FOR_GRANT, None)
            messages.success(request, _("You are now looking at your own record."))
        else:
            grant = get_object_or_404(grants, pk=choice if choice.isdigit() else 0)
            request.session[ACTING_FOR_GRANT] = grant.pk
            messages.success(
                request, _("You are now acting for %(name)s.") % {"name": grant.member.full_name}
            )
        return redirect("front:home")
    return render(request, "caregivers/switch.html", {"grants": grants})


@login_required
def grants(request: HttpRequest) -> HttpResponse:
    user = request.user
    given = (
        Grant.objects.filter(member=user.member).select_related("grantee") if user.member_id else []
    )
    held = Grant.objects.filter(grantee=user).select_related("member")
    return render(request, "caregivers/grants.html", {"given": given, "held": held})
