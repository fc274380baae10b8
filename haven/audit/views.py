"""The privacy officer's dashboard: search the trail, review flagged access, export a report
(AUD-4); the policy table for every staff member; privacy training records (AUD-5)."""

import csv
import json
from datetime import datetime, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from haven.accounts.decorators import staff_required
from haven.accounts.models import User
from haven.audit import access, chain
from haven.audit.forms import FindMemberForm, ReviewForm, TrailFilterForm, TrainingForm
from haven.audit.models import AuditEvent, Flag, Outcome, TrainingAttestation
from haven.audit.policy import (
    ALL,
    FIELDS,
    SCOPE_RESOURCES,
    SELF,
    STAFF_POLICY,
    Purpose,
    Resource,
    Sensitivity,
)
from haven.audit.services import (
    REVIEWER_ROLES,
    TRAIL_ROLES,
    TRAINING_RECORDER_ROLES,
    review_record,
    start_of_day,
    trail,
    training_record,
)
from haven.caregivers.models import Scope
from haven.plans.models import Member

PAGE_SIZE = 50
CHECKPOINT_STALE_HOURS = 2

trail_required = staff_required(*TRAIL_ROLES)


def denied(request: HttpRequest, refusal: access.AccessDenied) -> HttpResponse:
    return render(request, "audit/denied.html", {"message": refusal.message}, status=403)


def _filters(request: HttpRequest) -> tuple[TrailFilterForm, dict]:
    form = TrailFilterForm(request.GET or None)
    if not form.is_valid():
        return form, {}
    data = form.cleaned_data
    member = None
    if data.get("member"):
        member = Member.objects.filter(pk=data["member"]).first()
    return form, {
        "member": member,
        "staff": data.get("staff"),
        "purpose": data.get("purpose", ""),
        "outcome": data.get("outcome", ""),
        "date_from": data.get("date_from"),
        "date_to": data.get("date_to"),
        "flagged_only": data.get("flagged_only", False),
        "include_trail_use": data.get("include_trail_use", False),
    }


def _chain_status() -> dict:
    checkpoints = chain.read_checkpoints()
    head = chain.ChainHead.objects.filter(pk=chain.HEAD_PK).first()
    latest = max(checkpoints, key=lambda c: c.created_at, default=None)
    stale = latest is None or (
        timezone.now() - datetime.fromisoformat(latest.created_at)
        > timedelta(hours=CHECKPOINT_STALE_HOURS)
    )
    return {
        "head": head.sequence if head else 0,
        "checkpoint": latest,
        "checkpoint_at": datetime.fromisoformat(latest.created_at) if latest else None,
        "stale": stale,
    }


@trail_required
@require_http_methods(["GET", "POST"])
def dashboard(request: HttpRequest) -> HttpResponse:
    """Search the trail by member, staff member, purpose and dates; one record of the search."""
    form, filters = _filters(request)
    find = FindMemberForm(request.POST or None)
    matches = None
    try:
        if request.method == "POST" and find.is_valid():
            matches = _find_members(request, find.cleaned_data)
        permitted = access.trail_used(
            request=request, actor=request.user, member=filters.get("member"), subtype="search"
        )
    except access.AccessDenied as refusal:
        return denied(request, refusal)
    events = trail(**filters) if filters or not request.GET else AuditEvent.objects.none()
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    context = {
        "form": form,
        "find": find,
        "matches": matches,
        "member": filters.get("member"),
        "page": page,
        "query": _query_without_page(request),
        "stats": {
            "today": AuditEvent.objects.filter(recorded_at__gte=start_of_day(today)).count(),
            "awaiting_review": AuditEvent.objects.flagged().unreviewed().count(),
            "denied_week": AuditEvent.objects.filter(
                outcome=Outcome.DENIED, recorded_at__gte=timezone.now() - timedelta(days=7)
            ).count(),
        },
        "chain": _chain_status(),
        "trail_event": permitted.event,
    }
    return render(request, "audit/dashboard.html", context)


