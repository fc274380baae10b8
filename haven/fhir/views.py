"""The authorisation screen, the member's connected apps, and the FHIR R4 API (DIS-8, RIG-1)."""

from collections.abc import Callable
from datetime import date, timedelta
from functools import wraps
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from oauth2_provider.exceptions import FatalClientError, OAuthToolkitError
from oauth2_provider.oauth2_backends import get_oauthlib_core

from haven.accounts.decorators import kind_required, staff_required
from haven.accounts.models import User
from haven.audit import access
from haven.audit.models import AuditEvent, EventType, Outcome
from haven.audit.policy import Resource, Sensitivity
from haven.fhir import resources as fhir
from haven.fhir import services
from haven.fhir.forms import AppRegistrationForm
from haven.fhir.models import AppStatus, Authorisation, RegisteredApp
from haven.fhir.oauth import (
    DIRECTORY_RESOURCES,
    PATIENT_RESOURCES,
    SCOPES,
    plain_words,
    scope_allows,
)
from haven.plans.models import Claim, Member
from haven.plans.services import claim_sensitivity
from haven.replica import reads_from_replica

FHIR_JSON = "application/fhir+json; charset=utf-8"
HOLDER_KINDS = (User.Kind.MEMBER, User.Kind.CAREGIVER, User.Kind.CONSUMER)
DEFAULT_COUNT = 50
MAX_COUNT = 200


# The authorisation screen ------------------------------------------------------------------


def fhir_base(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("fhir:base")).rstrip("/")


def _with_issuer(request: HttpRequest, uri: str) -> str:
    """The redirect back to the app names this server as `iss` (RFC 9207): the same issuer as in
    the SMART and OpenID discovery documents and the id_token (the FHIR base), not the site's
    root the toolkit would derive."""
    parts = urlsplit(uri)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "iss"]
    query.append(("iss", fhir_base(request)))
    return urlunsplit(parts._replace(query=urlencode(query)))


def _refuse_to_app(request: HttpRequest, error: OAuthToolkitError) -> HttpResponse:
    oauthlib_error = error.oauthlib_error
    if oauthlib_error.redirect_uri:
        uri = oauthlib_error.in_uri(oauthlib_error.redirect_uri)
        return HttpResponseRedirect(_with_issuer(request, uri))
    raise PermissionDenied(str(oauthlib_error.description))


