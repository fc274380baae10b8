"""Quotes and coverage applications (PLAN-4); a member's plan, claims and ID card (PLAN-1..3)."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from haven.accounts.models import User
from haven.audit import access
from haven.audit.policy import Purpose, Resource, Sensitivity
from haven.caregivers.models import Grant, Scope
from haven.caregivers.services import grant_for
from haven.plans.models import (
    Accumulator,
    Application,
    ApplicationPerson,
    Claim,
    EmployerGroup,
    Member,
    Plan,
    PlanBenefit,
    Product,
    Quote,
    Rate,
    RatingArea,
    ServiceCategory,
)


class QuoteError(Exception):
    """The quote cannot be given; the message says why in plain words."""


@dataclass(frozen=True)
class Person:
    age: int
    tobacco: bool = False


@dataclass(frozen=True)
class QuoteLine:
    number: int
    age: int
    tobacco: bool
    band: str
    premium: Decimal
    charged: bool


@dataclass(frozen=True)
class QuoteResult:
    product: Product
    area: RatingArea
    lines: list[QuoteLine]
    uncharged_reason: str

    @property
    def total(self) -> Decimal:
        return sum((line.premium for line in self.lines if line.charged), Decimal("0.00"))

    @property
    def yearly_total(self) -> Decimal:
        return self.total * 12


def quote_compute(*, product: Product, zip_code: str, people: list[Person]) -> QuoteResult:
    """Each person's monthly premium from the product's rate table for the ZIP code's area.

    Family rule: of the people younger than the product's child age limit, only the oldest
    `max_charged_children` pay (the others are covered at no premium).
    """
    if not people:
        raise QuoteError(_("Add at least one person to cover."))
    area = RatingArea.for_zip(zip_code)
    if area is None:
        raise QuoteError(
            _("We do not offer plans in the area of this ZIP code yet. Check the ZIP code.")
        )
    rates = list(Rate.objects.filter(product=product, area=area))
    if not rates:
        raise QuoteError(_("This plan has no published premiums for your area."))
    children = sorted(
        (index for index, person in enumerate(people) if person.age < product.child_age_limit),
        key=lambda index: -people[index].age,
    )
    limit = product.max_charged_children
    not_charged = set(children[limit:]) if limit is not None else set()
    lines = []
    for index, person in enumerate(people):
        rate = _rate_for(rates, person)
        if rate is None:
            raise QuoteError(
                _("This plan has no published premium for age %(age)s in your area.")
                % {"age": person.age}
            )
        lines.append(
            QuoteLine(
                number=index + 1,
                age=person.age,
                tobacco=person.tobacco,
                band=rate.band_label,
                premium=rate.monthly_premium,
                charged=index not in not_charged,
            )
        )
    reason = ""
    if not_charged:
        reason = _(
            "Only the %(count)s oldest people under %(age)s pay a premium; the others are "
            "covered at no extra cost."
        ) % {"count": limit, "age": product.child_age_limit}
    return QuoteResult(product=product, area=area, lines=lines, uncharged_reason=reason)


def _rate_for(rates: list[Rate], person: Person) -> Rate | None:
    """The band that holds the age; tobacco users pay the non-tobacco rate where none is set."""
    in_band = [rate for rate in rates if rate.age_min <= person.age <= rate.age_max]
    matching = [rate for rate in in_band if rate.tobacco == person.tobacco]
    fallback = [rate for rate in in_band if not rate.tobacco]
    return (matching or fallback or [None])[0]


@transaction.atomic
def quote_create(
    *, product: Product, zip_code: str, people: list[Person], actor: User | None
) -> tuple[Quote, QuoteResult]:
    """Compute a quote and keep only what the plan's aggregate analysis needs (LOG-4)."""
    result = quote_compute(product=product, zip_code=zip_code, people=people)
    producer = actor if _is_approved_producer(actor) else None
    quote = Quote.objects.create(
        product=product,
        area=result.area,
        family_size=len(people),
        age_bands=sorted(line.band for line in result.lines),
        tobacco_users=sum(1 for person in people if person.tobacco),
        monthly_total=result.total,
        producer=producer,
    )
    return quote, result