def _find_members(request: HttpRequest, data: dict) -> list[tuple[Member, dict]]:
    members = Member.objects.all()
    if data.get("member_id"):
        members = members.filter(member_id__iexact=data["member_id"].strip())
    else:
        members = members.filter(
            last_name__iexact=data["last_name"].strip(), date_of_birth=data["date_of_birth"]
        )
    found = list(members.order_by("last_name", "first_name", "pk")[:20])
    shown = access.search(
        actor=request.user, request=request, members=found, purpose=Purpose.OVERSIGHT
    )
    return [
        (member, shown[member.pk].pick(Resource.DEMOGRAPHICS, member))
        for member in found
        if member.pk in shown
    ]


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@trail_required
def flagged(request: HttpRequest) -> HttpResponse:
    """Flagged access awaiting review (or all flagged access, reviewed too)."""
    show_reviewed = request.GET.get("reviewed") == "1"
    try:
        access.trail_used(request=request, actor=request.user, subtype="flagged")
    except access.AccessDenied as refusal:
        return denied(request, refusal)
    events = trail(flagged_only=True, unreviewed_only=not show_reviewed, include_trail_use=True)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "show_reviewed": show_reviewed,
        "query": "reviewed=1" if show_reviewed else "",
        "flag_counts": _flag_counts(),
    }
    return render(request, "audit/flagged.html", context)


def _flag_counts() -> list[tuple[str, int]]:
    waiting = AuditEvent.objects.flagged().unreviewed().values_list("flags", flat=True)
    counts = dict.fromkeys(Flag.values, 0)
    for flags in waiting:
        for name in flags:
            counts[name] = counts.get(name, 0) + 1
    labels = dict(Flag.choices)
    return [(str(labels[name]), count) for name, count in counts.items() if count]


@trail_required
@require_http_methods(["GET", "POST"])
def event(request: HttpRequest, pk: int) -> HttpResponse:
    """One event in full, its FHIR form, its reviews; the privacy officer adds a finding."""
    audit_event = get_object_or_404(
        AuditEvent.objects.select_related("actor", "member", "break_glass", "grant"), pk=pk
    )
    can_review = request.user.has_staff_role(*REVIEWER_ROLES)
    form = ReviewForm(request.POST or None)
    if request.method == "POST":
        if not can_review:
            raise PermissionDenied
        if form.is_valid():
            try:
                review_record(
                    event=audit_event,
                    finding=form.cleaned_data["finding"],
                    note=form.cleaned_data["note"],
                    actor=request.user,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("Your review was recorded."))
                return redirect("audit:flagged")
    try:
        access.trail_used(
            request=request,
            actor=request.user,
            member=audit_event.member,
            record_id=audit_event.sequence,
            subtype="event",
        )
    except access.AccessDenied as refusal:
        return denied(request, refusal)
    context = {
        "event": audit_event,
        "reviews": audit_event.reviews.select_related("reviewer"),
        "form": form,
        "can_review": can_review and audit_event.actor_id != request.user.pk,
        "fhir": json.dumps(audit_event.to_fhir(), indent=2, ensure_ascii=False),
    }
    return render(request, "audit/event.html", context)


def _csv_safe(value) -> str:
    """Spreadsheets run cells that start with these characters as formulas."""
    text = "" if value is None else str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@trail_required
