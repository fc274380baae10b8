from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from haven.accounts.decorators import kind_required
from haven.accounts.forms import SignInForm
from haven.accounts.models import User
from haven.caregivers.forms import CaregiverAccountForm, InvitationForm, RenewForm
from haven.caregivers.middleware import ACTING_FOR_GRANT
from haven.caregivers.models import Grant
from haven.caregivers.services import (
    GRANT_HOLDER_KINDS,
    caregiver_account_create,
    caregiver_invitation_accept,
    caregiver_invitation_create,
    grant_renew,
    grant_revoke,
    invitation_for_token,
    refusal_to_accept,
)
from haven.support.services import blocked_member_ids

# The invitation token travels in the session, not in the URL, once the link has been opened.
INVITATION_SESSION_KEY = "haven_caregiver_invitation"
# Links of invitations just created, shown once to the member and then forgotten.
NEW_INVITATION_LINKS = "haven_new_invitation_links"
ACCOUNT_FORM_PREFIX = "new"


@kind_required(*GRANT_HOLDER_KINDS)
def grants(request: HttpRequest) -> HttpResponse:
    """Every grant on the member's own record, and every grant the user holds."""
    user = request.user
    given = (
        list(Grant.objects.filter(member_id=user.member_id).select_related("grantee"))
        if user.member_id
        else []
    )
    held = list(Grant.objects.filter(grantee=user).select_related("member"))
    blocked = blocked_member_ids(grant.member for grant in held)
    for grant in held:
        grant.member_blocked = grant.member_id in blocked
    return render(request, "caregivers/grants.html", {"given": given, "held": held})


