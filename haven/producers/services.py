"""Producer registration and its review by staff (ACC-2); members authorising producers and what
an authorised producer sees of them, through the audited accessor; the plan's aggregate analysis of
producers' quoting and requests (LOG-4)."""

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from haven.accounts.models import User
from haven.analytics.suppression import SMALLEST_SHOWN
from haven.audit import access
from haven.audit.models import Action
from haven.audit.policy import Purpose, Resource
from haven.plans.models import Member, Product, Quote
from haven.producers.models import (
    Authorisation,
    ClientElement,
    ElementRequest,
    Producer,
    licence_number_normalised,
    tax_id_digits,
    tax_id_lookup_hash,
)
from haven.producers.tasks import notify_producer_of_review

REVIEWER_ROLES = (User.StaffRole.PRODUCER_SUPPORT, User.StaffRole.ADMINISTRATOR)


class RegistrationConflict(Exception):
    """Another producer holds this tax ID or licence; which one, and who, is never said."""


class UsernameTaken(Exception):
    pass


class AlreadyReviewed(Exception):
    """The registration was approved or rejected already; a decision is made once."""


@dataclass(frozen=True)
class ProducerDetails:
    """What a producer submits about themselves, apart from the tax ID and sign-in details."""

    kind: str
    legal_name: str
    agency_name: str
    first_name: str
    last_name: str
    date_of_birth: date | None
    licence_number: str
    licence_region: str
    address_line: str
    city: str
    region: str
    postal_code: str
    phone: str
    email: str

    @classmethod
    def of(cls, producer: Producer) -> "ProducerDetails":
        user = producer.user
        return cls(
            kind=producer.kind,
            legal_name=producer.legal_name,
            agency_name=producer.agency_name,
            first_name=user.first_name,
            last_name=user.last_name,
            date_of_birth=producer.date_of_birth,
            licence_number=producer.licence_number,
            licence_region=producer.licence_region,
            address_line=producer.address_line,
            city=producer.city,
            region=producer.region,
            postal_code=producer.postal_code,
            phone=user.phone,
            email=user.email,
        )

    def producer_fields(self) -> dict:
        individual = self.kind == Producer.Kind.INDIVIDUAL
        return {
            "kind": self.kind,
            "legal_name": self.legal_name,
            "agency_name": self.agency_name,
            # An agency has no birthday; keeping one would be data we do not need.
            "date_of_birth": self.date_of_birth if individual else None,
            "licence_number": self.licence_number,
            "licence_region": self.licence_region,
            "address_line": self.address_line,
            "city": self.city,
            "region": self.region,
            "postal_code": self.postal_code,
        }

    def user_fields(self) -> dict:
        return {
            "first_name": self.first_name,
            "last_name": self.last_name,
            "phone": self.phone,
            "email": self.email,
        }


def _registration_taken(*, tax_id_hash: str, details: ProducerDetails, exclude_pk=None) -> bool:
    same = Q(tax_id_hash=tax_id_hash) | Q(
        licence_number=details.licence_number, licence_region=details.licence_region
    )
    return Producer.objects.filter(same).exclude(pk=exclude_pk).exists()


def producer_register(
    *, details: ProducerDetails, tax_id: str, username: str, password: str, language: str = ""
) -> Producer:
    """A new producer account, waiting for staff approval; the tax ID is kept only as a hash."""
    tax_id_hash = tax_id_lookup_hash(tax_id)
    try:
        with transaction.atomic():
            if User.objects.filter(username__iexact=username).exists():
                raise UsernameTaken
            if _registration_taken(tax_id_hash=tax_id_hash, details=details):
                raise RegistrationConflict
            user = User(
                username=username,
                kind=User.Kind.PRODUCER,
                language=language,
                **details.user_fields(),
            )
            user.set_password(password)
            user.password_changed_at = timezone.now()
            user.save()
            return Producer.objects.create(
                user=user,
                tax_id_hash=tax_id_hash,
                tax_id_last4=tax_id_digits(tax_id)[-4:],
                status=Producer.Status.PENDING,
                **details.producer_fields(),
            )
    except IntegrityError as error:
        # Someone registered the same details a moment ago, between our check and the insert.
        if User.objects.filter(username__iexact=username).exists():
            raise UsernameTaken from error
        raise RegistrationConflict from error