@require_http_methods(["GET", "POST"])
def authorize(request: HttpRequest) -> HttpResponse:
    """SMART authorize endpoint: the member chooses whose record, reads what the app asks for and
    what its developer declared, and approves or refuses."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if request.user.kind not in HOLDER_KINDS:
        raise PermissionDenied
    core = get_oauthlib_core()
    try:
        scopes, credentials = core.validate_authorization_request(request)
    except FatalClientError as error:
        return render(
            request,
            "fhir/authorize_error.html",
            {"problem": error.oauthlib_error.description},
            status=400,
        )
    except OAuthToolkitError as error:
        return _refuse_to_app(request, error)
    app = RegisteredApp.objects.filter(application__client_id=credentials["client_id"]).first()
    params = request.GET
    problem = ""
    if app is None or app.status != AppStatus.APPROVED:
        problem = _("This app is not approved by the plan.")
    elif params.get("aud", "").rstrip("/") != fhir_base(request):
        problem = _("The app asked for a different server (aud) than this one.")
    elif params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
        problem = _("The app must protect its code with PKCE (S256).")
    if problem:
        return render(request, "fhir/authorize_error.html", {"problem": problem}, status=400)
    records = services.records_for(request.user)
    if not records:
        return render(
            request,
            "fhir/authorize_error.html",
            {"problem": _("Your account has no health plan record to share.")},
            status=403,
        )
    context = {
        "app": app,
        "asks": plain_words(scopes),
        "offline": "offline_access" in scopes,
        "records": records,
        "chosen": request.POST.get("record", str(records[0][0].pk)),
    }
    if request.method == "POST":
        allow = request.POST.get("decision") == "approve"
        chosen = next((m for m, _g in records if str(m.pk) == request.POST.get("record")), None)
        if allow and chosen is None:
            context["error"] = _("Choose whose record the app may read.")
            return render(request, "fhir/authorize.html", context, status=400)
        try:
            if allow:
                authorisation = services.authorisation_start(
                    app=app, member=chosen, scopes=scopes, actor=request.user
                )
                credentials["haven_authorisation_id"] = authorisation.pk
            uri, _headers, _body, _status = core.create_authorization_response(
                request, scopes, credentials, allow
            )
        except OAuthToolkitError as error:
            return _refuse_to_app(request, error)
        return HttpResponseRedirect(_with_issuer(request, uri))
    return render(request, "fhir/authorize.html", context)


# The member's connected apps ----------------------------------------------------------------


def reads_by(authorisation: Authorisation, limit: int = 10) -> QuerySet[AuditEvent]:
    """What the app read through this authorisation, newest first, from the audit trail."""
    return AuditEvent.objects.filter(
        type=EventType.DISCLOSURE,
        outcome=Outcome.ALLOWED,
        member=authorisation.member,
        actor=authorisation.user,
        recipient=authorisation.app.name,
        recorded_at__gte=authorisation.approved_at,
    ).order_by("-sequence")[:limit]


@kind_required(*HOLDER_KINDS)
@require_GET
def apps(request: HttpRequest) -> HttpResponse:
    authorisations = (
        Authorisation.objects.filter(user=request.user, approved_at__isnull=False)
        .select_related("app__application", "member")
        .order_by("revoked_at", "-approved_at")
    )
    rows = [
        {
            "authorisation": authorisation,
            "asks": plain_words(authorisation.scopes),
            "reads": list(reads_by(authorisation)),
        }
        for authorisation in authorisations
    ]
    return render(request, "fhir/apps.html", {"rows": rows})


@kind_required(*HOLDER_KINDS)
@require_POST
def app_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    authorisation = get_object_or_404(Authorisation, pk=pk, user=request.user)
    services.authorisation_revoke(authorisation=authorisation, actor=request.user)
    messages.success(
        request,
        _("%(app)s is disconnected: it can no longer read your record.")
        % {"app": authorisation.app.name},
    )
    return HttpResponseRedirect(reverse("fhir:apps"))


# Staff: registering, approving and suspending apps -------------------------------------------


@staff_required(*services.APPROVER_ROLES)
@require_http_methods(["GET", "POST"])
def staff_apps(request: HttpRequest) -> HttpResponse:
    """Administrators register an app (it waits for approval), approve it, or suspend it."""
    form = AppRegistrationForm(data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            app, secret = services.app_register(
                name=data["name"],
                redirect_uris=data["redirect_uris"],
                scopes=data["scopes"],
                developer=data["developer"],
                privacy_policy_url=data["privacy_policy_url"],
                privacy_practices=data["privacy_practices"],
                confidential=data["confidential"],
                approve=False,
                actor=request.user,
            )
        except ValidationError as error:
            field = "redirect_uris" if error.code == "redirect_uri" else None
            for message in error.messages:
                form.add_error(field, message)
        else:
            # The client secret is shown on this page once, never stored in a message or session.
            response = render(
                request, "fhir/staff_app_registered.html", {"app": app, "secret": secret}
            )
            response["Cache-Control"] = "no-store"
            return response
    registered = RegisteredApp.objects.select_related("application", "approved_by").order_by(
        "status", "application__name"
    )
    return render(request, "fhir/staff_apps.html", {"form": form, "registered": registered})


@staff_required(*services.APPROVER_ROLES)
@require_POST
def staff_app_approve(request: HttpRequest, pk: int) -> HttpResponse:
    app = services.app_approve(app=get_object_or_404(RegisteredApp, pk=pk), actor=request.user)
    messages.success(request, _("%(app)s is approved: members may connect it.") % {"app": app.name})
    return HttpResponseRedirect(reverse("fhir:staff_apps"))


@staff_required(*services.APPROVER_ROLES)
@require_POST
def staff_app_suspend(request: HttpRequest, pk: int) -> HttpResponse:
    app = services.app_suspend(app=get_object_or_404(RegisteredApp, pk=pk), actor=request.user)
    messages.success(
        request,
        _("%(app)s is suspended: its tokens stopped working and no member can connect it.")
        % {"app": app.name},
    )
    return HttpResponseRedirect(reverse("fhir:staff_apps"))


# The FHIR API -------------------------------------------------------------------------------


def fhir_response(body: dict[str, Any], status: int = 200) -> JsonResponse:
    response = JsonResponse(body, status=status, content_type=FHIR_JSON)
    response["Cache-Control"] = "no-store"
    return response


def outcome(status: int, code: str, text: str) -> JsonResponse:
    response = fhir_response(fhir.operation_outcome(code, text), status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="fhir", error="invalid_token"'
    return response


def _bearer(request: HttpRequest) -> str:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    kind, _sep, value = header.partition(" ")
    return value.strip() if kind.lower() == "bearer" else ""


def api(resource_type: str, interaction: str):
    """A FHIR endpoint: the directory is public; patient data needs a live token whose scopes
    name the resource and interaction ("r" read, "s" search)."""

    def decorator(view: Callable[..., HttpResponse]):
        @wraps(view)
        @require_GET
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if resource_type in DIRECTORY_RESOURCES:
                with reads_from_replica():  # the public directory may be a little late
                    return view(request, None, *args, **kwargs)
            token = services.token_access(_bearer(request))
            if token is None:
                return outcome(401, "login", "A valid access token is needed.")
            if not scope_allows(token.scopes, resource_type, interaction):
                return outcome(403, "forbidden", f"The token's scopes do not open {resource_type}.")
            try:
                return view(request, token, *args, **kwargs)
            except access.AccessDenied as error:
                return outcome(403, "forbidden", error.message)

        return wrapped

    return decorator


def disclose(
    request, token: services.TokenAccess, resources: list[str], record_id="", category=""
) -> Any:
    """Every read is a disclosure to the app, in the member's accounting of disclosures."""
    authorisation = token.authorisation
    return access.disclose(
        member=authorisation.member,
        resource=resources,
        recipient=authorisation.app.name,
        record_id=record_id,
        category=category,
        actor=authorisation.user,
        request=request,
    )