@kind_required(User.Kind.MEMBER)
@require_http_methods(["GET", "POST"])
def invite(request: HttpRequest) -> HttpResponse:
    """A member invites a caregiver to chosen parts of their own record (ACC-9)."""
    if request.acting_for is not None:
        return render(request, "caregivers/invite.html", {"acting_elsewhere": True})
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            grant, token = caregiver_invitation_create(
                invited_name=form.cleaned_data["invited_name"],
                scopes=form.cleaned_data["scopes"],
                last_day=form.cleaned_data["last_day"],
                actor=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            links = request.session.get(NEW_INVITATION_LINKS, {})
            links[str(grant.pk)] = token
            request.session[NEW_INVITATION_LINKS] = links
            return redirect("caregivers:invitation_link", pk=grant.pk)
    return render(request, "caregivers/invite.html", {"form": form})


@kind_required(User.Kind.MEMBER)
def invitation_link(request: HttpRequest, pk: int) -> HttpResponse:
    """The invitation link, shown once: only its hash is kept, so it cannot be shown again."""
    grant = get_object_or_404(
        Grant, pk=pk, member_id=request.user.member_id, kind=Grant.Kind.CAREGIVER
    )
    links = request.session.get(NEW_INVITATION_LINKS, {})
    token = links.pop(str(grant.pk), None)
    request.session[NEW_INVITATION_LINKS] = links
    link = None
    if token and grant.status == Grant.Status.PENDING:
        link = request.build_absolute_uri(reverse("caregivers:invitation", args=[token]))
    return render(request, "caregivers/invitation_link.html", {"grant": grant, "link": link})


@kind_required(User.Kind.MEMBER)
@require_POST
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """The member ends a caregiver's access, or cancels an invitation, at once."""
    grant = get_object_or_404(
        Grant, pk=pk, member_id=request.user.member_id, kind=Grant.Kind.CAREGIVER
    )
    grant_revoke(grant=grant, actor=request.user)
    messages.success(request, _("Access ended. They can no longer act for you."))
    return redirect("caregivers:grants")


@kind_required(User.Kind.MEMBER)
@require_http_methods(["GET", "POST"])
def renew(request: HttpRequest, pk: int) -> HttpResponse:
    """The member gives a current or expired caregiver grant another period."""
    grant = get_object_or_404(
        Grant.objects.select_related("grantee"),
        pk=pk,
        member_id=request.user.member_id,
        kind=Grant.Kind.CAREGIVER,
    )
    renewable = grant.status in (Grant.Status.CURRENT, Grant.Status.EXPIRED)
    form = RenewForm(request.POST or None)
    if request.method == "POST" and renewable and form.is_valid():
        try:
            grant_renew(grant=grant, last_day=form.cleaned_data["last_day"], actor=request.user)
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(request, _("Access renewed."))
            return redirect("caregivers:grants")
    return render(
        request, "caregivers/renew.html", {"grant": grant, "form": form, "renewable": renewable}
    )


@kind_required(*GRANT_HOLDER_KINDS)
@require_POST
def give_up(request: HttpRequest, pk: int) -> HttpResponse:
    """A caregiver stops acting for someone; the grant ends as if the member had revoked it."""
    grant = get_object_or_404(Grant, pk=pk, grantee=request.user, kind=Grant.Kind.CAREGIVER)
    grant_revoke(grant=grant, actor=request.user)
    if request.session.get(ACTING_FOR_GRANT) == grant.pk:
        del request.session[ACTING_FOR_GRANT]
    messages.success(request, _("You no longer act for this person."))
    return redirect("caregivers:grants")


@kind_required(*GRANT_HOLDER_KINDS)
@require_http_methods(["GET", "POST"])
def switch(request: HttpRequest) -> HttpResponse:
    """Choose whose record to act on: one's own, or that of someone who granted access."""
    current = list(Grant.objects.current().filter(grantee=request.user).select_related("member"))
    blocked = blocked_member_ids(grant.member for grant in current)
    available = [grant for grant in current if grant.member_id not in blocked]
    unavailable = [grant for grant in current if grant.member_id in blocked]
    if request.method == "POST":
        choice = request.POST.get("grant", "")
        if choice == "self":
            request.session.pop(ACTING_FOR_GRANT, None)
            messages.success(request, _("You are now looking at your own record."))
            return redirect("front:home")
        grant = next((grant for grant in available if str(grant.pk) == choice), None)
        if grant is None:
            if any(str(grant.pk) == choice for grant in unavailable):
                messages.error(
                    request,
                    _("Online access to this person's record is blocked at their request."),
                )
                return redirect("caregivers:switch")
            raise Http404
        request.session[ACTING_FOR_GRANT] = grant.pk
        messages.success(
            request, _("You are now acting for %(name)s.") % {"name": grant.member.full_name}
        )
        return redirect("front:home")
    context = {"grants": available, "unavailable": unavailable}
    return render(request, "caregivers/switch.html", context)


@require_GET
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """The link a member passed on: keep its token in the session and drop it from the address."""
    request.session[INVITATION_SESSION_KEY] = token
    return redirect("caregivers:accept")


def _accept_page(request: HttpRequest, grant: Grant | None, account_form=None) -> HttpResponse:
    if grant is None:
        return render(request, "caregivers/invitation_invalid.html")
    user = request.user
    context = {
        "grant": grant,
        "refusal": refusal_to_accept(grant, user) if user.is_authenticated else None,
    }
    if not user.is_authenticated:
        context["signin_form"] = SignInForm(request)
        context["account_form"] = account_form or CaregiverAccountForm(prefix=ACCOUNT_FORM_PREFIX)
    return render(request, "caregivers/accept.html", context)


@require_http_methods(["GET", "POST"])
def accept(request: HttpRequest) -> HttpResponse:
    """The invited person reads the invitation and accepts it, signing in first if needed."""
    token = request.session.get(INVITATION_SESSION_KEY, "")
    grant = invitation_for_token(token)
    if request.method == "POST" and grant is not None:
        if not request.user.is_authenticated:
            return redirect(f"{reverse('accounts:login')}?next={reverse('caregivers:accept')}")
        try:
            grant = caregiver_invitation_accept(token=token, actor=request.user)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
            return redirect("caregivers:accept")
        request.session.pop(INVITATION_SESSION_KEY, None)
        messages.success(
            request,
            _("You can now act for %(name)s. Choose their record below when you need it.")
            % {"name": grant.member.full_name},
        )
        return redirect("caregivers:switch")
    return _accept_page(request, grant)


@require_POST
def invitation_account(request: HttpRequest) -> HttpResponse:
    """Create a caregiver account from the invitation page, sign in, and accept in one step."""
    if request.user.is_authenticated:
        return redirect("caregivers:accept")
    token = request.session.get(INVITATION_SESSION_KEY, "")
    grant = invitation_for_token(token)
    form = CaregiverAccountForm(request.POST, prefix=ACCOUNT_FORM_PREFIX)
    if grant is not None and form.is_valid():
        try:
            user, grant = caregiver_account_create(
                token=token,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password1"],
                first_name=form.cleaned_data["first_name"],
                last_name=form.cleaned_data["last_name"],
                email=form.cleaned_data["email"],
            )
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            request.session.pop(INVITATION_SESSION_KEY, None)
            messages.success(
                request,
                _("Your caregiver account is ready, and you can now act for %(name)s.")
                % {"name": grant.member.full_name},
            )
            return redirect("caregivers:switch")
    return _accept_page(request, grant, account_form=form)
