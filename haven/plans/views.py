from django.contrib import messages
from django.contrib.staticfiles import finders
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from haven.accounts.decorators import kind_required, staff_required
from haven.accounts.models import User
from haven.audit import access
from haven.caregivers.services import acting_member
from haven.plans.forms import (
    ApplicationForm,
    ApplicationPeopleFormSet,
    DecisionForm,
    FindApplicationForm,
    QuoteForm,
    QuotePeopleFormSet,
)
from haven.plans.models import Application, Claim
from haven.plans.services import (
    ApplicationAlreadyDecided,
    Person,
    QuoteError,
    application_decide,
    application_estimate,
    application_submit,
    claim_read,
    claims_list,
    id_card,
    plan_view,
    quote_create,
)

APPLICATION_STAFF = ("customer_service", "administrator")
# The session remembers which application a visitor just sent, so its reference never
# travels in a URL.
LAST_APPLICATION = "haven_last_application"


def _product_from_query(request: HttpRequest) -> dict:
    product = request.GET.get("product", "")
    return {"product": product} if product.isdigit() else {}


@require_http_methods(["GET", "POST"])
def quote(request: HttpRequest) -> HttpResponse:
    """Monthly premiums from the published rate tables; posted, so ages stay out of URLs."""
    form = QuoteForm(request.POST or None, initial=_product_from_query(request))
    people = QuotePeopleFormSet(request.POST or None, prefix="person")
    result = None
    if request.method == "POST" and form.is_valid() and people.is_valid():
        chosen = [
            Person(age=row["age"], tobacco=row["tobacco"]) for row in people.cleaned_data if row
        ]
        try:
            _quote, result = quote_create(
                product=form.cleaned_data["product"],
                zip_code=form.cleaned_data["zip_code"],
                people=chosen,
                actor=request.user if request.user.is_authenticated else None,
            )
        except QuoteError as error:
            form.add_error(None, str(error))
    return render(request, "plans/quote.html", {"form": form, "people": people, "result": result})


@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest) -> HttpResponse:
    form = ApplicationForm(request.POST or None, initial=_product_from_query(request))
    people = ApplicationPeopleFormSet(request.POST or None, prefix="person")
    if request.method == "POST" and form.is_valid() and people.is_valid():
        applicant = {
            name: value
            for name, value in form.cleaned_data.items()
            if name not in ("product", "confirm")
        }
        application = application_submit(
            product=form.cleaned_data["product"],
            applicant=applicant,
            people=[row for row in people.cleaned_data if row],
            language=get_language() or "",
            actor=request.user if request.user.is_authenticated else None,
        )
        request.session[LAST_APPLICATION] = application.pk
        return redirect("plans:apply_done")
    return render(request, "plans/apply.html", {"form": form, "people": people})


def apply_done(request: HttpRequest) -> HttpResponse:
    """The reference number of the application this browser just sent."""
    pk = request.session.get(LAST_APPLICATION)
    application = Application.objects.filter(pk=pk).first() if pk else None
    if application is None:
        return redirect("plans:apply")
    return render(request, "plans/apply_done.html", {"application": application})


@staff_required(*APPLICATION_STAFF)
def applications(request: HttpRequest) -> HttpResponse:
    """The queue: reference, date and status only; the details are one click away."""
    status = request.GET.get("status", Application.Status.SUBMITTED)
    queue = Application.objects.only("pk", "reference", "submitted_at", "status")
    if status in Application.Status.values:
        queue = queue.filter(status=status)
    else:
        status = ""
    page = Paginator(queue, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "plans/applications.html",
        {
            "page": page,
            "status": status,
            "statuses": Application.Status.choices,
            "find_form": FindApplicationForm(),
        },
    )


@staff_required(*APPLICATION_STAFF)
@require_POST
def application_find(request: HttpRequest) -> HttpResponse:
    """Open an application from the reference an applicant reads out on the phone."""
    form = FindApplicationForm(request.POST)
    if form.is_valid():
        found = Application.objects.filter(reference=form.cleaned_data["reference"]).first()
        if found:
            return redirect("plans:application", pk=found.pk)
    messages.error(request, _("No application has that reference. Check it with the caller."))
    return redirect("plans:applications")