def _count(request: HttpRequest) -> int:
    try:
        count = int(request.GET.get("_count", DEFAULT_COUNT))
    except ValueError:
        count = DEFAULT_COUNT
    return max(1, min(count, MAX_COUNT))


def _page(request: HttpRequest) -> int:
    try:
        return max(1, int(request.GET.get("_page", 1)))
    except ValueError:
        return 1


def bundle(request: HttpRequest, items: list[Any], total: int, make) -> dict[str, Any]:
    """A searchset Bundle with self/next/previous links (`_count` and `_page`)."""
    count, page = _count(request), _page(request)
    base = request.build_absolute_uri(request.path)
    query = {key: value for key, value in request.GET.items() if key != "_page"}

    def link(relation: str, number: int) -> dict[str, str]:
        return {"relation": relation, "url": f"{base}?{urlencode({**query, '_page': number})}"}

    links = [link("self", page)]
    if page * count < total:
        links.append(link("next", page + 1))
    if page > 1:
        links.append(link("previous", page - 1))
    entries = []
    for item in items:
        resource = make(item)
        entries.append(
            {
                "fullUrl": request.build_absolute_uri(
                    reverse("fhir:read", args=[resource["resourceType"], resource["id"]])
                ),
                "resource": resource,
                "search": {"mode": "match"},
            }
        )
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": links,
        "entry": entries,
    }


def _slice(request: HttpRequest, queryset) -> tuple[list[Any], int]:
    count, page = _count(request), _page(request)
    total = queryset.count()
    start = (page - 1) * count
    return list(queryset[start : start + count]), total


def _patient_filter(request: HttpRequest, token: services.TokenAccess) -> bool:
    """A search names only the authorised patient (or none): never another member."""
    member_id = str(token.authorisation.member_id)
    for name in ("patient", "beneficiary"):
        value = request.GET.get(name, "")
        if value and value.removeprefix("Patient/") != member_id:
            return False
    return True


def _bad_param(request: HttpRequest, known: set[str]) -> JsonResponse | None:
    unknown = sorted(set(request.GET) - known - {"_count", "_page", "_format"})
    if unknown:
        return outcome(400, "not-supported", f"Unknown search parameter: {', '.join(unknown)}")
    return None


# Patient data

PATIENT_PARTS = [Resource.DEMOGRAPHICS, Resource.CONTACT]


