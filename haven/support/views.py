"""Member services pages: find a member, block and lift online access, record guardians."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from haven.accounts.decorators import staff_required
from haven.audit import access
from haven.audit.policy import Purpose, Resource
from haven.caregivers.models import Grant
from haven.caregivers.services import ADULT_AGE, grant_revoke, guardian_grant_create
from haven.plans.models import Member
from haven.support.forms import (
    AccessBlockForm,
    AccessBlockLiftForm,
    GuardianEndForm,
    GuardianForm,
    MemberSearchForm,
)
from haven.support.models import AccessBlock
from haven.support.services import (
    MEMBER_SERVICES_ROLES,
    access_block_create,
    access_block_lift,
    blocks_covering,
)

PAST_BLOCKS_SHOWN = 100
# Member services act on a member's request about their online account: health care operations.
PURPOSE = Purpose.OPERATIONS
NAME = ("first_name", "last_name")
IDENTITY = (*NAME, "date_of_birth", "member_id", "relationship")

member_services_required = staff_required(*MEMBER_SERVICES_ROLES)


def shown(request: HttpRequest, member: Member, fields: tuple[str, ...] = NAME) -> dict:
    """The member's roster fields this staff member may see, read through the audited accessor."""
    permitted = access.read(
        member=member,
        resource=Resource.DEMOGRAPHICS,
        fields=fields,
        purpose=PURPOSE,
        actor=request.user,
        request=request,
    )
    values = with_name(permitted.pick(Resource.DEMOGRAPHICS, member))
    if "relationship" in values:
        values["relationship"] = member.get_relationship_display()
    return values


def with_name(values: dict) -> dict:
    values["name"] = " ".join(values[part] for part in NAME if values.get(part))
    return values


def names_shown(request: HttpRequest, members) -> dict[int, dict]:
    """Names of several members for a list, each recorded as seen (an audited roster search)."""
    members = list({member.pk: member for member in members}.values())
    if not members:
        return {}
    permitted = access.search(members=members, purpose=PURPOSE, actor=request.user, request=request)
    return {
        member.pk: with_name(permitted[member.pk].pick(Resource.DEMOGRAPHICS, member))
        for member in members
        if member.pk in permitted
    }


def denied(request: HttpRequest, refusal: access.AccessDenied) -> HttpResponse:
    context = {"message": refusal.message, "reason": refusal.reason}
    return render(request, "support/denied.html", context, status=403)


@member_services_required
@require_http_methods(["GET", "POST"])
def member_search(request: HttpRequest) -> HttpResponse:
    """Find a member by member ID; POST keeps the ID out of addresses and logs."""
    form = MemberSearchForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        found = form.cleaned_data["member_id"]
        try:
            access.search(members=[found], purpose=PURPOSE, actor=request.user, request=request)
        except access.AccessDenied as refusal:
            form.add_error(None, refusal.message)
        else:
            return redirect("support:member", pk=found.pk)
    return render(request, "support/member_search.html", {"form": form})


@member_services_required
def member(request: HttpRequest, pk: int) -> HttpResponse:
    """What member services need to act on a member's request, and nothing more."""
    member = get_object_or_404(Member, pk=pk)
    family = list(member.family().exclude(pk=member.pk).order_by("pk"))
    try:
        identity = shown(request, member, IDENTITY)
        names = names_shown(request, family)
    except access.AccessDenied as refusal:
        return denied(request, refusal)
    blocks = list(blocks_covering(member).select_related("created_by"))
    for block in blocks:
        block.requester = names.get(block.member_id, identity)
    today = timezone.localdate()
    context = {
        "member": member,
        "identity": identity,
        "age": member.age_on(today) if "date_of_birth" in identity else None,
        "is_minor": member.age_on(today) < ADULT_AGE,
        "family": [(relative, names.get(relative.pk, {})) for relative in family],
        "account": getattr(member, "user", None),
        "blocks": blocks,
        "grants": Grant.objects.filter(member=member).select_related("grantee"),
    }
    return render(request, "support/member.html", context)


