"""The privacy center's pages: for everyone (the notice, recipients, contact, cookies), for
account holders (preferences, consents, requests, disclosures) and for the privacy officer."""

from datetime import date

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.messages.storage.cookie import CookieStorage
from django.contrib.staticfiles import finders
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from haven.accounts.decorators import kind_required, require_recent_password, staff_required
from haven.accounts.models import User
from haven.audit import access
from haven.audit.policy import Purpose, Resource
from haven.caregivers.models import Scope
from haven.caregivers.services import acting_member, grant_for
from haven.plans.models import Member
from haven.privacy import facts, forms, retention, services, wording
from haven.privacy.models import (
    OPEN_STATUSES,
    AffectedMember,
    Archive,
    ConsentRecord,
    Disclosure,
    Incident,
    Inquiry,
    LegalHold,
    LocationPermission,
    Notice,
    NoticeCampaign,
    NoticeServed,
    PrintedCopyRequest,
    Recipient,
    RequestKind,
    RequestStatus,
    RetentionCategory,
    RetentionRun,
    RightsRequest,
)
from haven.privacy.notice import notice_context

ACCOUNT_KINDS = (
    User.Kind.MEMBER,
    User.Kind.CONSUMER,
    User.Kind.CAREGIVER,
    User.Kind.PRODUCER,
    User.Kind.PROVIDER,
    User.Kind.EMPLOYER,
)
REQUEST_KINDS = (User.Kind.MEMBER, User.Kind.CONSUMER, User.Kind.CAREGIVER)

account_required = kind_required(*ACCOUNT_KINDS)
requester_required = kind_required(*REQUEST_KINDS)
officer_required = staff_required(*services.OFFICER_ROLES)


def _language() -> str:
    return get_language() or settings.LANGUAGE_CODE


def subject_member(request: HttpRequest) -> Member | None:
    """Whose rights the page is about: one's own record, or (acting for someone) theirs, and
    then only with a grant that includes privacy choices and requests."""
    member = acting_member(request)
    if member is not None and member.pk != request.user.member_id:
        if grant_for(request.user, member, Scope.PRIVACY) is None:
            raise PermissionDenied
    return member


def denied(request: HttpRequest, refusal: access.AccessDenied) -> HttpResponse:
    return render(request, "privacy/denied.html", {"message": refusal.message}, status=403)


# --- Everyone ------------------------------------------------------------------------------


def center(request: HttpRequest) -> HttpResponse:
    """The privacy center: the notice, choices and rights; the banners are included here."""
    context = {
        "notice": services.notice_current(),
        "upcoming": services.notice_upcoming(),
        "officer": facts.privacy_officer(),
    }
    if request.user.is_authenticated and request.user.kind in ACCOUNT_KINDS:
        context["open_requests"] = RightsRequest.objects.filter(
            requester=request.user, status__in=OPEN_STATUSES
        ).count()
        context["closed_account_period"] = facts.retention_of("closed_accounts").period
    return render(request, "privacy/center.html", context)


def _notice_page(request: HttpRequest, notice: Notice | None, *, printable: bool = False):
    if notice is None:
        return render(request, "privacy/notice_missing.html", status=404)
    language = _language()
    context = notice_context(notice, language)
    context["upcoming"] = services.notice_upcoming()
    context["current"] = services.notice_current()
    context["versions"] = Notice.objects.filter(status=Notice.Status.PUBLISHED)
    if request.user.is_authenticated:
        services.notice_served_record(
            user=request.user, notice=notice, form=NoticeServed.Form.PAGE, language=language
        )
        context["receipt"] = request.user.notice_receipts.filter(
            notice=notice, acknowledged_at__isnull=True
        ).first()
    return render(request, "privacy/notice.html", context)


def notice_current(request: HttpRequest) -> HttpResponse:
    return _notice_page(request, services.notice_current() or services.notice_upcoming())


def _published(revision: str) -> Notice:
    try:
        day = date.fromisoformat(revision)
    except ValueError as error:
        raise Http404 from error
    return get_object_or_404(
        Notice.objects.prefetch_related("texts"), revision_date=day, status=Notice.Status.PUBLISHED
    )


def notice_version(request: HttpRequest, revision: str) -> HttpResponse:
    return _notice_page(request, _published(revision))