def _member(token: services.TokenAccess) -> Member:
    return Member.objects.select_related("group__plan", "subscriber").get(
        pk=token.authorisation.member_id
    )


def patient_read(request, token, pk: str) -> JsonResponse:
    if pk != str(token.authorisation.member_id):
        return outcome(404, "not-found", "No such Patient.")
    member = _member(token)
    permitted = disclose(request, token, PATIENT_PARTS, record_id=member.pk)
    return fhir_response(fhir.patient(member, permitted.fields))


def patient_search(request, token) -> JsonResponse:
    if bad := _bad_param(request, {"_id", "identifier"}):
        return bad
    member = _member(token)
    wanted_id = request.GET.get("_id")
    identifier = request.GET.get("identifier", "").rpartition("|")[2]
    matches = (wanted_id in (None, str(member.pk))) and identifier in ("", member.member_id)
    permitted = disclose(request, token, PATIENT_PARTS) if matches else None
    items = [member] if matches else []
    return fhir_response(
        bundle(request, items, len(items), lambda m: fhir.patient(m, permitted.fields))
    )


def coverage_read(request, token, pk: str) -> JsonResponse:
    if pk != str(token.authorisation.member_id):
        return outcome(404, "not-found", "No such Coverage.")
    member = _member(token)
    disclose(request, token, [Resource.COVERAGE, Resource.DEMOGRAPHICS], record_id=member.pk)
    return fhir_response(fhir.coverage(member))


def coverage_search(request, token) -> JsonResponse:
    if bad := _bad_param(request, {"patient", "beneficiary", "_id"}):
        return bad
    if not _patient_filter(request, token):
        return outcome(403, "forbidden", "The token opens only its own patient's record.")
    member = _member(token)
    matches = request.GET.get("_id") in (None, str(member.pk))
    if matches:
        disclose(request, token, [Resource.COVERAGE, Resource.DEMOGRAPHICS])
    items = [member] if matches else []
    return fhir_response(bundle(request, items, len(items), fhir.coverage))


def eob_read(request, token, pk: str) -> JsonResponse:
    claim = (
        Claim.objects.select_related("member__group__plan")
        .filter(pk=pk if pk.isdigit() else 0, member_id=token.authorisation.member_id)
        .first()
    )
    if claim is None:
        return outcome(404, "not-found", "No such ExplanationOfBenefit.")
    # The web's rule: a claim in a protected category reaches only someone the access opens it
    # to (the member, never a guardian's or caregiver's grant). The accessor records the refusal;
    # the app is told only that there is no such claim, so the category itself is not disclosed.
    try:
        permitted = disclose(
            request, token, [Resource.CLAIMS], record_id=claim.pk, category=claim_sensitivity(claim)
        )
    except access.SensitiveCategory:
        return outcome(404, "not-found", "No such ExplanationOfBenefit.")
    fields = permitted.fields.get(Resource.CLAIMS, ())
    return fhir_response(fhir.explanation_of_benefit(claim, fields))


def _visible_claims(claims: QuerySet[Claim], permitted: access.Permitted) -> QuerySet[Claim]:
    """The claims whose protected category (if any) the access opens, as the web's claims list
    decides: the member sees all of theirs; a grant never opens a protected category."""
    if all(permitted.allows_category(category) for category in Sensitivity.values):
        return claims
    hidden = [
        claim.pk
        for claim in claims.select_related(None).only("pk", "service_category", "diagnosis_codes")
        if not permitted.allows_category(claim_sensitivity(claim))
    ]
    return claims.exclude(pk__in=hidden) if hidden else claims


DATE_PREFIXES = ("eq", "ge", "gt", "le", "lt")
CLAIM_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/claim-type"


class BadSearch(ValueError):
    pass


def _date_range(value: str) -> tuple[str, date, date]:
    """A FHIR date search value (`ge2026-02`, `2026-02-10`, `lt2026`) as its prefix and the first
    and last day it covers; a time of day is ignored (claims are dated to the day)."""
    prefix = value[:2] if value[:2] in DATE_PREFIXES else "eq"
    text = value[2:] if value[:2] in DATE_PREFIXES else value
    text = text.split("T", 1)[0]
    try:
        if len(text) == 4:
            year = int(text)
            return prefix, date(year, 1, 1), date(year, 12, 31)
        if len(text) == 7:
            first = date.fromisoformat(f"{text}-01")
            last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
            return prefix, first, last
        day = date.fromisoformat(text)
    except ValueError as error:
        raise BadSearch(f"Not a date: {value}") from error
    return prefix, day, day