def producer_update(
    *, producer: Producer, details: ProducerDetails, tax_id: str | None, actor: User
) -> Producer:
    """The producer corrects what they submitted, while it still waits for review."""
    if actor.pk != producer.user_id:
        raise PermissionDenied
    tax_id_hash = tax_id_lookup_hash(tax_id) if tax_id else producer.tax_id_hash
    try:
        with transaction.atomic():
            producer = (
                Producer.objects.select_for_update().select_related("user").get(pk=producer.pk)
            )
            if not producer.is_pending:
                raise AlreadyReviewed
            if _registration_taken(
                tax_id_hash=tax_id_hash, details=details, exclude_pk=producer.pk
            ):
                raise RegistrationConflict
            for name, value in details.producer_fields().items():
                setattr(producer, name, value)
            if tax_id:
                producer.tax_id_hash = tax_id_hash
                producer.tax_id_last4 = tax_id_digits(tax_id)[-4:]
            producer.save()
            user = producer.user
            for name, value in details.user_fields().items():
                setattr(user, name, value)
            user.save(update_fields=list(details.user_fields()))
            return producer
    except IntegrityError as error:
        raise RegistrationConflict from error


@transaction.atomic
def producer_review(*, producer: Producer, approve: bool, note: str, actor: User) -> Producer:
    """Approve or reject a waiting registration, once; the producer is told by e-mail to sign in."""
    if not actor.has_staff_role(*REVIEWER_ROLES):
        raise PermissionDenied
    note = note.strip()
    if not approve and not note:
        raise ValueError("a rejection needs a note the producer can act on")
    producer = Producer.objects.select_for_update().get(pk=producer.pk)
    if not producer.is_pending:
        raise AlreadyReviewed
    producer.status = Producer.Status.APPROVED if approve else Producer.Status.REJECTED
    producer.review_note = note
    producer.reviewed_by = actor
    producer.reviewed_at = timezone.now()
    producer.save(update_fields=["status", "review_note", "reviewed_by", "reviewed_at"])
    # The database task backend enqueues in this transaction: no e-mail for a decision rolled back.
    notify_producer_of_review.enqueue(producer.pk)
    return producer


def waiting_registrations():
    return Producer.objects.filter(status=Producer.Status.PENDING).order_by("submitted_at", "pk")


# --- Clients: members who authorise a producer ------------------------------------------------

# Which part of the record, and which of its fields, each element opens through the accessor.
ELEMENT_FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    ClientElement.NAME: (Resource.DEMOGRAPHICS, ("first_name", "last_name")),
    ClientElement.DATE_OF_BIRTH: (Resource.DEMOGRAPHICS, ("date_of_birth",)),
    ClientElement.MEMBER_ID: (Resource.DEMOGRAPHICS, ("member_id",)),
    ClientElement.CONTACT: (
        Resource.CONTACT,
        ("address_line", "city", "region", "postal_code", "phone"),
    ),
    ClientElement.COVERAGE: (
        Resource.COVERAGE,
        ("plan", "group", "coverage_start", "coverage_end"),
    ),
}


class ProducerNotFound(Exception):
    """No approved producer holds that licence."""


def approved_producer_by_licence(licence_number: str, licence_region: str) -> Producer:
    """The approved producer a member names by the licence the producer gave them."""
    try:
        number = licence_number_normalised(licence_number)
    except ValidationError as error:
        raise ProducerNotFound from error
    producer = Producer.objects.filter(
        licence_number=number, licence_region=licence_region, status=Producer.Status.APPROVED
    ).first()
    if producer is None:
        raise ProducerNotFound
    return producer


