"""Quotes from the published rate tables, and coverage applications in the staff queue (PLAN-4)."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from haven.accounts.models import User
from haven.plans.models import (
    Application,
    ApplicationPerson,
    Product,
    Quote,
    Rate,
    RatingArea,
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