def notice_pdf(request: HttpRequest, revision: str) -> HttpResponse:
    """The notice as a PDF, made with WeasyPrint from the print layout (NOT-1)."""
    from weasyprint import CSS, HTML

    notice = _published(revision)
    language = _language()
    html = render_to_string("privacy/notice_pdf.html", notice_context(notice, language), request)
    stylesheet = CSS(filename=finders.find("privacy/notice-print.css"))
    pdf = HTML(string=html, base_url=settings.SITE_URL).write_pdf(stylesheets=[stylesheet])
    if request.user.is_authenticated:
        services.notice_served_record(
            user=request.user, notice=notice, form=NoticeServed.Form.PDF, language=language
        )
    response = HttpResponse(pdf, content_type="application/pdf")
    name = f"privacy-notice-{notice.revision_date.isoformat()}-{language}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_POST
def notice_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    notice = get_object_or_404(Notice, pk=pk, status=Notice.Status.PUBLISHED)
    services.notice_acknowledge(user=request.user, notice=notice, language=_language())
    messages.success(request, _("Thank you: your acknowledgement is recorded."))
    return HttpResponseRedirect(_safe_next(request) or reverse("privacy:notice_current"))


@account_required
@require_http_methods(["GET", "POST"])
def printed_copy(request: HttpRequest) -> HttpResponse:
    """Ask for the notice on paper, by post (NOT-1)."""
    notice = services.notice_current() or services.notice_upcoming()
    if notice is None:
        return render(request, "privacy/notice_missing.html", status=404)
    contact = None
    if request.user.member_id is not None:
        # The roster address and the copies asked for are the member's contact data (AUD-3).
        try:
            permitted = access.read(
                member=request.user.member,
                resource=Resource.CONTACT,
                fields=services.POSTAL_FIELDS,
                actor=request.user,
                request=request,
            )
        except access.AccessDenied as refusal:
            return denied(request, refusal)
        contact = permitted.pick(Resource.CONTACT, request.user.member)
    form = forms.PrintedCopyForm(
        request.POST or None,
        initial={
            "address": services.member_postal_address(request.user, contact),
            "language": _language(),
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.printed_copy_request(
                user=request.user,
                notice=notice,
                language=form.cleaned_data["language"],
                address=form.cleaned_data["address"],
            )
        except ValidationError as error:
            form.add_error("address", error)
        else:
            messages.success(request, _("We will post a printed copy to you."))
            return redirect("privacy:printed_copy")
    pending = PrintedCopyRequest.objects.filter(user=request.user).select_related("notice")
    return render(
        request, "privacy/printed_copy.html", {"form": form, "notice": notice, "copies": pending}
    )


def recipients(request: HttpRequest) -> HttpResponse:
    """The registry: who may receive members' data, for what, and in which country (RIG-3)."""
    registry = Recipient.objects.filter(active=True)
    home = facts.home_country()
    return render(
        request,
        "privacy/recipients.html",
        {
            "recipients": registry,
            "home_country": home,
            "abroad": [recipient for recipient in registry if recipient.country != home],
        },
    )


@require_http_methods(["GET", "POST"])
def contact(request: HttpRequest) -> HttpResponse:
    """Reach the privacy officer by form, e-mail, phone or post (RIG-5)."""
    user = request.user if request.user.is_authenticated else None
    initial = {}
    if user is not None:
        initial = {"name": user.get_full_name(), "email": user.email}
    form = forms.ContactForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.inquiry_create(user=user, **form.cleaned_data)
        messages.success(request, _("Your question has reached the privacy officer."))
        return redirect("privacy:contact")
    return render(
        request, "privacy/contact.html", {"form": form, "officer": facts.privacy_officer()}
    )


def _safe_next(request: HttpRequest) -> str:
    """The page to go back to: a path on this site, or "" (anything else is ignored)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


@require_http_methods(["GET", "POST"])
def cookies(request: HttpRequest) -> HttpResponse:
    """The cookie choices: essential ones always, analytics only with consent (CON-4, CON-5),
    and a choice against a GPC or DNT signal only once confirmed (CON-7)."""
    signal = services.privacy_signal(request)
    choice = services.cookie_choice(request)
    form = forms.CookieForm(
        request.POST or None,
        initial={
            "analytics": services.analytics_allowed(request),
            "next": request.GET.get("next", ""),
        },
    )
    if request.method == "POST" and form.is_valid():
        analytics = form.cleaned_data["analytics"] or request.POST.get("choice") == "accept"
        if request.POST.get("choice") == "essential":
            analytics = False
        response = HttpResponseRedirect(_safe_next(request) or reverse("privacy:cookies"))
        try:
            services.cookie_choice_save(
                request=request,
                response=response,
                analytics=analytics,
                confirmed=form.cleaned_data["confirm"],
            )
        except services.SignalConflict:
            return render(
                request,
                "privacy/cookies_confirm.html",
                {"signal": signal, "next": _safe_next(request)},
            )
        messages.success(request, _("Your cookie choice is saved."))
        return response
    return render(
        request,
        "privacy/cookies.html",
        {
            "form": form,
            "signal": signal,
            "choice": choice,
            "analytics_allowed": services.analytics_allowed(request),
            "wording": wording.ANALYTICS.text,
            "session_cookie": settings.SESSION_COOKIE_NAME,
            "csrf_cookie": settings.CSRF_COOKIE_NAME,
            "language_cookie": settings.LANGUAGE_COOKIE_NAME,
            "choice_cookie": services.CHOICE_COOKIE,
            "messages_cookie": CookieStorage.cookie_name,
        },
    )


@require_POST
def page_time(request: HttpRequest) -> HttpResponse:
    """The browser reports, on leaving a page, how long it was open (LOG-2); counted only for
    visitors who allowed analytics, into the day's total for the page, never per person."""
    try:
        seconds = int(request.POST.get("seconds", ""))
    except ValueError:
        return HttpResponse(status=400)
    services.page_time_count(request, request.POST.get("page", ""), seconds)
    return HttpResponse(status=204)


def gpc_json(request: HttpRequest) -> JsonResponse:
    """/.well-known/gpc.json: Haven honours Global Privacy Control (CON-7)."""
    return JsonResponse({"gpc": True, "lastUpdate": "2026-01-15"})


# --- Account holders -----------------------------------------------------------------------


@account_required
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    """Preferred name and which messages, by which channel (CON-1)."""
    user = request.user
    current = {cell: services.may_contact(user, *cell) for cell in services.preferences_for(user)}
    form = forms.PreferencesForm(
        request.POST or None, current=current, initial={"preferred_name": user.preferred_name}
    )
    if request.method == "POST" and form.is_valid():
        services.contact_preferences_update(
            user=user,
            choices=form.choices(),
            preferred_name=form.cleaned_data["preferred_name"],
            actor=user,
            language=_language(),
        )
        messages.success(request, _("Your contact preferences are saved."))
        return redirect("privacy:preferences")
    return render(
        request,
        "privacy/preferences.html",
        {"form": form, "channels": services.Channel.choices, "wording": wording.CONTACT.text},
    )


@account_required
@require_http_methods(["GET", "POST"])
def marketing(request: HttpRequest) -> HttpResponse:
    """The separate authorisation for marketing, and its withdrawal (CON-2)."""
    user = request.user
    current = services.marketing_authorisation(user)
    form = forms.MarketingForm(request.POST or None)
    if request.method == "POST":
        if request.POST.get("action") == "withdraw":
            services.marketing_withdraw(user=user, actor=user, language=_language())
            messages.success(request, _("Your marketing authorisation is withdrawn."))
            return redirect("privacy:marketing")
        if form.is_valid():
            try:
                services.marketing_authorise(
                    user=user,
                    channels=form.cleaned_data["channels"],
                    actor=user,
                    language=_language(),
                )
            except ValidationError as error:
                form.add_error("channels", error)
            else:
                messages.success(request, _("Your marketing authorisation is recorded."))
                return redirect("privacy:marketing")
    return render(
        request,
        "privacy/marketing.html",
        {
            "form": form,
            "current": current,
            "channels": services.marketing_channels(user),
            "wording": wording.MARKETING,
        },
    )


@account_required
@require_http_methods(["GET", "POST"])
def consents(request: HttpRequest) -> HttpResponse:
    """Every consent and withdrawal on record, with the words shown (CON-8); medical-data
    consent where the law requires it (CON-6); location permissions (CON-3)."""
    user = request.user
    form = forms.MedicalDataForm(request.POST or None)
    if request.method == "POST" and user.member_id:
        if request.POST.get("action") == "withdraw":
            services.medical_data_consent_record(
                user=user, member=user.member, given=False, actor=user, language=_language()
            )
            messages.success(request, _("Your consent is withdrawn."))
            return redirect("privacy:consents")
        if form.is_valid():
            services.medical_data_consent_record(
                user=user, member=user.member, given=True, actor=user, language=_language()
            )
            messages.success(request, _("Your consent is recorded."))
            return redirect("privacy:consents")
    elif request.method == "POST":
        raise PermissionDenied
    return render(
        request,
        "privacy/consents.html",
        {
            "form": form,
            "records": ConsentRecord.objects.filter(user=user)[:200],
            "medical_required": services.medical_data_consent_required(),
            "medical": services.medical_data_consent(user.member) if user.member_id else None,
            "medical_wording": wording.MEDICAL_DATA,
            "locations": LocationPermission.objects.filter(user=user),
            "marketing": services.marketing_authorisation(user),
            "analytics": services.analytics_allowed(request),
        },
    )


@account_required
@require_POST
def location_permission(request: HttpRequest) -> HttpResponse:
    """The care finder posts here when the browser grants location (CON-3); JSON or a page."""
    form = forms.LocationForm(request.POST)
    if not form.is_valid():
        return JsonResponse({"error": _("Precise location is used only to find care.")}, status=400)
    permission = services.location_permission_record(
        user=request.user,
        purpose=form.cleaned_data["purpose"],
        actor=request.user,
        user_agent=request.headers.get("User-Agent", ""),
        language=_language(),
    )
    if request.headers.get("Accept", "").startswith("application/json"):
        return JsonResponse({"granted_at": permission.granted_at.isoformat()})
    return redirect("privacy:consents")


@account_required
@require_POST
def location_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    permission = get_object_or_404(LocationPermission, pk=pk, user=request.user)
    services.location_permission_withdraw(permission=permission, actor=request.user)
    messages.success(request, _("Precise location is turned off for that use."))
    return redirect("privacy:consents")


@requester_required
def requests(request: HttpRequest) -> HttpResponse:
    """The member's requests, each with its status and deadline, and how to make a new one."""
    member = subject_member(request)
    mine = RightsRequest.objects.filter(requester=request.user).select_related("archive")
    return render(
        request,
        "privacy/requests.html",
        {
            "requests": mine,
            "member": member,
            "kinds": _kinds_for(request, member),
            "law": facts.law_label(),
        },
    )


def _kinds_for(request: HttpRequest, member: Member | None) -> list[tuple[str, str]]:
    acting_for_other = member is not None and member.pk != request.user.member_id
    kinds = []
    for kind, label in RequestKind.choices:
        if member is None and kind not in (RequestKind.ACCESS, RequestKind.DELETION):
            continue
        if acting_for_other and kind == RequestKind.DELETION:
            continue
        kinds.append((kind, label))
    return kinds


@requester_required
@require_recent_password
@require_http_methods(["GET", "POST"])
def request_new(request: HttpRequest, kind: str) -> HttpResponse:
    """Make a request; the password just given is the identity check (or the grant, for a
    guardian or caregiver acting for the member)."""
    member = subject_member(request)
    if kind not in dict(_kinds_for(request, member)):
        raise Http404
    form = forms.CorrectionForm(request.POST or None) if kind == RequestKind.CORRECTION else None
    confirm = forms.ConfirmForm(request.POST or None) if kind == RequestKind.DELETION else None
    if request.method == "POST":
        valid = (form is None or form.is_valid()) and (confirm is None or confirm.is_valid())
        if valid:
            identity = (
                RightsRequest.Identity.GRANT
                if member is not None and member.pk != request.user.member_id
                else RightsRequest.Identity.PASSWORD
            )
            extra = form.cleaned_data if form is not None else {}
            try:
                made = services.rights_request_create(
                    kind=kind, requester=request.user, member=member, identity=identity, **extra
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                if kind == RequestKind.ACCOUNTING:
                    return redirect("privacy:accounting")
                if kind == RequestKind.RECIPIENTS:
                    return redirect("privacy:recipients")
                messages.success(request, _("Your request is received."))
                return redirect("privacy:request_detail", pk=made.pk)
    remains = None
    if kind == RequestKind.DELETION:
        remains = services.what_remains(request.user, member)
    return render(
        request,
        "privacy/request_new.html",
        {
            "kind": kind,
            "label": RequestKind(kind).label,
            "form": form,
            "confirm": confirm,
            "remains": remains,
            "deadline": facts.deadline_for(kind).due(timezone.localdate()),
            "member": member,
        },
    )


def _own_request(request: HttpRequest, pk: int) -> RightsRequest:
    return get_object_or_404(
        RightsRequest.objects.select_related("member"), pk=pk, requester=request.user
    )


@requester_required
@require_http_methods(["GET", "POST"])
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A request's status, deadline and history, as the member follows it."""
    rights_request = _own_request(request, pk)
    archive = Archive.objects.filter(request=rights_request).first()
    disagreement = None
    if rights_request.status == RequestStatus.REFUSED:
        disagreement = forms.DisagreementForm(request.POST or None)
        if request.method == "POST" and disagreement.is_valid():
            services.disagreement_attach(
                request=rights_request,
                statement=disagreement.cleaned_data["statement"],
                actor=request.user,
            )
            messages.success(request, _("Your statement is attached to your record."))
            return redirect("privacy:request_detail", pk=pk)
    elif request.method == "POST" and request.POST.get("action") == "withdraw":
        services.rights_request_withdraw(request=rights_request, actor=request.user)
        return redirect("privacy:request_detail", pk=pk)
    elif request.method == "POST":
        raise PermissionDenied
    erasure = getattr(rights_request, "erasure", None)
    # The member is told only that the law makes Haven keep the data for now: a hold's reason
    # (an investigation, a lawsuit) is confidential.
    on_hold = (
        rights_request.kind == RequestKind.DELETION
        and rights_request.is_open
        and retention.holds_covering(account=request.user, member=rights_request.member).exists()
    )
    return render(
        request,
        "privacy/request_detail.html",
        {
            "req": rights_request,
            "archive": archive,
            "archive_expired": archive is not None and archive.is_expired(),
            "events": rights_request.events.all(),
            "disagreement": disagreement,
            "erasure": erasure,
            "on_hold": on_hold,
        },
    )


@requester_required
def request_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The archive's progress, for the page to refresh (htmx) without reloading."""
    rights_request = _own_request(request, pk)
    archive = get_object_or_404(Archive, request=rights_request)
    return render(
        request,
        "privacy/_request_live.html",
        {"req": rights_request, "archive": archive, "archive_expired": archive.is_expired()},
    )


@requester_required
@require_POST
def request_download(request: HttpRequest, pk: int) -> HttpResponse:
    """A fresh, expiring link to the ready archive; the link works only for its owner."""
    rights_request = _own_request(request, pk)
    archive = get_object_or_404(Archive, request=rights_request)
    if archive.status != Archive.Status.READY or archive.is_expired():
        return render(request, "privacy/archive_expired.html", {"req": rights_request}, status=410)
    token = services.archive_link_renew(archive=archive, actor=request.user)
    return redirect("privacy:archive_download", token=token)


@login_required
def archive_download(request: HttpRequest, token: str) -> HttpResponse:
    """The archive itself; an expired link shows a page that says what to do (RIG-1)."""
    archive = services.archive_for_token(token)
    if archive is None or archive.request.requester_id != request.user.pk:
        raise Http404
    if archive.status != Archive.Status.READY or archive.is_expired():
        return render(request, "privacy/archive_expired.html", {"req": archive.request}, status=410)
    services.archive_downloaded(archive=archive)
    response = HttpResponse(archive.content(), content_type="application/zip")
    response["Content-Disposition"] = (
        f'attachment; filename="haven-my-data-{archive.ready_at:%Y-%m-%d}.zip"'
    )
    return response


@requester_required
def accounting(request: HttpRequest) -> HttpResponse:
    """Who received the member's data, when, what and why, for six years (RIG-4); for an account
    with no roster entry (a consumer), who received the account's own details."""
    member = subject_member(request)
    if member is not None:
        entries = services.accounting_for(member)
    elif request.user.member_id is None:
        entries = services.accounting_for(None, account=request.user)
    else:
        entries = []
    return render(
        request,
        "privacy/accounting.html",
        {"entries": entries, "member": member, "years": facts.accounting_years()},
    )


@account_required
def incident_notice(request: HttpRequest, pk: int) -> HttpResponse:
    """A breach notice as the affected member reads it in the portal (RIG-6)."""
    affected = get_object_or_404(
        AffectedMember.objects.select_related("incident"),
        incident_id=pk,
        member_id=request.user.member_id,
        notified_at__isnull=False,
    )
    services.incident_seen(affected=affected)
    return render(
        request,
        "privacy/incident_notice.html",
        {"incident": affected.incident, "officer": facts.privacy_officer()},
    )


# --- The privacy officer -------------------------------------------------------------------


@staff_required(*services.CORRECTION_ROLES)
def dashboard(request: HttpRequest) -> HttpResponse:
    """Every open request with its deadline, the late ones first (RIG-7); notices, incidents,
    the print queue and questions waiting. Member services see the corrections to review."""
    today = timezone.localdate()
    open_requests = services.open_requests()
    if not request.user.has_staff_role(*services.OFFICER_ROLES):
        open_requests = open_requests.filter(kind=RequestKind.CORRECTION)
    open_requests = list(open_requests)
    late = [item for item in open_requests if item.is_late(today)]
    return render(
        request,
        "privacy/staff/dashboard.html",
        {
            "requests": sorted(
                open_requests, key=lambda item: (not item.is_late(today), item.deadline)
            ),
            "late_count": len(late),
            "today": today,
            "law": facts.law_label(),
            "campaigns": NoticeCampaign.objects.select_related("notice")[:5],
            "incidents": Incident.objects.exclude(status=Incident.Status.CLOSED)[:10],
            "copies_waiting": PrintedCopyRequest.objects.filter(mailed_at__isnull=True).count(),
            "inquiries_waiting": Inquiry.objects.filter(answered_at__isnull=True).count(),
        },
    )


@staff_required(*services.CORRECTION_ROLES)
@require_http_methods(["GET", "POST"])
def staff_request(request: HttpRequest, pk: int) -> HttpResponse:
    """Review one request: extend with a reason, decide a correction, carry out a deletion."""
    rights_request = get_object_or_404(
        RightsRequest.objects.select_related("member", "requester"), pk=pk
    )
    officer = request.user.has_staff_role(*services.OFFICER_ROLES)
    if not officer and rights_request.kind != RequestKind.CORRECTION:
        raise Http404
    if rights_request.member is not None:
        purpose = Purpose.OVERSIGHT if officer else Purpose.OPERATIONS
        try:
            access.read(
                member=rights_request.member,
                resource=Resource.PRIVACY,
                purpose=purpose,
                record_id=rights_request.pk,
                actor=request.user,
                request=request,
            )
        except access.AccessDenied as refusal:
            return denied(request, refusal)
    action = request.POST.get("action", "")
    extend = forms.ReasonForm(request.POST if action == "extend" else None, prefix="extend")
    refuse = forms.ReasonForm(request.POST if action == "refuse" else None, prefix="refuse")
    correct = forms.CorrectionDecisionForm(
        request.POST if action == "correct" else None,
        user=request.user,
        prefix="correct",
        initial={"value": rights_request.proposed_value},
    )
    erase = forms.ConfirmForm(request.POST if action == "erase" else None, prefix="erase")
    if request.method == "POST":
        try:
            if action == "extend" and officer and extend.is_valid():
                services.rights_request_extend(
                    request=rights_request, reason=extend.cleaned_data["reason"], actor=request.user
                )
            elif action == "refuse" and refuse.is_valid():
                services.correction_refuse(
                    request=rights_request, reason=refuse.cleaned_data["reason"], actor=request.user
                )
            elif action == "correct" and correct.is_valid():
                services.correction_accept(
                    request=rights_request,
                    value=correct.cleaned_data["value"],
                    purpose=correct.cleaned_data["purpose"],
                    actor=request.user,
                    http=request,
                )
            elif action == "erase" and officer and erase.is_valid():
                services.account_erase(request=rights_request, actor=request.user)
            else:
                raise ValidationError(_("Check the form below."))
        except access.AccessDenied as refusal:
            messages.error(request, refusal.message)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The request is updated."))
            return redirect("privacy:staff_request", pk=pk)
    waiting_deletion = rights_request.kind == RequestKind.DELETION and rights_request.is_open
    return render(
        request,
        "privacy/staff/request.html",
        {
            "req": rights_request,
            "officer": officer,
            "extend": extend,
            "refuse": refuse,
            "correct": correct,
            "erase": erase,
            "events": rights_request.events.all(),
            "erasure": getattr(rights_request, "erasure", None),
            "remains": services.what_remains(rights_request.requester, rights_request.member)
            if waiting_deletion
            else None,
            # The officer sees each hold that keeps the deletion waiting, with its reason.
            "holds": retention.holds_covering(
                account=rights_request.requester, member=rights_request.member
            ).select_related("placed_by")
            if waiting_deletion
            else [],
            "field_label": Member._meta.get_field(rights_request.field).verbose_name
            if rights_request.field
            else "",
            "current_value": getattr(rights_request.member, rights_request.field, "")
            if rights_request.field and rights_request.member
            else "",
        },
    )


@officer_required
@require_http_methods(["GET", "POST"])
def staff_notices(request: HttpRequest) -> HttpResponse:
    """The officer's notice versions, and a new draft."""
    form = forms.NoticeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            notice = services.notice_draft_save(
                notice=None,
                revision_date=form.cleaned_data["revision_date"],
                effective_date=form.cleaned_data["effective_date"],
                material=form.cleaned_data["material"],
                texts=form.texts(),
                actor=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The draft is saved."))
            return redirect("privacy:staff_notice", pk=notice.pk)
    return render(
        request,
        "privacy/staff/notices.html",
        {
            "form": form,
            "notices": Notice.objects.all(),
            "period": facts.notice_period_days(),
        },
    )


@officer_required
@require_http_methods(["GET", "POST"])
def staff_notice(request: HttpRequest, pk: int) -> HttpResponse:
    """One version: edit the draft, publish it, follow the telling of members."""
    notice = get_object_or_404(Notice.objects.prefetch_related("texts"), pk=pk)
    texts = {text.language: text for text in notice.texts.all()}
    initial = {
        "revision_date": notice.revision_date,
        "effective_date": notice.effective_date,
        "material": notice.material,
    }
    for code, text in texts.items():
        initial |= {
            f"title_{code}": text.title,
            f"changes_{code}": text.changes,
            f"body_{code}": text.body,
        }
    action = request.POST.get("action", "")
    form = forms.NoticeForm(request.POST if action == "save" else None, initial=initial)
    if request.method == "POST":
        try:
            if action == "publish":
                services.notice_publish(notice=notice, actor=request.user)
                messages.success(request, _("The notice is published; members are being told."))
                return redirect("privacy:staff_notice", pk=pk)
            if action == "save" and form.is_valid():
                services.notice_draft_save(
                    notice=notice,
                    revision_date=form.cleaned_data["revision_date"],
                    effective_date=form.cleaned_data["effective_date"],
                    material=form.cleaned_data["material"],
                    texts=form.texts(),
                    actor=request.user,
                )
                messages.success(request, _("The draft is saved."))
                return redirect("privacy:staff_notice", pk=pk)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
    return render(
        request,
        "privacy/staff/notice.html",
        {
            "notice": notice,
            "form": form,
            "problems": [] if notice.is_published else services.notice_publication_problems(notice),
            "campaigns": notice.campaigns.all(),
            "told": notice.receipts.count(),
            "acknowledged": notice.receipts.filter(acknowledged_at__isnull=False).count(),
        },
    )


@officer_required
@require_http_methods(["GET", "POST"])
def staff_recipients(request: HttpRequest) -> HttpResponse:
    """The recipients registry (RIG-3): add a recipient; the list below."""
    form = forms.RecipientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in form.Meta.fields}
        services.recipient_save(recipient=None, actor=request.user, **data)
        messages.success(request, _("The recipient is in the registry."))
        return redirect("privacy:staff_recipients")
    return render(
        request,
        "privacy/staff/recipients.html",
        {"form": form, "recipients": Recipient.objects.all()},
    )


@officer_required
@require_http_methods(["GET", "POST"])
def staff_recipient(request: HttpRequest, pk: int) -> HttpResponse:
    recipient = get_object_or_404(Recipient, pk=pk)
    form = forms.RecipientForm(request.POST or None, instance=recipient)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in form.Meta.fields}
        services.recipient_save(recipient=recipient, actor=request.user, **data)
        messages.success(request, _("The registry is updated."))
        return redirect("privacy:staff_recipients")
    return render(request, "privacy/staff/recipient.html", {"form": form, "recipient": recipient})


@officer_required
@require_http_methods(["GET", "POST"])
def staff_disclosure(request: HttpRequest) -> HttpResponse:
    """Record a disclosure required by law, with its legal basis (DIS-5)."""
    form = forms.DisclosureForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        member = Member.objects.filter(member_id=data["member_id"].strip()).first()
        if member is None:
            form.add_error("member_id", _("No member has this member ID."))
        else:
            try:
                services.disclosure_record(
                    member=member,
                    recipient=data["recipient"],
                    purpose=data["purpose"],
                    resources=data["resources"],
                    description=data["description"],
                    legal_basis=data["legal_basis"],
                    actor=request.user,
                    request=request,
                )
            except access.AccessDenied as refusal:
                form.add_error(None, refusal.message)
            except (ValidationError, PermissionDenied) as error:
                form.add_error(None, getattr(error, "messages", None) or str(error))
            else:
                messages.success(request, _("The disclosure is recorded."))
                return redirect("privacy:staff_disclosure")
    recent = Disclosure.objects.select_related("recipient")[:20]
    return render(request, "privacy/staff/disclosure.html", {"form": form, "recent": recent})


@officer_required
@require_http_methods(["GET", "POST"])
def staff_incidents(request: HttpRequest) -> HttpResponse:
    """The breach register (RIG-6): record an incident; the list with deadlines."""
    form = forms.IncidentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            incident = services.incident_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("privacy:staff_incident", pk=incident.pk)
    return render(
        request,
        "privacy/staff/incidents.html",
        {
            "form": form,
            "incidents": Incident.objects.all(),
            "today": timezone.localdate(),
            "days": facts.breach_notice_days(),
        },
    )


@officer_required
@require_http_methods(["GET", "POST"])
def staff_incident(request: HttpRequest, pk: int) -> HttpResponse:
    """Select the affected members (from the audit trail or a list), then notify them."""
    incident = get_object_or_404(Incident, pk=pk)
    action = request.POST.get("action", "")
    by_access = forms.AffectedByAccessForm(
        request.POST if action == "by_access" else None,
        prefix="access",
        initial={"start": incident.occurred_from, "end": incident.occurred_to},
    )
    by_list = forms.AffectedListForm(request.POST if action == "by_list" else None, prefix="list")
    if request.method == "POST":
        try:
            if action == "by_access" and by_access.is_valid():
                data = by_access.cleaned_data
                added = services.incident_select(
                    incident=incident,
                    members=services.members_read_by(data["staff"], data["start"], data["end"]),
                    how=f"records opened by staff account {data['staff'].pk}",
                    actor=request.user,
                )
                messages.success(request, _("%(count)s members added.") % {"count": added})
                return redirect("privacy:staff_incident", pk=pk)
            if action == "by_list" and by_list.is_valid():
                found, unknown = services.members_by_member_id(by_list.cleaned_data["member_ids"])
                if unknown:
                    by_list.add_error(
                        "member_ids",
                        _("Not on the roster: %(ids)s") % {"ids": ", ".join(unknown)},
                    )
                else:
                    added = services.incident_select(
                        incident=incident, members=found, how="listed", actor=request.user
                    )
                    messages.success(request, _("%(count)s members added.") % {"count": added})
                    return redirect("privacy:staff_incident", pk=pk)
            if action == "notify":
                services.incident_notify(incident=incident, actor=request.user)
                messages.success(request, _("Notification has started."))
                return redirect("privacy:staff_incident", pk=pk)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
    return render(
        request,
        "privacy/staff/incident.html",
        {
            "incident": incident,
            "by_access": by_access,
            "by_list": by_list,
            "affected_count": incident.affected.count(),
            "notified_count": incident.affected.filter(notified_at__isnull=False).count(),
            "seen_count": incident.affected.filter(seen_at__isnull=False).count(),
            "letters": [
                affected
                for affected in incident.affected.select_related("member")
                if "post" in affected.channels
            ],
            "today": timezone.localdate(),
        },
    )


@staff_required(*services.PRINT_QUEUE_ROLES)
@require_http_methods(["GET", "POST"])
def staff_printed_copies(request: HttpRequest) -> HttpResponse:
    """The queue of printed notices to post (NOT-1)."""
    if request.method == "POST":
        copy = get_object_or_404(PrintedCopyRequest, pk=request.POST.get("copy"))
        services.printed_copy_mailed(copy=copy, actor=request.user)
        messages.success(request, _("Marked as posted."))
        return redirect("privacy:staff_printed_copies")
    waiting = PrintedCopyRequest.objects.filter(mailed_at__isnull=True).select_related("notice")
    return render(request, "privacy/staff/printed_copies.html", {"copies": waiting})


@officer_required
@require_http_methods(["GET", "POST"])
def staff_inquiries(request: HttpRequest) -> HttpResponse:
    """Questions sent to the privacy officer with the contact form (RIG-5)."""
    if request.method == "POST":
        inquiry = get_object_or_404(Inquiry, pk=request.POST.get("inquiry"))
        services.inquiry_answered(inquiry=inquiry, actor=request.user)
        return redirect("privacy:staff_inquiries")
    return render(
        request,
        "privacy/staff/inquiries.html",
        {"inquiries": Inquiry.objects.all()[:100]},
    )


@staff_required(*retention.HOLD_ROLES)
@require_http_methods(["GET", "POST"])
def staff_holds(request: HttpRequest) -> HttpResponse:
    """Legal holds: placed, listed and lifted by the privacy officer or compliance; the last
    retention runs with what each erased and held (LOG-5)."""
    form = forms.LegalHoldForm()
    if request.method == "POST" and request.POST.get("lift"):
        hold = get_object_or_404(LegalHold, pk=request.POST["lift"])
        retention.hold_lift(hold=hold, actor=request.user)
        messages.success(
            request, _("The hold is lifted: the next retention run erases what is due.")
        )
        return redirect("privacy:staff_holds")
    if request.method == "POST":
        form = forms.LegalHoldForm(request.POST)
        if form.is_valid():
            retention.hold_place(
                actor=request.user,
                member=form.cleaned_data["member"],
                account=form.cleaned_data["account"],
                categories=form.cleaned_data["categories"],
                reason=form.cleaned_data["reason"],
            )
            messages.success(request, _("The hold is placed."))
            return redirect("privacy:staff_holds")
    labels = dict(RetentionCategory.choices)
    holds = LegalHold.objects.select_related("member", "account", "placed_by", "lifted_by")[:200]
    for hold in holds:
        hold.category_labels = [str(labels.get(c, c)) for c in hold.categories]
    return render(
        request,
        "privacy/staff/holds.html",
        {
            "form": form,
            "holds": holds,
            "runs": RetentionRun.objects.all()[:50],
            "periods": facts.retention_periods(),
        },
    )