def _on_date(field: str, value: str) -> Q:
    """A date search on a one-day field (`_lastUpdated` is the claim's status date)."""
    prefix, first, last = _date_range(value)
    return {
        "eq": Q(**{f"{field}__gte": first, f"{field}__lte": last}),
        "ge": Q(**{f"{field}__gte": first}),
        "gt": Q(**{f"{field}__gt": last}),
        "le": Q(**{f"{field}__lte": last}),
        "lt": Q(**{f"{field}__lt": first}),
    }[prefix]


def _in_period(value: str) -> Q:
    """A date search on the service period (`service-date`): whether the period meets the range."""
    prefix, first, last = _date_range(value)
    return {
        "eq": Q(service_start__lte=last, service_end__gte=first),
        "ge": Q(service_end__gte=first),
        "gt": Q(service_end__gt=last),
        "le": Q(service_start__lte=last),
        "lt": Q(service_start__lt=first),
    }[prefix]


def _claim_type_matches(value: str) -> bool:
    """Every claim is professional: `type` matches that code, with or without its system."""
    for token in value.split(","):
        system, sep, code = token.rpartition("|")
        if code == "professional" and (not sep or system in ("", CLAIM_TYPE_SYSTEM)):
            return True
    return False


def _claim_filters(request: HttpRequest, claims: QuerySet[Claim]) -> QuerySet[Claim]:
    if "_id" in request.GET:
        wanted = request.GET["_id"]
        claims = claims.filter(pk=wanted if wanted.isdigit() else 0)
    if "identifier" in request.GET:
        claims = claims.filter(claim_number=request.GET["identifier"].rpartition("|")[2])
    for value in request.GET.getlist("_lastUpdated"):
        claims = claims.filter(_on_date("status_on", value))
    for value in request.GET.getlist("service-date"):
        claims = claims.filter(_in_period(value))
    for value in request.GET.getlist("type"):
        if not _claim_type_matches(value):
            claims = claims.none()
    return claims


def eob_search(request, token) -> JsonResponse:
    known = {"patient", "_id", "identifier", "_lastUpdated", "service-date", "type"}
    if bad := _bad_param(request, known):
        return bad
    if not _patient_filter(request, token):
        return outcome(403, "forbidden", "The token opens only its own patient's record.")
    claims = Claim.objects.select_related("member__group__plan").filter(
        member_id=token.authorisation.member_id
    )
    try:
        claims = _claim_filters(request, claims)
    except BadSearch as error:
        return outcome(400, "invalid", str(error))
    permitted = disclose(request, token, [Resource.CLAIMS])
    claims = _visible_claims(claims, permitted)
    items, total = _slice(request, claims.order_by("-service_start", "-pk"))
    fields = permitted.fields.get(Resource.CLAIMS, ())
    return fhir_response(
        bundle(request, items, total, lambda c: fhir.explanation_of_benefit(c, fields))
    )


def _appointments(token):
    from haven.care.models import Appointment

    return Appointment.objects.select_related("slot", "practitioner").filter(
        member_id=token.authorisation.member_id
    )


def appointment_read(request, token, pk: str) -> JsonResponse:
    item = _appointments(token).filter(pk=pk if pk.isdigit() else 0).first()
    if item is None:
        return outcome(404, "not-found", "No such Appointment.")
    disclose(request, token, [Resource.APPOINTMENTS], record_id=item.pk)
    return fhir_response(fhir.appointment(item))


def appointment_search(request, token) -> JsonResponse:
    if bad := _bad_param(request, {"patient", "_id"}):
        return bad
    if not _patient_filter(request, token):
        return outcome(403, "forbidden", "The token opens only its own patient's record.")
    items = _appointments(token).order_by("-pk")
    if "_id" in request.GET:
        wanted = request.GET["_id"]
        items = items.filter(pk=wanted if wanted.isdigit() else 0)
    page, total = _slice(request, items)
    disclose(request, token, [Resource.APPOINTMENTS])
    return fhir_response(bundle(request, page, total, fhir.appointment))


