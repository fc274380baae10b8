"""Members' records: staff open them for a stated purpose; members and their caregivers see their
own documents. Every page that shows record data gets it from the audited accessor."""

import json
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from haven.accounts.decorators import kind_required, require_recent_password, staff_required
from haven.accounts.models import User
from haven.audit import access
from haven.audit.policy import Purpose, Resource
from haven.plans.models import Member
from haven.records import services
from haven.records.forms import DocumentForm, EmergencyForm, PurposeForm, RosterSearchForm
from haven.records.models import HealthDocument

RESOURCE_LABELS = dict(Resource.choices)


def record_url(member_pk: int, purpose: str) -> str:
    return (
        f"{reverse('records:member', kwargs={'pk': member_pk})}?{urlencode({'purpose': purpose})}"
    )


def denied(request: HttpRequest, refusal: access.AccessDenied, member_pk: int | None = None):
    """The refusal, with its reason, as the person asking should read it (AUD-5)."""
    context = {
        "message": refusal.message,
        "reason": refusal.reason,
        "member_pk": member_pk,
        "can_break_glass": request.user.has_staff_role(*services.BREAK_GLASS_ROLES),
    }
    return render(request, "records/denied.html", context, status=403)


def download(document: HealthDocument) -> HttpResponse:
    response = HttpResponse(document.content, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{document.filename}"'
    return response


# Staff --------------------------------------------------------------------------------------


@staff_required()
@require_http_methods(["GET", "POST"])
def search(request: HttpRequest) -> HttpResponse:
    """Find a member on the roster; criteria go in the POST body, never in the address."""
    form = RosterSearchForm(request.POST or None, user=request.user)
    results = None
    refusal = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            results = services.roster_search(
                last_name=data["last_name"],
                date_of_birth=data["date_of_birth"],
                member_id=data["member_id"],
                purpose=data["purpose"],
                actor=request.user,
                request=request,
            )
        except access.AccessDenied as error:
            refusal = error.message
    context = {
        "form": form,
        "results": results,
        "refusal": refusal,
        "purpose": form.cleaned_data.get("purpose", "")
        if form.is_bound and not form.errors
        else "",
        "training_problem": access.training_problem(request.user),
        "can_break_glass": request.user.has_staff_role(*services.BREAK_GLASS_ROLES),
    }
    return render(request, "records/search.html", context, status=403 if refusal else 200)


@staff_required()
def member_record(request: HttpRequest, pk: int) -> HttpResponse:
    """A member's record, showing only what the staff member's role and purpose open."""
    member = get_object_or_404(Member.objects.select_related("group__plan"), pk=pk)
    purpose = request.GET.get("purpose", "")
    if not purpose:
        context = {
            "form": PurposeForm(user=request.user),
            "member_pk": pk,
            "can_break_glass": request.user.has_staff_role(*services.BREAK_GLASS_ROLES),
        }
        return render(request, "records/purpose.html", context)
    try:
        permitted, sections, documents = services.record_read(
            member=member, purpose=purpose, actor=request.user, request=request
        )
    except access.AccessDenied as refusal:
        return denied(request, refusal, member_pk=pk)
    context = {
        "member_pk": pk,
        "name": permitted.pick(Resource.DEMOGRAPHICS, member),
        "permitted": permitted,
        "purpose": purpose,
        "purpose_label": services.purpose_label(purpose),
        "sections": sections,
        "documents": documents,
        "withheld": [str(RESOURCE_LABELS[resource]) for resource in permitted.withheld],
        "can_add_documents": request.user.has_staff_role(*services.DOCUMENT_AUTHOR_ROLES)
        and permitted.allows(Resource.DOCUMENTS),
    }
    return render(request, "records/record.html", context)


@staff_required()
def document_download(request: HttpRequest, pk: int) -> HttpResponse:
    document = get_object_or_404(HealthDocument.objects.select_related("member"), pk=pk)
    try:
        services.document_open(
            document=document,
            purpose=request.GET.get("purpose", ""),
            actor=request.user,
            request=request,
        )
    except access.AccessDenied as refusal:
        return denied(request, refusal, member_pk=document.member_id)
    return download(document)


@staff_required(*services.BREAK_GLASS_ROLES)
@require_http_methods(["GET", "POST"])
def emergency(request: HttpRequest, pk: int) -> HttpResponse:
    """Break-glass: a written reason opens the record for a limited time (AUD-7)."""
    member = get_object_or_404(Member, pk=pk)
    form = EmergencyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            grant = access.declare_emergency(
                member=member,
                reason=form.cleaned_data["reason"],
                actor=request.user,
                request=request,
            )
        except ValidationError as error:
            form.add_error("reason", error)
        except access.AccessDenied as refusal:
            return denied(request, refusal, member_pk=pk)
        else:
            messages.warning(
                request,
                _(
                    "Emergency access is open until %(time)s. Every page you open is flagged "
                    "for the privacy officer's review."
                )
                % {"time": formats.time_format(timezone.localtime(grant.expires_at))},
            )
            return redirect(record_url(pk, Purpose.EMERGENCY))
    context = {"form": form, "member_pk": pk, "minutes": access.break_glass_minutes()}
    return render(request, "records/emergency.html", context)


@staff_required(*services.DOCUMENT_AUTHOR_ROLES)
@require_http_methods(["GET", "POST"])
def document_new(request: HttpRequest, pk: int) -> HttpResponse:
    """The care team adds a document to a member's record (an audited change)."""
    member = get_object_or_404(Member, pk=pk)
    purpose = request.POST.get("purpose") or request.GET.get("purpose", "")
    form = DocumentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.document_create(
                member=member,
                title=form.cleaned_data["title"],
                category=form.cleaned_data["category"],
                content=form.cleaned_data["content"],
                purpose=purpose,
                actor=request.user,
                request=request,
            )
        except access.AccessDenied as refusal:
            return denied(request, refusal, member_pk=pk)
        except services.MedicalDataConsentMissing as refusal:
            form.add_error(None, refusal)
        else:
            messages.success(request, _("The document was added to the record."))
            return redirect(record_url(pk, purpose))
    return render(
        request, "records/document_form.html", {"form": form, "member_pk": pk, "purpose": purpose}
    )


# Members, caregivers and guardians ----------------------------------------------------------


def whose_record(request: HttpRequest) -> Member:
    """The record a request acts on: the one chosen through a grant, or one's own."""
    member = getattr(request, "acting_for", None) or request.user.member
    if member is None:
        raise PermissionDenied
    return member


@kind_required(User.Kind.MEMBER, User.Kind.CAREGIVER)
def my_documents(request: HttpRequest) -> HttpResponse:
    member = whose_record(request)
    try:
        permitted, documents = services.own_record_read(
            member=member, actor=request.user, request=request
        )
    except access.AccessDenied as refusal:
        return denied(request, refusal)
    context = {
        "documents": documents,
        "acting": permitted.grant is not None,
        "member_name": member.first_name,
    }
    return render(request, "records/my_documents.html", context)


@kind_required(User.Kind.MEMBER, User.Kind.CAREGIVER)
def my_document(request: HttpRequest, pk: int) -> HttpResponse:
    member = whose_record(request)
    document = get_object_or_404(HealthDocument, pk=pk, member=member)
    try:
        services.document_open(document=document, purpose=None, actor=request.user, request=request)
    except access.AccessDenied as refusal:
        return denied(request, refusal)
    return download(document)


@kind_required(User.Kind.MEMBER, User.Kind.CAREGIVER)
@require_recent_password
def my_export(request: HttpRequest) -> HttpResponse:
    """The record as a JSON file: for a caregiver, only what their grant opens."""
    member = whose_record(request)
    try:
        data = services.record_export(member=member, actor=request.user, request=request)
    except access.AccessDenied as refusal:
        return denied(request, refusal)
    response = HttpResponse(
        json.dumps(data, indent=1, ensure_ascii=False), content_type="application/json"
    )
    response["Content-Disposition"] = 'attachment; filename="haven-record.json"'
    return response
