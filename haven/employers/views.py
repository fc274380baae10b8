from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from haven.accounts.decorators import kind_required, staff_required
from haven.accounts.models import User
from haven.audit import access
from haven.employers.forms import LinkForm
from haven.employers.models import SponsorContact
from haven.employers.services import (
    LINKER_ROLES,
    enrolment_page,
    sponsor_link,
    sponsor_of,
    sponsor_read,
)
from haven.plans.models import Member


@kind_required(User.Kind.EMPLOYER)
def home(request: HttpRequest) -> HttpResponse:
    """The employer's group: who is enrolled, how and since when (DIS-3)."""
    contact = sponsor_of(request.user)
    if contact is None:
        return render(request, "employers/not_linked.html")
    page, rows = enrolment_page(contact=contact, page=request.GET.get("page", 1), request=request)
    return render(request, "employers/home.html", {"contact": contact, "page": page, "rows": rows})


@kind_required(User.Kind.EMPLOYER)
def member(request: HttpRequest, pk: int) -> HttpResponse:
    """One member of the employer's group; anyone else is not found."""
    contact = sponsor_of(request.user)
    if contact is None:
        raise PermissionDenied
    person = get_object_or_404(
        Member.objects.select_related("group__plan"), pk=pk, group=contact.group
    )
    try:
        shown = sponsor_read(contact=contact, member=person, request=request)
    except access.NotAuthorised as error:
        raise Http404 from error
    return render(request, "employers/member.html", {"contact": contact, "shown": shown})


@staff_required(*LINKER_ROLES)
@require_http_methods(["GET", "POST"])
def contacts(request: HttpRequest) -> HttpResponse:
    """Administrators link employers' accounts to the groups they sponsor."""
    form = LinkForm(data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        contact = sponsor_link(
            user=form.cleaned_data["username"],
            group=form.cleaned_data["group_number"],
            actor=request.user,
        )
        messages.success(
            request,
            _("%(user)s now sees the enrolment of %(group)s.")
            % {"user": contact.user.username, "group": contact.group.name},
        )
        return redirect("employers:contacts")
    linked = SponsorContact.objects.select_related("user", "group", "linked_by")
    return render(request, "employers/contacts.html", {"form": form, "linked": linked})