def export(request: HttpRequest) -> HttpResponse:
    """The filtered trail as a CSV report; the export itself is recorded."""
    form, filters = _filters(request)
    if request.GET and not form.is_valid():
        return redirect(f"{reverse('audit:dashboard')}?{request.GET.urlencode()}")
    try:
        access.trail_used(
            request=request, actor=request.user, member=filters.get("member"), subtype="export"
        )
    except access.AccessDenied as refusal:
        return denied(request, refusal)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="haven-audit-{stamp}.csv"'
    writer = csv.writer(response)
    writer.writerow(
        [
            _("Record"),
            _("When"),
            _("Staff member or user"),
            _("Role"),
            _("Member (record number)"),
            _("Member"),
            _("Event"),
            _("Operation"),
            _("Purpose"),
            _("Parts"),
            _("Outcome"),
            _("Reason for refusal"),
            _("Flags"),
            _("Reviewed"),
            _("IP address"),
            _("Source"),
        ]
    )
    for item in trail(**filters).iterator(chunk_size=1000):
        writer.writerow(
            [
                _csv_safe(value)
                for value in (
                    item.sequence,
                    timezone.localtime(item.recorded_at).isoformat(timespec="seconds"),
                    item.actor_label or item.system_actor,
                    item.actor_role,
                    item.member_id or "",
                    item.member.full_name if item.member else "",
                    item.get_type_display(),
                    item.subtype,
                    item.get_purpose_display(),
                    " ".join(item.entity),
                    item.get_outcome_display(),
                    item.reason,
                    " ".join(item.flags),
                    _("yes") if item.review_count else _("no"),
                    item.ip_address,
                    item.source,
                )
            ]
        )
    return response


def _policy_cell(permit, resource: str) -> dict | None:
    """How one role and purpose open one part: all fields, all but a few, or a few."""
    allowed = permit.read.get(resource)
    if allowed is None:
        return None
    cell = {"change": resource in permit.change, "all": allowed == ALL}
    if not cell["all"]:
        left_out = [name for name in FIELDS[resource] if name not in allowed]
        if len(left_out) < len(allowed):
            cell["all_but"] = left_out
        else:
            cell["only"] = list(allowed)
    return cell


@staff_required()
def policy(request: HttpRequest) -> HttpResponse:
    """The policy table as it is enforced: who may see what, for which purpose (AUD-1).

    One table per role, a column per purpose and a row per part of the record, so it reads on a
    phone as well as on a desk."""
    resource_labels = dict(Resource.choices)
    sensitive_labels = dict(Sensitivity.choices)
    roles = []
    for role, purposes in STAFF_POLICY.items():
        permits = list(purposes.items())
        rows = [
            (resource_labels[resource], [_policy_cell(permit, resource) for _, permit in permits])
            for resource in Resource.values
            if any(resource in permit.read for _, permit in permits)
        ]
        roles.append(
            {
                "label": User.StaffRole(role).label,
                "purposes": [
                    (Purpose(purpose).label, purpose == Purpose.EMERGENCY) for purpose, _ in permits
                ],
                "rows": rows,
                "sensitive": [
                    [sensitive_labels[s] for s in Sensitivity.values if s in permit.sensitive]
                    for _, permit in permits
                ],
            }
        )
    scope_labels = dict(Scope.choices)
    context = {
        "roles": roles,
        "scopes": [
            (scope_labels[scope], [resource_labels[r] for r in opened])
            for scope, opened in SCOPE_RESOURCES.items()
        ],
        "self_resources": [resource_labels[r] for r in SELF.read],
        "sensitive": Sensitivity.choices,
        "fields": {resource_labels[r]: names for r, names in FIELDS.items()},
        "break_glass_minutes": access.break_glass_minutes(),
        "reason_length": access.BREAK_GLASS_REASON_MIN_LENGTH,
    }
    return render(request, "audit/policy.html", context)


@staff_required(*TRAINING_RECORDER_ROLES)
@require_http_methods(["GET", "POST"])
def training(request: HttpRequest) -> HttpResponse:
    """Every staff member's privacy training, and a form to record a completed course (AUD-5)."""
    form = TrainingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            attestation = training_record(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("Training recorded for %(name)s.")
                % {"name": attestation.staff.get_full_name() or attestation.staff.username},
            )
            return redirect("audit:training")
    now = timezone.now()
    latest = {}
    for attestation in TrainingAttestation.objects.select_related("recorded_by").order_by(
        "expires_at"
    ):
        latest[attestation.staff_id] = attestation
    staff = [
        {
            "user": person,
            "training": latest.get(person.pk),
            "current": person.pk in latest
            and latest[person.pk].completed_at <= now < latest[person.pk].expires_at,
        }
        for person in User.objects.filter(kind=User.Kind.STAFF).order_by("last_name", "username")
    ]
    return render(request, "audit/training.html", {"form": form, "staff": staff})