def _is_approved_producer(user: User | None) -> bool:
    if user is None or not user.is_authenticated or user.kind != User.Kind.PRODUCER:
        return False
    producer = getattr(user, "producer", None)
    return producer is not None and producer.is_approved


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


@transaction.atomic
def application_submit(
    *,
    product: Product,
    applicant: dict,
    people: list[dict],
    language: str,
    actor: User | None,
) -> Application:
    """Put a visitor's application in the staff queue; the reference is for phone calls."""
    submitted_by = actor if actor is not None and actor.is_authenticated else None
    reference = Application._meta.get_field("reference").get_default()
    while Application.objects.filter(reference=reference).exists():
        reference = Application._meta.get_field("reference").get_default()
    application = Application.objects.create(
        reference=reference,
        product=product,
        language=language,
        submitted_by=submitted_by,
        **applicant,
    )
    ApplicationPerson.objects.bulk_create(
        ApplicationPerson(application=application, **person) for person in people
    )
    return application


class ApplicationAlreadyDecided(Exception):
    pass


@transaction.atomic
def application_decide(
    *, application: Application, accepted: bool, note: str, actor: User
) -> Application:
    """Accept or decline an application waiting in the queue, with a note for the file."""
    locked = Application.objects.select_for_update().get(pk=application.pk)
    if locked.status != Application.Status.SUBMITTED:
        raise ApplicationAlreadyDecided
    locked.status = Application.Status.ACCEPTED if accepted else Application.Status.DECLINED
    locked.decision_note = note
    locked.decided_by = actor
    locked.decided_at = timezone.now()
    locked.save(update_fields=["status", "decision_note", "decided_by", "decided_at"])
    return locked


def application_estimate(application: Application) -> QuoteResult | None:
    """The monthly premium the rate table gives for the applicant's family today, if any."""
    today = timezone.localdate()
    people = [Person(age_on(application.date_of_birth, today), application.tobacco)]
    people += [
        Person(age_on(person.date_of_birth, today), person.tobacco)
        for person in application.people.all()
    ]
    try:
        return quote_compute(
            product=application.product, zip_code=application.postal_code, people=people
        )
    except QuoteError:
        return None


# A member's plan, claims and ID card (PLAN-1, PLAN-2, PLAN-3) --------------------------------
# Read only through the audited accessor, with the member (or their caregiver or guardian, by
# their grant) as the actor: one audit record per page, and only the parts it opened.

# Diagnosis code prefixes (ICD-10) that put a claim in a protected category; the first match wins.
SENSITIVE_DIAGNOSES = (
    ("F1", Sensitivity.SUBSTANCE_USE),
    ("F", Sensitivity.MENTAL_HEALTH),
    ("B20", Sensitivity.HIV),
    ("Z21", Sensitivity.HIV),
    ("O", Sensitivity.REPRODUCTIVE_HEALTH),
    ("Z3", Sensitivity.REPRODUCTIVE_HEALTH),
)
SENSITIVE_SERVICES = {
    ServiceCategory.MENTAL_HEALTH: Sensitivity.MENTAL_HEALTH,
    ServiceCategory.MATERNITY: Sensitivity.REPRODUCTIVE_HEALTH,
}
# The claim amounts behind the deductible and out-of-pocket progress.
PROGRESS_FIELDS = ("deductible_applied", "member_responsibility")
COVERAGE_FIELDS = ("plan", "group", "coverage_start", "coverage_end")
CARD_FIELDS = ("first_name", "last_name", "member_id", *COVERAGE_FIELDS)
CLAIM_LIST_FIELDS = (
    "claim_number",
    "service_start",
    "provider_name",
    "service_category",
    "status",
    "status_on",
    "billed_amount",
    "member_responsibility",
)