@member_services_required
@require_http_methods(["GET", "POST"])
def block_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a member's request to block online access to their account, or their family's."""
    member = get_object_or_404(Member, pk=pk)
    try:
        identity = shown(request, member)
    except access.AccessDenied as refusal:
        return denied(request, refusal)
    form = AccessBlockForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            block = access_block_create(
                member=member,
                include_family=form.cleaned_data["include_family"],
                reason=form.cleaned_data["reason"],
                actor=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            count = block.covered_accounts().count()
            messages.success(
                request,
                ngettext(
                    "Online access is blocked. %(count)s account was signed out at once.",
                    "Online access is blocked. %(count)s accounts were signed out at once.",
                    count,
                )
                % {"count": count},
            )
            return redirect("support:member", pk=member.pk)
    context = {"member": member, "identity": identity, "form": form}
    return render(request, "support/block_create.html", context)


@member_services_required
def blocks(request: HttpRequest) -> HttpResponse:
    """Current blocks, and the most recent past ones."""
    rows = AccessBlock.objects.select_related("member", "created_by", "lifted_by")
    current = list(rows.filter(lifted_at__isnull=True))
    past = list(rows.filter(lifted_at__isnull=False).order_by("-lifted_at")[:PAST_BLOCKS_SHOWN])
    try:
        names = names_shown(request, [block.member for block in current + past])
    except access.AccessDenied as refusal:
        return denied(request, refusal)
    for block in current + past:
        block.member_name = names.get(block.member_id, {})
    context = {"current": current, "past": past, "past_limit": PAST_BLOCKS_SHOWN}
    return render(request, "support/blocks.html", context)


@member_services_required
@require_http_methods(["GET", "POST"])
def block_lift(request: HttpRequest, pk: int) -> HttpResponse:
    """Lift a block when the member asks member services to; never online by the member."""
    block = get_object_or_404(AccessBlock.objects.select_related("member", "created_by"), pk=pk)
    try:
        identity = shown(request, block.member)
    except access.AccessDenied as refusal:
        return denied(request, refusal)
    form = AccessBlockLiftForm(request.POST or None)
    if request.method == "POST" and block.is_active and form.is_valid():
        try:
            access_block_lift(block=block, note=form.cleaned_data["note"], actor=request.user)
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(request, _("The block is lifted. Signing in works again."))
            return redirect("support:member", pk=block.member_id)
    context = {"access_block": block, "identity": identity, "form": form}
    return render(request, "support/block_lift.html", context)


@member_services_required
@require_http_methods(["GET", "POST"])
def guardian_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Give a parent or guardian access to a minor's record until the minor turns 18 (ACC-8)."""
    minor = get_object_or_404(Member, pk=pk)
    try:
        identity = shown(request, minor, (*NAME, "date_of_birth"))
    except access.AccessDenied as refusal:
        return denied(request, refusal)
    is_minor = minor.age_on(timezone.localdate()) < ADULT_AGE
    form = GuardianForm(request.POST or None)
    if request.method == "POST" and is_minor and form.is_valid():
        try:
            guardian_grant_create(
                minor=minor,
                guardian=form.cleaned_data["guardian_username"],
                note=form.cleaned_data["note"],
                actor=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(
                request, _("The parent or guardian can now act for this member until they are 18.")
            )
            return redirect("support:member", pk=minor.pk)
    context = {"minor": minor, "identity": identity, "is_minor": is_minor, "form": form}
    return render(request, "support/guardian_create.html", context)


@member_services_required
@require_http_methods(["GET", "POST"])
def guardian_end(request: HttpRequest, pk: int) -> HttpResponse:
    """End a guardian's access before the minor's 18th birthday, for example on a court order."""
    grant = get_object_or_404(
        Grant.objects.select_related("member", "grantee"), pk=pk, kind=Grant.Kind.GUARDIAN
    )
    try:
        identity = shown(request, grant.member)
    except access.AccessDenied as refusal:
        return denied(request, refusal)
    form = GuardianEndForm(request.POST or None)
    if request.method == "POST" and grant.is_current and form.is_valid():
        try:
            grant_revoke(grant=grant, actor=request.user, note=form.cleaned_data["note"])
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(request, _("The guardian's access has ended."))
            return redirect("support:member", pk=grant.member_id)
    context = {"grant": grant, "identity": identity, "form": form}
    return render(request, "support/guardian_end.html", context)
