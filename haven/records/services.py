"""Members' records as the audited accessor lets each person see them (AUD-1, AUD-2)."""

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from haven.accounts.models import User
from haven.audit import access
from haven.audit.models import Action
from haven.audit.policy import STAFF_POLICY, Purpose, Resource, may_break_glass
from haven.plans.models import Member
from haven.records.models import Category, HealthDocument

# The parts of the record the record page shows, in order.
RECORD_PARTS = (Resource.DEMOGRAPHICS, Resource.CONTACT, Resource.COVERAGE, Resource.DOCUMENTS)
SEARCH_LIMIT = 20

FIELD_LABELS = {
    "first_name": _("First name"),
    "last_name": _("Last name"),
    "date_of_birth": _("Date of birth"),
    "gender": _("Gender"),
    "member_id": _("Member ID"),
    "relationship": _("Relationship to the subscriber"),
    "address_line": _("Address"),
    "city": _("City"),
    "region": _("State or region"),
    "postal_code": _("ZIP or postal code"),
    "phone": _("Phone"),
    "email": _("E-mail"),
    "plan": _("Plan"),
    "group": _("Employer group"),
    "coverage_start": _("Coverage start"),
    "coverage_end": _("Coverage end"),
}

# Staff roles that may declare an emergency, and those that may add documents, from the policy.
BREAK_GLASS_ROLES = tuple(role for role in STAFF_POLICY if may_break_glass(role))
DOCUMENT_AUTHOR_ROLES = tuple(
    role
    for role, purposes in STAFF_POLICY.items()
    if any(Resource.DOCUMENTS in permit.change for permit in purposes.values())
)


@dataclass
class Section:
    resource: str
    label: str
    rows: list[tuple[str, Any]]


def member_values(member: Member) -> dict[str, dict[str, Any]]:
    """Every value of the roster record by part; only `Permitted.pick` decides what is shown."""
    account = getattr(member, "user", None)
    return {
        Resource.DEMOGRAPHICS: {
            "first_name": member.first_name,
            "last_name": member.last_name,
            "date_of_birth": member.date_of_birth,
            "gender": member.get_gender_display(),
            "member_id": member.member_id,
            "relationship": member.get_relationship_display(),
        },
        Resource.CONTACT: {
            "address_line": member.address_line,
            "city": member.city,
            "region": member.region,
            "postal_code": member.postal_code,
            "phone": member.phone,
            "email": account.email if account else "",
        },
        Resource.COVERAGE: {
            "plan": str(member.group.plan),
            "group": member.group.name,
            "coverage_start": member.coverage_start,
            "coverage_end": member.coverage_end,
        },
    }


def sections(member: Member, permitted: access.Permitted) -> list[Section]:
    values = member_values(member)
    labels = dict(Resource.choices)
    return [
        Section(
            resource,
            str(labels[resource]),
            [
                (str(FIELD_LABELS.get(name, name)), value)
                for name, value in permitted.pick(resource, values[resource]).items()
            ],
        )
        for resource in values
        if permitted.allows(resource)
    ]


def documents_for(member: Member, permitted: access.Permitted) -> QuerySet[HealthDocument]:
    """The member's documents the access opened: none, or those in an allowed category."""
    if not permitted.allows(Resource.DOCUMENTS):
        return HealthDocument.objects.none()
    categories = [category for category in Category.values if permitted.allows_category(category)]
    return HealthDocument.objects.filter(member=member, category__in=categories).select_related(
        "created_by"
    )


def record_read(
    *, member: Member, purpose: str | None, actor: User, request: HttpRequest
) -> tuple[access.Permitted, list[Section], QuerySet[HealthDocument]]:
    """A staff member opens a member's record for a purpose: one audit record, allowed parts."""
    permitted = access.read(
        actor=actor, request=request, member=member, resource=RECORD_PARTS, purpose=purpose
    )
    return permitted, sections(member, permitted), documents_for(member, permitted)


def own_record_read(
    *, member: Member, actor: User, request: HttpRequest
) -> tuple[access.Permitted, QuerySet[HealthDocument]]:
    """A member (or their caregiver or guardian) opens the member's health documents."""
    permitted = access.read(
        actor=actor, request=request, member=member, resource=Resource.DOCUMENTS
    )
    return permitted, documents_for(member, permitted)


def document_open(
    *, document: HealthDocument, purpose: str | None, actor: User, request: HttpRequest
) -> HealthDocument:
    """Open one document for download; refused when its category is not open to the actor."""
    access.read(
        actor=actor,
        request=request,
        member=document.member,
        resource=Resource.DOCUMENTS,
        purpose=purpose,
        record_id=document.pk,
        category=document.category,
        subtype="download",
    )
    return document


def record_export(*, member: Member, actor: User, request: HttpRequest) -> dict[str, Any]:
    """A member's record as a file, with only the parts and categories open to the actor."""
    permitted = access.export(
        actor=actor, request=request, member=member, resource=RECORD_PARTS, recipient=""
    )
    values = member_values(member)
    data: dict[str, Any] = {
        resource: {name: str(value or "") for name, value in picked.items()}
        for resource in values
        if (picked := permitted.pick(resource, values[resource]))
    }
    data["documents"] = [
        {
            "title": document.title,
            "category": document.category,
            "created_at": document.created_at.isoformat(),
            "content": document.content,
        }
        for document in documents_for(member, permitted)
    ]
    return data


class MedicalDataConsentMissing(ValidationError):
    def __init__(self):
        super().__init__(
            _(
                "This member has not consented to Haven collecting their medical data, which the "
                "law in force requires: the document was not added. The member gives consent on "
                "their privacy page (Consents)."
            ),
            code="medical_data_consent",
        )


def document_create(
    *,
    member: Member,
    title: str,
    category: str,
    content: str,
    purpose: str | None,
    actor: User,
    request: HttpRequest,
) -> HealthDocument:
    """The care team adds a document to a member's record, audited in the same transaction.

    Where the configured law makes consent the basis for collecting medical data (GDPR, or
    HAVEN_MEDICAL_DATA_CONSENT), nothing is added until the member has recorded it (CON-6)."""
    from haven.privacy.services import medical_data_collection_allowed

    if not medical_data_collection_allowed(member):
        raise MedicalDataConsentMissing
    with access.change(
        actor=actor,
        request=request,
        member=member,
        resource=Resource.DOCUMENTS,
        action=Action.CREATE,
        purpose=purpose,
        category=category,
    ) as changed:
        document = HealthDocument.objects.create(
            member=member, title=title, category=category, content=content, created_by=actor
        )
        changed.record_id = str(document.pk)
    return document


def roster_search(
    *,
    last_name: str,
    date_of_birth,
    member_id: str,
    purpose: str | None,
    actor: User,
    request: HttpRequest,
) -> list[tuple[Member, dict[str, Any]]]:
    """Find members by member ID, or by last name and birth date; each one shown is audited."""
    members = Member.objects.select_related("group")
    if member_id:
        members = members.filter(member_id__iexact=member_id.strip())
    else:
        members = members.filter(last_name__iexact=last_name.strip(), date_of_birth=date_of_birth)
    found = list(members.order_by("last_name", "first_name", "pk")[:SEARCH_LIMIT])
    shown = access.search(actor=actor, request=request, members=found, purpose=purpose)
    return [
        (
            member,
            shown[member.pk].pick(
                Resource.DEMOGRAPHICS, member_values(member)[Resource.DEMOGRAPHICS]
            ),
        )
        for member in found
        if member.pk in shown
    ]


def purpose_label(purpose: str) -> str:
    try:
        return str(Purpose(purpose).label)
    except ValueError:
        return ""