def _clean_elements(elements) -> list[str]:
    chosen = [element for element in ClientElement.values if element in set(elements)]
    if not chosen:
        raise ValidationError(
            _("Choose at least one thing the producer may see."), code="no_elements"
        )
    return chosen


def _own_member(actor: User) -> Member:
    if actor.kind != User.Kind.MEMBER or actor.member_id is None:
        raise PermissionDenied
    return actor.member


def authorisation_grant(
    *,
    producer: Producer,
    elements,
    actor: User,
    request: HttpRequest | None = None,
) -> Authorisation:
    """The member lets an approved producer see the chosen elements of their record; authorising
    the same producer again changes what they may see. Recorded in the audit trail as a change of
    the member's privacy choices."""
    member = _own_member(actor)
    if not producer.is_approved:
        raise ProducerNotFound
    chosen = _clean_elements(elements)
    exists = Authorisation.objects.current().filter(member=member, producer=producer).exists()
    with access.change(
        actor=actor,
        request=request,
        member=member,
        resource=Resource.PRIVACY,
        action=Action.UPDATE if exists else Action.CREATE,
    ) as change:
        current = (
            Authorisation.objects.select_for_update()
            .current()
            .filter(member=member, producer=producer)
            .first()
        )
        if current is None:
            current = Authorisation.objects.create(
                member=member, producer=producer, elements=chosen, authorised_by=actor
            )
        else:
            current.elements = chosen
            current.authorised_by = actor
            current.authorised_at = timezone.now()
            current.save(update_fields=["elements", "authorised_by", "authorised_at"])
        change.record_id = f"producer-authorisation:{current.pk}"
    return current


def authorisation_revoke(
    *, authorisation: Authorisation, actor: User, request: HttpRequest | None = None
) -> Authorisation:
    """The member withdraws an authorisation; the producer sees nothing of them from now on."""
    member = _own_member(actor)
    if authorisation.member_id != member.pk:
        raise PermissionDenied
    with access.change(
        actor=actor,
        request=request,
        member=member,
        resource=Resource.PRIVACY,
        action=Action.DELETE,
        record_id=f"producer-authorisation:{authorisation.pk}",
    ):
        authorisation = Authorisation.objects.select_for_update().get(pk=authorisation.pk)
        if authorisation.revoked_at is None:
            authorisation.revoked_at = timezone.now()
            authorisation.revoked_by = actor
            authorisation.save(update_fields=["revoked_at", "revoked_by"])
    return authorisation


def member_authorisations(member: Member):
    return Authorisation.objects.filter(member=member).select_related("producer")


def producer_clients(producer: Producer):
    """The producer's current clients: members whose authorisation they hold now."""
    return (
        Authorisation.objects.current()
        .filter(producer=producer)
        .select_related("member__group__plan")
        .order_by("authorised_at", "pk")
    )


@dataclass
class ClientView:
    authorisation: Authorisation
    elements: list[str]
    values: dict[str, object]
    permitted: access.Permitted


def _values(member: Member, permitted: access.Permitted) -> dict[str, object]:
    values: dict[str, object] = {}
    for resource in (Resource.DEMOGRAPHICS, Resource.CONTACT):
        values.update(permitted.pick(resource, member))
    coverage = {
        "plan": member.group.plan.name,
        "group": member.group.name,
        "coverage_start": member.coverage_start,
        "coverage_end": member.coverage_end,
    }
    values.update(permitted.pick(Resource.COVERAGE, coverage))
    return values


