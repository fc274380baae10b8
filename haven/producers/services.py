"""Producer registration and its review by staff (ACC-2)."""

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from haven.accounts.models import User
from haven.producers.models import Producer, tax_id_digits, tax_id_lookup_hash
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