def claim_sensitivity(claim: Claim) -> str:
    """The protected category a claim falls in, from its service or its diagnoses, or ""."""
    if claim.service_category in SENSITIVE_SERVICES:
        return SENSITIVE_SERVICES[claim.service_category]
    for code in claim.diagnosis_codes:
        for prefix, category in SENSITIVE_DIAGNOSES:
            if code.startswith(prefix):
                return category
    return ""


@dataclass(frozen=True)
class Progress:
    """How far a member (or a family) has gone towards a limit this plan year."""

    met: Decimal
    limit: Decimal

    @property
    def shown(self) -> Decimal:
        return min(self.met, self.limit) if self.limit else self.met

    @property
    def left(self) -> Decimal:
        return max(self.limit - self.met, Decimal("0.00"))

    @property
    def reached(self) -> bool:
        return bool(self.limit) and self.met >= self.limit


@dataclass
class PlanView:
    member: Member
    permitted: access.Permitted
    plan: Plan
    group: EmployerGroup
    benefits: list[PlanBenefit]
    covered_today: bool
    deductible: Progress | None = None
    out_of_pocket: Progress | None = None
    family_deductible: Progress | None = None
    family_out_of_pocket: Progress | None = None
    family: list["FamilyMember"] = field(default_factory=list)
    family_not_shown: int = 0


@dataclass(frozen=True)
class FamilyMember:
    member: Member
    covered_today: bool
    deductible: Progress | None
    grant: Grant


def _accumulators(members: list[Member], year: int) -> dict[int, Accumulator]:
    return {
        row.member_id: row for row in Accumulator.objects.filter(member__in=members, plan_year=year)
    }


def plan_view(*, member: Member, actor: User, request: HttpRequest) -> PlanView:
    """The member's plan, benefits, eligibility and progress this plan year (PLAN-1).

    The deductible and out-of-pocket progress come from claim amounts, so they are shown only
    when the access opens claims. A subscriber also sees the family's combined progress and,
    for each dependant who shares their plan with them (a grant), that dependant's coverage.
    """
    permitted = access.read(
        actor=actor,
        request=request,
        member=member,
        resource=[Resource.COVERAGE, Resource.CLAIMS],
        fields=[*COVERAGE_FIELDS, *PROGRESS_FIELDS],
    )
    if not permitted.allows(Resource.COVERAGE):
        raise access.NotAuthorised(_("Your access to this record does not include the plan."))
    group = member.group
    plan = group.plan
    today = timezone.localdate()
    view = PlanView(
        member=member,
        permitted=permitted,
        plan=plan,
        group=group,
        benefits=list(plan.benefits.all()),
        covered_today=member.is_covered_on(today),
    )
    family = list(member.family().order_by("pk")) if member.subscriber_id is None else [member]
    totals = _accumulators(family, plan.year)
    if permitted.allows(Resource.CLAIMS):
        own = totals.get(member.pk)
        view.deductible = Progress(
            own.deductible_met if own else Decimal("0.00"), plan.deductible_individual
        )
        view.out_of_pocket = Progress(
            own.out_of_pocket_met if own else Decimal("0.00"), plan.out_of_pocket_max_individual
        )
        if len(family) > 1:
            view.family_deductible = Progress(
                sum((row.deductible_met for row in totals.values()), Decimal("0.00")),
                plan.deductible_family,
            )
            view.family_out_of_pocket = Progress(
                sum((row.out_of_pocket_met for row in totals.values()), Decimal("0.00")),
                plan.out_of_pocket_max_family,
            )
    if permitted.purpose == Purpose.SELF and member.subscriber_id is None:
        dependants = [person for person in family if person.pk != member.pk]
        for dependant in dependants:
            shown = _dependant(dependant, totals.get(dependant.pk), plan, today, actor, request)
            if shown:
                view.family.append(shown)
        view.family_not_shown = len(dependants) - len(view.family)
    return view