def client_read(
    *,
    producer: Producer,
    authorisation: Authorisation,
    elements,
    request: HttpRequest | None = None,
    count_request: bool = True,
) -> ClientView:
    """What the producer asked to see of one client, within what the client authorised, read
    through the audited accessor with the producer's purpose. Each element asked for is counted,
    without the client, for the plan's analysis (LOG-4)."""
    if not producer.is_approved:
        raise PermissionDenied
    if authorisation.producer_id != producer.pk or not authorisation.is_current:
        raise access.NotAuthorised(_("This person has not authorised you, or no longer does."))
    wanted = [element for element in _clean_elements(elements) if element in authorisation.elements]
    if not wanted:
        raise access.NotAuthorised(_("This client has not authorised you to see that."))
    resources: list[str] = []
    fields: list[str] = []
    for element in wanted:
        resource, names = ELEMENT_FIELDS[element]
        if resource not in resources:
            resources.append(resource)
        fields.extend(names)
    member = authorisation.member
    permitted = access.read(
        member=member,
        resource=resources,
        fields=fields,
        purpose=Purpose.PRODUCER,
        record_id=f"producer-authorisation:{authorisation.pk}",
        actor=producer.user,
        request=request,
        subtype="producer-view",
    )
    if count_request:
        ElementRequest.objects.bulk_create(
            ElementRequest(producer=producer, element=element) for element in wanted
        )
    return ClientView(
        authorisation=authorisation,
        elements=wanted,
        values=_values(member, permitted),
        permitted=permitted,
    )


def client_list(
    *, producer: Producer, request: HttpRequest | None = None
) -> list[tuple[Authorisation, ClientView | None]]:
    """The producer's clients, each with their name read through the accessor when the client
    authorised it (one audit record per name shown); not counted as requests."""
    rows = []
    for authorisation in producer_clients(producer):
        view = None
        if ClientElement.NAME in authorisation.elements:
            view = client_read(
                producer=producer,
                authorisation=authorisation,
                elements=[ClientElement.NAME],
                request=request,
                count_request=False,
            )
        rows.append((authorisation, view))
    return rows


# --- The plan's analysis of producers' activity (LOG-4) ---------------------------------------

# A group smaller than this (producers contributing to it) is not shown, as in every statistic.
SMALLEST_GROUP = SMALLEST_SHOWN
ANALYST_ROLES = (
    User.StaffRole.PRODUCER_SUPPORT,
    User.StaffRole.COMPLIANCE,
    User.StaffRole.ADMINISTRATOR,
)


@dataclass(frozen=True)
class Tally:
    label: str
    count: int
    producers: int


@dataclass
class Analysis:
    since: date | None
    products: list[Tally]
    products_suppressed: int
    elements: list[Tally]
    elements_suppressed: int


def _keep(rows: list[Tally]) -> tuple[list[Tally], int]:
    shown = [row for row in rows if row.producers >= SMALLEST_GROUP]
    shown.sort(key=lambda row: (-row.count, row.label))
    return shown, len(rows) - len(shown)


def producer_activity(*, since: date | None = None) -> Analysis:
    """Most-quoted products and most-requested data elements, by producers, in aggregate: each
    group counts the quotes or requests and the distinct producers behind them, and a group of
    fewer than SMALLEST_GROUP producers is left out (only how many were left out is said).
    No total is given, so a left-out group cannot be found by subtraction."""
    quotes = Quote.objects.filter(producer__isnull=False)
    requests = ElementRequest.objects.all()
    if since is not None:
        quotes = quotes.filter(quoted_on__gte=since)
        requests = requests.filter(requested_on__gte=since)
    by_product = quotes.values("product").annotate(
        count=Count("pk"), producers=Count("producer", distinct=True)
    )
    names = dict(Product.objects.values_list("pk", "name"))
    products, products_suppressed = _keep(
        [Tally(names[row["product"]], row["count"], row["producers"]) for row in by_product]
    )
    labels = dict(ClientElement.choices)
    by_element = requests.values("element").annotate(
        count=Count("pk"), producers=Count("producer", distinct=True)
    )
    elements, elements_suppressed = _keep(
        [
            Tally(str(labels.get(row["element"], row["element"])), row["count"], row["producers"])
            for row in by_element
        ]
    )
    return Analysis(
        since=since,
        products=products,
        products_suppressed=products_suppressed,
        elements=elements,
        elements_suppressed=elements_suppressed,
    )