# The provider directory (public)


def _practitioners():
    from haven.care.models import Practitioner

    return Practitioner.objects.order_by("last_name", "pk")


def _facilities():
    from haven.care.models import Facility

    return Facility.objects.order_by("name", "pk")


def _directory_search(request, queryset, make, *, name_fields: tuple[str, ...], specialty=False):
    known = {"_id", "name"} | ({"specialty"} if specialty else set())
    if bad := _bad_param(request, known):
        return bad
    if "_id" in request.GET:
        wanted = request.GET["_id"]
        queryset = queryset.filter(pk=wanted if wanted.isdigit() else 0)
    if name := request.GET.get("name", "").strip():
        query = Q()
        for field in name_fields:
            query |= Q(**{f"{field}__icontains": name})
        queryset = queryset.filter(query)
    if specialty and (code := request.GET.get("specialty", "").rpartition("|")[2]):
        queryset = queryset.filter(specialty=code)
    items, total = _slice(request, queryset)
    return fhir_response(bundle(request, items, total, make))


def practitioner_search(request, _token):
    return _directory_search(
        request, _practitioners(), fhir.practitioner, name_fields=("first_name", "last_name")
    )


def practitioner_role_search(request, _token):
    queryset = _practitioners()
    if practitioner := request.GET.get("practitioner", "").removeprefix("Practitioner/"):
        request.GET = request.GET.copy()
        del request.GET["practitioner"]
        queryset = queryset.filter(pk=practitioner if practitioner.isdigit() else 0)
    return _directory_search(
        request,
        queryset,
        fhir.practitioner_role,
        name_fields=("first_name", "last_name"),
        specialty=True,
    )


def organization_search(request, _token):
    return _directory_search(request, _facilities(), fhir.organization, name_fields=("name",))


def location_search(request, _token):
    return _directory_search(request, _facilities(), fhir.location, name_fields=("name",))


def _directory_read(queryset, pk: str, make, label: str) -> JsonResponse:
    item = queryset.filter(pk=pk if pk.isdigit() else 0).first()
    if item is None:
        return outcome(404, "not-found", f"No such {label}.")
    return fhir_response(make(item))


def organization_read(request, _token, pk: str) -> JsonResponse:
    if pk.startswith("plan-"):
        from haven.plans.models import Plan

        plan = Plan.objects.filter(pk=pk.removeprefix("plan-") or 0).first()
        if plan is not None and pk.removeprefix("plan-").isdigit():
            return fhir_response(fhir.insurer(plan))
        return outcome(404, "not-found", "No such Organization.")
    return _directory_read(_facilities(), pk, fhir.organization, "Organization")


ENDPOINTS: dict[str, tuple[Callable, Callable]] = {
    "Patient": (patient_read, patient_search),
    "Coverage": (coverage_read, coverage_search),
    "ExplanationOfBenefit": (eob_read, eob_search),
    "Appointment": (appointment_read, appointment_search),
    "Practitioner": (
        lambda r, t, pk: _directory_read(_practitioners(), pk, fhir.practitioner, "Practitioner"),
        practitioner_search,
    ),
    "PractitionerRole": (
        lambda r, t, pk: _directory_read(
            _practitioners(), pk, fhir.practitioner_role, "PractitionerRole"
        ),
        practitioner_role_search,
    ),
    "Organization": (organization_read, organization_search),
    "Location": (
        lambda r, t, pk: _directory_read(_facilities(), pk, fhir.location, "Location"),
        location_search,
    ),
}
HANDLERS = {
    (name, kind): api(name, kind)(handler)
    for name, (read, search) in ENDPOINTS.items()
    for kind, handler in (("r", read), ("s", search))
}


@require_GET
def resource_read(request: HttpRequest, resource_type: str, pk: str) -> HttpResponse:
    handler = HANDLERS.get((resource_type, "r"))
    if handler is None:
        return outcome(404, "not-supported", f"{resource_type} is not served here.")
    return handler(request, pk=pk)


@require_GET
def resource_search(request: HttpRequest, resource_type: str) -> HttpResponse:
    handler = HANDLERS.get((resource_type, "s"))
    if handler is None:
        return outcome(404, "not-supported", f"{resource_type} is not served here.")
    return handler(request)