@staff_required(*APPLICATION_STAFF)
def application(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(
        Application.objects.select_related("product", "decided_by").prefetch_related("people"),
        pk=pk,
    )
    return render(
        request,
        "plans/application.html",
        {
            "application": item,
            "estimate": application_estimate(item),
            "form": DecisionForm() if item.status == Application.Status.SUBMITTED else None,
        },
    )


@staff_required(*APPLICATION_STAFF)
@require_POST
def application_decision(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(Application, pk=pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "plans/application.html",
            {"application": item, "estimate": application_estimate(item), "form": form},
        )
    try:
        application_decide(
            application=item,
            accepted=form.cleaned_data["decision"] == Application.Status.ACCEPTED,
            note=form.cleaned_data["note"],
            actor=request.user,
        )
    except ApplicationAlreadyDecided:
        messages.error(request, _("Someone has already decided this application."))
        return redirect("plans:application", pk=item.pk)
    messages.success(
        request, _("Application %(reference)s decided.") % {"reference": item.reference}
    )
    return redirect("plans:applications")


# A member's own pages, or those of the person a caregiver or guardian acts for ----------------

RECORD_KINDS = (User.Kind.MEMBER, User.Kind.CAREGIVER, User.Kind.CONSUMER)


def _denied(request: HttpRequest, refusal: access.AccessDenied) -> HttpResponse:
    return render(request, "plans/denied.html", {"message": refusal.message}, status=403)


def _nobody(request: HttpRequest) -> HttpResponse:
    """A caregiver who has not chosen whose record to see yet."""
    return render(request, "plans/nobody.html")


def _member_page(request: HttpRequest, read, template: str, name: str) -> HttpResponse:
    """A page of the member acted for, read through `read` (an audited service), or why not."""
    member = acting_member(request)
    if member is None:
        return _nobody(request)
    try:
        value = read(member=member, actor=request.user, request=request)
    except access.AccessDenied as refusal:
        return _denied(request, refusal)
    return render(request, template, {name: value, "member": member})


@kind_required(*RECORD_KINDS)
def mine(request: HttpRequest) -> HttpResponse:
    """The plan, benefits, eligibility, deductible and out-of-pocket progress (PLAN-1)."""
    return _member_page(request, plan_view, "plans/plan.html", "view")


@kind_required(*RECORD_KINDS)
def claims(request: HttpRequest) -> HttpResponse:
    """Claims and where each one stands (PLAN-2)."""
    return _member_page(request, claims_list, "plans/claims.html", "listed")


@kind_required(*RECORD_KINDS)
def claim(request: HttpRequest, pk: int) -> HttpResponse:
    member = acting_member(request)
    item = get_object_or_404(Claim.objects.select_related("member"), pk=pk, member=member)
    try:
        claim_read(claim=item, actor=request.user, request=request)
    except access.AccessDenied as refusal:
        return _denied(request, refusal)
    return render(request, "plans/claim.html", {"claim": item, "history": list(item.history.all())})


@kind_required(*RECORD_KINDS)
def card(request: HttpRequest) -> HttpResponse:
    """The member ID card on screen, ready to print (PLAN-3)."""
    return _member_page(request, id_card, "plans/card.html", "card")


def _refuse_fetch(url: str, *args, **kwargs):
    raise ValueError("the ID card is drawn from the template alone; it fetches nothing")


@kind_required(*RECORD_KINDS)
def card_pdf(request: HttpRequest) -> HttpResponse:
    """The ID card as a PDF of two card-sized pages, front and back, to print (PLAN-3)."""
    member = acting_member(request)
    if member is None:
        return _nobody(request)
    try:
        shown = id_card(member=member, actor=request.user, request=request, as_file=True)
    except access.AccessDenied as refusal:
        return _denied(request, refusal)
    # Imported here: WeasyPrint loads Pango, which only this view needs.
    from weasyprint import CSS, HTML

    html = render_to_string("plans/card_pdf.html", {"card": shown}, request=request)
    stylesheet = CSS(filename=finders.find("plans/card_pdf.css"), url_fetcher=_refuse_fetch)
    pdf = HTML(string=html, url_fetcher=_refuse_fetch).write_pdf(stylesheets=[stylesheet])
    response = HttpResponse(pdf, content_type="application/pdf")
    # A plain file name: never the member's name or ID.
    response["Content-Disposition"] = 'inline; filename="id-card.pdf"'
    return response