def _dependant(
    dependant: Member,
    totals: Accumulator | None,
    plan: Plan,
    today: date,
    actor: User,
    request: HttpRequest,
) -> FamilyMember | None:
    """A dependant's coverage on the subscriber's page, if they share their plan with them."""
    grant = grant_for(actor, dependant, Scope.PLAN)
    if grant is None:
        return None
    permitted = access.read(
        actor=actor,
        request=request,
        member=dependant,
        resource=[Resource.COVERAGE, Resource.CLAIMS],
        fields=[*COVERAGE_FIELDS, *PROGRESS_FIELDS],
    )
    deductible = None
    if permitted.allows(Resource.CLAIMS):
        met = totals.deductible_met if totals else Decimal("0.00")
        deductible = Progress(met, plan.deductible_individual)
    return FamilyMember(
        member=dependant,
        covered_today=dependant.is_covered_on(today),
        deductible=deductible,
        grant=grant,
    )


@dataclass
class ClaimList:
    permitted: access.Permitted
    claims: list[Claim]
    hidden: int


def claims_list(*, member: Member, actor: User, request: HttpRequest) -> ClaimList:
    """The member's claims, newest first, without their codes; claims in a protected category
    are left out unless the access opens it (a guardian does not see a teenager's)."""
    permitted = access.read(
        actor=actor,
        request=request,
        member=member,
        resource=Resource.CLAIMS,
        fields=CLAIM_LIST_FIELDS,
    )
    claims = list(Claim.objects.filter(member=member).order_by("-service_start", "-pk"))
    shown = [claim for claim in claims if permitted.allows_category(claim_sensitivity(claim))]
    return ClaimList(permitted=permitted, claims=shown, hidden=len(claims) - len(shown))


def claim_read(*, claim: Claim, actor: User, request: HttpRequest) -> access.Permitted:
    """One claim with its amounts, codes and history (PLAN-2): refused, and recorded, when its
    protected category is not open to the actor."""
    return access.read(
        actor=actor,
        request=request,
        member=claim.member,
        resource=Resource.CLAIMS,
        record_id=claim.pk,
        category=claim_sensitivity(claim),
    )


@dataclass
class IdCard:
    member: Member
    permitted: access.Permitted
    plan: Plan
    group: EmployerGroup
    copays: list[PlanBenefit]

    @property
    def shows_name(self) -> bool:
        return self.permitted.allows(Resource.DEMOGRAPHICS)


CARD_COPAYS = (
    ServiceCategory.PRIMARY_CARE,
    ServiceCategory.SPECIALIST,
    ServiceCategory.URGENT_CARE,
    ServiceCategory.EMERGENCY,
)


def id_card(*, member: Member, actor: User, request: HttpRequest, as_file: bool = False) -> IdCard:
    """What the member's ID card shows: name, member ID, group and plan, pharmacy numbers
    (PLAN-3). As a file (the PDF) it is recorded as an export, to the member themselves."""
    if as_file:
        permitted = access.export(
            actor=actor,
            request=request,
            member=member,
            resource=[Resource.DEMOGRAPHICS, Resource.COVERAGE],
            fields=CARD_FIELDS,
        )
    else:
        permitted = access.read(
            actor=actor,
            request=request,
            member=member,
            resource=[Resource.DEMOGRAPHICS, Resource.COVERAGE],
            fields=CARD_FIELDS,
            subtype="id_card",
        )
    if not permitted.allows(Resource.COVERAGE):
        raise access.NotAuthorised(_("Your access to this record does not include the plan."))
    group = member.group
    plan = group.plan
    copays = [
        benefit
        for benefit in plan.benefits.filter(category__in=CARD_COPAYS)
        if benefit.in_network_copay is not None
    ]
    copays.sort(key=lambda benefit: CARD_COPAYS.index(benefit.category))
    return IdCard(member=member, permitted=permitted, plan=plan, group=group, copays=copays)