@require_GET
def base(request: HttpRequest) -> HttpResponse:
    return outcome(400, "not-supported", "Name a resource type, or GET metadata.")


SEARCH_PARAMS = {
    "Patient": ["_id", "identifier"],
    "Coverage": ["_id", "patient"],
    "ExplanationOfBenefit": [
        "_id",
        "patient",
        "identifier",
        "_lastUpdated",
        "service-date",
        "type",
    ],
    "Appointment": ["_id", "patient"],
    "Practitioner": ["_id", "name"],
    "PractitionerRole": ["_id", "specialty", "practitioner"],
    "Organization": ["_id", "name"],
    "Location": ["_id", "name"],
}


PARAM_TYPES = {
    "name": "string",
    "_lastUpdated": "date",
    "service-date": "date",
    "patient": "reference",
    "practitioner": "reference",
}


@require_GET
def metadata(request: HttpRequest) -> HttpResponse:
    """The CapabilityStatement, with the SMART OAuth endpoints in rest.security."""
    oauth = {
        "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
        "extension": [
            {
                "url": "authorize",
                "valueUri": request.build_absolute_uri(reverse("oauth:authorize")),
            },
            {"url": "token", "valueUri": request.build_absolute_uri(reverse("oauth:token"))},
            {"url": "revoke", "valueUri": request.build_absolute_uri(reverse("oauth:revoke"))},
        ],
    }
    body = {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-11-25",
        "kind": "instance",
        "software": {"name": "Haven"},
        "implementation": {"description": "Haven Patient Access API", "url": fhir_base(request)},
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "extension": [
                        oauth,
                        *(
                            {
                                "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/capabilities",
                                "valueCode": capability,
                            }
                            for capability in SMART_CAPABILITIES
                        ),
                    ],
                    "cors": False,
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                    "code": "SMART-on-FHIR",
                                }
                            ]
                        }
                    ],
                },
                "resource": [
                    {
                        "type": name,
                        "interaction": [{"code": "read"}, {"code": "search-type"}],
                        "searchParam": [
                            {"name": param, "type": PARAM_TYPES.get(param, "token")}
                            for param in SEARCH_PARAMS[name]
                        ],
                    }
                    for name in (*PATIENT_RESOURCES, *DIRECTORY_RESOURCES)
                ],
            }
        ],
    }
    return fhir_response(body)


SMART_CAPABILITIES = [
    "launch-standalone",
    "client-public",
    "client-confidential-symmetric",
    "context-standalone-patient",
    "permission-offline",
    "permission-patient",
    "permission-v1",
    "permission-v2",
    "sso-openid-connect",
]


@require_GET
def openid_configuration(request: HttpRequest) -> JsonResponse:
    """OpenID Connect discovery for the issuer (the FHIR base): where the keys that sign
    id_tokens are, and what an id_token carries (`fhirUser` with the `fhirUser` scope)."""
    body = {
        "issuer": fhir_base(request),
        "authorization_endpoint": request.build_absolute_uri(reverse("oauth:authorize")),
        "token_endpoint": request.build_absolute_uri(reverse("oauth:token")),
        "revocation_endpoint": request.build_absolute_uri(reverse("oauth:revoke")),
        "jwks_uri": request.build_absolute_uri(reverse("oauth:jwks")),
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": [
            "none",
            "client_secret_basic",
            "client_secret_post",
        ],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": list(SCOPES),
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "fhirUser"],
    }
    response = JsonResponse(body)
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def smart_configuration(request: HttpRequest) -> JsonResponse:
    """SMART discovery (/.well-known/smart-configuration)."""
    body = {
        "issuer": fhir_base(request),
        "authorization_endpoint": request.build_absolute_uri(reverse("oauth:authorize")),
        "token_endpoint": request.build_absolute_uri(reverse("oauth:token")),
        "revocation_endpoint": request.build_absolute_uri(reverse("oauth:revoke")),
        "token_endpoint_auth_methods_supported": [
            "none",
            "client_secret_basic",
            "client_secret_post",
        ],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": list(SCOPES),
        "jwks_uri": request.build_absolute_uri(reverse("oauth:jwks")),
        "capabilities": SMART_CAPABILITIES,
    }
    response = JsonResponse(body)
    response["Cache-Control"] = "no-store"
    return response
