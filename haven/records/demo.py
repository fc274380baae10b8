"""Demo health documents, care assignments and a day of audited access for `haven demo`.

Nobody here is real. The accesses go through the real accessor, so the demo trail is a genuine
hash chain with flags for the privacy officer to review; they are made once, on an empty trail.
"""

from contextlib import suppress
from datetime import timedelta

from django.db import transaction
from django.test import RequestFactory
from django.utils import timezone

from haven.accounts.models import User
from haven.audit import access
from haven.audit.models import AuditEvent
from haven.audit.policy import Purpose, Resource
from haven.plans.models import Member
from haven.records.models import CareAssignment, Category, HealthDocument
from haven.records.services import RECORD_PARTS

DOCUMENTS = [
    # member_id, title, category, content
    (
        "HVN1000001",
        "Annual physical: visit summary",
        Category.VISIT_SUMMARY,
        "Routine annual physical. Blood pressure 118/76. No changes to medication. "
        "Next visit in twelve months.",
    ),
    (
        "HVN1000001",
        "Lipid panel",
        Category.LAB_RESULT,
        "Total cholesterol 182 mg/dL, LDL 104 mg/dL, HDL 61 mg/dL. Within target.",
    ),
    (
        "HVN1000001",
        "Counselling intake note",
        Category.MENTAL_HEALTH,
        "Intake for short-term counselling. Plan: six sessions, review after the fourth.",
    ),
    (
        "HVN1000003",
        "School immunization record",
        Category.IMMUNIZATION,
        "Routine childhood immunizations complete for age. Next: none due this year.",
    ),
    (
        "HVN1000005",
        "Cardiology follow-up",
        Category.VISIT_SUMMARY,
        "Follow-up for atrial fibrillation. Rate controlled. Continue anticoagulation.",
    ),
    (
        "HVN1000005",
        "Genetic panel: hereditary cardiac conditions",
        Category.GENETIC,
        "Panel of 12 genes. No pathogenic variants found.",
    ),
    (
        "HVN1000006",
        "Prescription renewal letter",
        Category.LETTER,
        "Your prescription was renewed for twelve months.",
    ),
]
# username, member_id, kind
ASSIGNMENTS = [
    ("nina", "HVN1000005", CareAssignment.Kind.CARE),
    ("nina", "HVN1000001", CareAssignment.Kind.CARE),
    ("sam", "HVN1000001", CareAssignment.Kind.SERVICE),
]


def _request(user: User):
    request = RequestFactory().get(
        "/records/", REMOTE_ADDR="192.0.2.10", HTTP_USER_AGENT="Mozilla/5.0 (demo workstation)"
    )
    request.user = user
    return request


def _day_of_access(staff: dict[str, User], members: dict[str, Member]) -> None:
    """A few realistic accesses, refusals and one emergency, all through the accessor."""
    if AuditEvent.objects.exists():
        return
    nina, sam, claire, pablo = staff["nina"], staff["sam"], staff["claire"], staff["pablo"]
    elena, alice, farid = members["HVN1000005"], members["HVN1000001"], members["HVN1000006"]
    steps = [
        (nina, elena, RECORD_PARTS, Purpose.TREATMENT),
        (sam, alice, RECORD_PARTS, Purpose.PAYMENT),
        (claire, farid, (Resource.DEMOGRAPHICS, Resource.COVERAGE), Purpose.PAYMENT),
        (sam, elena, RECORD_PARTS, Purpose.PAYMENT),  # no service case: flagged
        (pablo, alice, (Resource.DOCUMENTS,), Purpose.OPERATIONS),  # refused
    ]
    for user, member, parts, purpose in steps:
        # A refusal is the point of some steps: it is on the trail, flagged.
        with suppress(access.AccessDenied):
            access.read(
                actor=user, request=_request(user), member=member, resource=parts, purpose=purpose
            )
    access.declare_emergency(
        actor=nina,
        request=_request(nina),
        member=farid,
        reason="Member collapsed at the pharmacy; the paramedics need current medications.",
    )
    access.read(
        actor=nina,
        request=_request(nina),
        member=farid,
        resource=RECORD_PARTS,
        purpose=Purpose.EMERGENCY,
    )


def load() -> None:
    members = {m.member_id: m for m in Member.objects.filter(member_id__startswith="HVN")}
    staff = {u.username: u for u in User.objects.filter(kind=User.Kind.STAFF)}
    nina = staff["nina"]
    for member_id, title, category, content in DOCUMENTS:
        HealthDocument.objects.get_or_create(
            member=members[member_id],
            title=title,
            defaults={"category": category, "content": content, "created_by": nina},
        )
    for username, member_id, kind in ASSIGNMENTS:
        CareAssignment.objects.get_or_create(
            staff=staff[username],
            member=members[member_id],
            kind=kind,
            defaults={"since": timezone.localdate() - timedelta(days=90)},
        )
    # The accessor records in transactions of its own, so the day runs once the demo is saved.
    transaction.on_commit(lambda: _day_of_access(staff, members))
