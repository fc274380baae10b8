"""Who may see which part of a member's record, for which purpose: the policy table (AUD-1, AUD-2).

This module is the one place the rules live. `STAFF_POLICY` maps a staff role and a purpose of use
to the resources (and their fields) it opens; anything not in the table is denied. The privacy
officer sees the same table at /audit/policy/. Caregivers and guardians open what their grant's
scopes name (`SCOPE_RESOURCES`), never a sensitive category; members open all of their own record.
"""

from dataclasses import dataclass, field

from django.db import models
from django.utils.translation import gettext_lazy as _

from haven.accounts.models import User
from haven.caregivers.models import Scope


class Purpose(models.TextChoices):
    """Why data is used; stored as these words, exported as HL7 v3 PurposeOfUse codes."""

    TREATMENT = "treatment", _("Treatment")
    PAYMENT = "payment", _("Payment")
    OPERATIONS = "operations", _("Health care operations")
    LEGAL = "legal", _("Legal request")
    OVERSIGHT = "oversight", _("Privacy and compliance oversight")
    EMERGENCY = "emergency", _("Emergency (break-glass)")
    SELF = "self", _("The member's own request")
    PROXY = "proxy", _("Caregiver or guardian acting for the member")
    PRODUCER = "producer", _("Producer the member authorised")
    PLAN_SPONSOR = "plan_sponsor", _("Employer administering its group plan")


# HL7 v3 ActReason (PurposeOfUse) codes for FHIR AuditEvent.purposeOfEvent.
PURPOSE_CODES = {
    Purpose.TREATMENT: "TREAT",
    Purpose.PAYMENT: "HPAYMT",
    Purpose.OPERATIONS: "HOPERAT",
    Purpose.LEGAL: "HLEGAL",
    Purpose.OVERSIGHT: "HCOMPL",
    Purpose.EMERGENCY: "ETREAT",
    Purpose.SELF: "PATRQT",
    Purpose.PROXY: "PWATRNY",
    Purpose.PRODUCER: "ENROLLM",
    Purpose.PLAN_SPONSOR: "COVERAGE",
}


class Resource(models.TextChoices):
    """The parts of a member's record, as staff and members name them."""

    DEMOGRAPHICS = "demographics", _("Name, birth date and member ID")
    CONTACT = "contact", _("Address and phone")
    COVERAGE = "coverage", _("Coverage and eligibility")
    CLAIMS = "claims", _("Claims")
    MESSAGES = "messages", _("Secure messages")
    APPOINTMENTS = "appointments", _("Appointments")
    DOCUMENTS = "documents", _("Health documents")
    PRIVACY = "privacy", _("Privacy choices and requests")
    AUDIT_TRAIL = "audit_trail", _("Access history (audit trail)")
    PREMIUMS = "premiums", _("Premium bills")


class Sensitivity(models.TextChoices):
    """Categories of health data opened only by an explicit permission, never by a grant."""

    MENTAL_HEALTH = "mental_health", _("Mental health")
    SUBSTANCE_USE = "substance_use", _("Substance-use treatment")
    REPRODUCTIVE_HEALTH = "reproductive_health", _("Reproductive and sexual health")
    HIV = "hiv", _("HIV")
    GENETIC = "genetic", _("Genetic information")


ALL_SENSITIVE = frozenset(Sensitivity.values)

# Every field of every resource. A later app that adds a resource adds its fields here.
FIELDS: dict[str, tuple[str, ...]] = {
    Resource.DEMOGRAPHICS: (
        "first_name",
        "last_name",
        "date_of_birth",
        "gender",
        "member_id",
        "relationship",
    ),
    Resource.CONTACT: ("address_line", "city", "region", "postal_code", "phone", "email"),
    Resource.COVERAGE: ("plan", "group", "coverage_start", "coverage_end"),
    Resource.CLAIMS: (
        "claim_number",
        "service_start",
        "service_end",
        "received_on",
        "provider_name",
        "provider_npi",
        "in_network",
        "service_category",
        "status",
        "status_on",
        "billed_amount",
        "allowed_amount",
        "plan_paid",
        "member_responsibility",
        "deductible_applied",
        "diagnosis_codes",
        "procedure_codes",
    ),
    Resource.MESSAGES: ("subject", "body", "attachments", "sent_at", "sender"),
    Resource.APPOINTMENTS: ("starts_at", "provider", "location", "reason"),
    Resource.DOCUMENTS: ("title", "category", "created_at", "created_by", "content"),
    Resource.PRIVACY: ("consents", "requests", "restrictions"),
    Resource.AUDIT_TRAIL: ("recorded_at", "actor", "purpose", "resource", "outcome", "flags"),
    # What a payment partner collecting premiums needs, and nothing else (DIS-4).
    Resource.PREMIUMS: ("member_id", "amount", "due_date"),
}

ALL = "__all__"


@dataclass(frozen=True)
class Permit:
    """What one role opens for one purpose: resources to read (with fields), to change, and
    the sensitive categories it may see."""

    read: dict[str, tuple[str, ...] | str] = field(default_factory=dict)
    change: frozenset[str] = frozenset()
    sensitive: frozenset[str] = frozenset()

    def fields(self, resource: str) -> tuple[str, ...]:
        allowed = self.read.get(resource, ())
        return FIELDS[resource] if allowed == ALL else tuple(allowed)


R = Resource
Role = User.StaffRole

# Medical emergency (break-glass): the clinical record including every sensitive category, as the
# substance-use rules allow in a bona fide emergency; every access is flagged for review.
EMERGENCY = Permit(
    read={
        R.DEMOGRAPHICS: ALL,
        R.CONTACT: ALL,
        R.COVERAGE: ALL,
        R.MESSAGES: ALL,
        R.APPOINTMENTS: ALL,
        R.DOCUMENTS: ALL,
    },
    sensitive=ALL_SENSITIVE,
)

# Claims without the diagnosis and procedure codes: enough to answer a question about a bill.
CLAIM_PAYMENT_FIELDS = tuple(
    name for name in FIELDS[R.CLAIMS] if name not in ("diagnosis_codes", "procedure_codes")
)

STAFF_POLICY: dict[str, dict[str, Permit]] = {
    Role.CARE_TEAM: {
        # Clinicians see clinical data; substance-use records stay closed without the member's
        # written consent (42 CFR Part 2), except in an emergency.
        Purpose.TREATMENT: Permit(
            read={
                R.DEMOGRAPHICS: ALL,
                R.CONTACT: ALL,
                R.COVERAGE: ALL,
                R.MESSAGES: ALL,
                R.APPOINTMENTS: ALL,
                R.DOCUMENTS: ALL,
            },
            change=frozenset({R.DOCUMENTS, R.MESSAGES, R.APPOINTMENTS}),
            sensitive=ALL_SENSITIVE - {Sensitivity.SUBSTANCE_USE},
        ),
        Purpose.OPERATIONS: Permit(
            read={R.DEMOGRAPHICS: ALL, R.CONTACT: ALL, R.COVERAGE: ALL, R.APPOINTMENTS: ALL},
            change=frozenset({R.APPOINTMENTS}),
        ),
        Purpose.EMERGENCY: EMERGENCY,
    },
    Role.CUSTOMER_SERVICE: {
        # A representative answering a question about a bill: claims and contact, no clinical data.
        Purpose.PAYMENT: Permit(
            read={
                R.DEMOGRAPHICS: ALL,
                R.CONTACT: ALL,
                R.COVERAGE: ALL,
                R.CLAIMS: CLAIM_PAYMENT_FIELDS,
            },
            change=frozenset({R.CONTACT}),
        ),
        Purpose.OPERATIONS: Permit(
            read={
                R.DEMOGRAPHICS: ALL,
                R.CONTACT: ALL,
                R.COVERAGE: ALL,
                R.APPOINTMENTS: ALL,
                R.PRIVACY: ALL,
            },
            change=frozenset({R.CONTACT, R.APPOINTMENTS, R.PRIVACY}),
        ),
        Purpose.EMERGENCY: EMERGENCY,
    },
    Role.CLAIMS: {
        Purpose.PAYMENT: Permit(
            read={
                R.DEMOGRAPHICS: ALL,
                R.CONTACT: ("address_line", "city", "region", "postal_code"),
                R.COVERAGE: ALL,
                R.CLAIMS: ALL,
            },
            change=frozenset({R.CLAIMS}),
        ),
    },
    Role.PRODUCER_SUPPORT: {
        # Enrolment questions from producers: who is enrolled and since when, nothing else.
        Purpose.OPERATIONS: Permit(
            read={
                R.DEMOGRAPHICS: ("first_name", "last_name", "date_of_birth", "member_id"),
                R.COVERAGE: ALL,
            },
        ),
    },
    Role.COMPLIANCE: {
        Purpose.OPERATIONS: Permit(read={R.DEMOGRAPHICS: ALL, R.COVERAGE: ALL}),
        Purpose.LEGAL: Permit(
            read={
                R.DEMOGRAPHICS: ALL,
                R.CONTACT: ALL,
                R.COVERAGE: ALL,
                R.CLAIMS: ALL,
                R.MESSAGES: ALL,
                R.DOCUMENTS: ALL,
                R.PRIVACY: ALL,
            },
        ),
        Purpose.OVERSIGHT: Permit(
            read={
                R.DEMOGRAPHICS: ALL,
                R.COVERAGE: ALL,
                R.CLAIMS: CLAIM_PAYMENT_FIELDS,
                R.PRIVACY: ALL,
                R.AUDIT_TRAIL: ALL,
            },
        ),
    },
    Role.PRIVACY_OFFICER: {
        Purpose.OVERSIGHT: Permit(
            read={
                R.DEMOGRAPHICS: ALL,
                R.CONTACT: ALL,
                R.COVERAGE: ALL,
                R.CLAIMS: CLAIM_PAYMENT_FIELDS,
                R.PRIVACY: ALL,
                R.AUDIT_TRAIL: ALL,
            },
            change=frozenset({R.PRIVACY}),
        ),
        Purpose.LEGAL: Permit(
            read={
                R.DEMOGRAPHICS: ALL,
                R.CONTACT: ALL,
                R.COVERAGE: ALL,
                R.CLAIMS: ALL,
                R.MESSAGES: ALL,
                R.DOCUMENTS: ALL,
                R.PRIVACY: ALL,
            },
        ),
    },
    Role.ADMINISTRATOR: {
        # Keeping accounts working needs to know whose account it is, not what is in the record.
        Purpose.OPERATIONS: Permit(
            read={R.DEMOGRAPHICS: ("first_name", "last_name", "member_id")},
        ),
    },
}

# Background tasks (reminders, notifications, imports) act as the system, for these purposes.
SYSTEM_POLICY: dict[str, Permit] = {
    Purpose.OPERATIONS: Permit(
        read={R.DEMOGRAPHICS: ALL, R.CONTACT: ALL, R.COVERAGE: ALL, R.APPOINTMENTS: ALL},
    ),
    Purpose.PAYMENT: Permit(
        read={
            R.DEMOGRAPHICS: ALL,
            R.CONTACT: ALL,
            R.COVERAGE: ALL,
            R.CLAIMS: ALL,
            R.PREMIUMS: ALL,
        },
        change=frozenset({R.CLAIMS, R.COVERAGE}),
    ),
}

# Partners outside the plan who sign in: a producer a member authorised (haven.producers), an
# employer administering its group plan (haven.employers) and a practice reading what a member
# shared when booking (haven.care). Each kind of account may state one purpose, which opens
# administrative data only: never claims, clinical data, messages or documents (DIS-3). The
# accessor also checks, at every read, that the relationship holds (haven.audit.access).
PARTNER_POLICY: dict[str, tuple[str, Permit]] = {
    User.Kind.PRODUCER: (
        Purpose.PRODUCER,
        Permit(
            read={
                R.DEMOGRAPHICS: ("first_name", "last_name", "date_of_birth", "member_id"),
                R.CONTACT: ("address_line", "city", "region", "postal_code", "phone"),
                R.COVERAGE: ALL,
            },
        ),
    ),
    User.Kind.EMPLOYER: (
        Purpose.PLAN_SPONSOR,
        Permit(
            read={
                R.DEMOGRAPHICS: (
                    "first_name",
                    "last_name",
                    "date_of_birth",
                    "member_id",
                    "relationship",
                ),
                R.COVERAGE: ALL,
            },
        ),
    ),
    # The copy a member shared at booking (haven.care.sharing): at most these parts.
    User.Kind.PROVIDER: (
        Purpose.TREATMENT,
        Permit(
            read={R.DEMOGRAPHICS: ALL, R.CONTACT: ALL, R.COVERAGE: ALL, R.APPOINTMENTS: ALL},
        ),
    ),
}

# A member's own record: all of it, sensitive categories included (it is theirs).
SELF = Permit(
    read={resource: ALL for resource in Resource.values if resource != R.AUDIT_TRAIL},
    change=frozenset({R.CONTACT, R.MESSAGES, R.APPOINTMENTS, R.PRIVACY}),
    sensitive=ALL_SENSITIVE,
)

# What each grant scope opens to a caregiver or guardian. Health documents belong to the profile
# scope until a scope of their own exists; sensitive categories are never opened by any scope.
SCOPE_RESOURCES: dict[str, tuple[str, ...]] = {
    Scope.PROFILE: (R.DEMOGRAPHICS, R.CONTACT, R.DOCUMENTS),
    Scope.PLAN: (R.COVERAGE,),
    Scope.CLAIMS: (R.CLAIMS,),
    Scope.MESSAGES: (R.MESSAGES,),
    Scope.APPOINTMENTS: (R.APPOINTMENTS,),
    Scope.PRIVACY: (R.PRIVACY,),
}
PROXY_CHANGES = frozenset({R.CONTACT, R.MESSAGES, R.APPOINTMENTS, R.PRIVACY})


def scopes_for(resource: str) -> tuple[str, ...]:
    """The grant scopes that open a resource."""
    return tuple(scope for scope, resources in SCOPE_RESOURCES.items() if resource in resources)


def proxy_permit(scopes: list[str]) -> Permit:
    """What a current grant with these scopes opens: never a sensitive category."""
    resources = {resource for scope in scopes for resource in SCOPE_RESOURCES.get(scope, ())}
    return Permit(
        read={resource: ALL for resource in resources},
        change=frozenset(resources & PROXY_CHANGES),
    )


def staff_purposes(role: str) -> list[str]:
    """The purposes a staff role may state, in the table's order."""
    return list(STAFF_POLICY.get(role, {}))


def may_break_glass(role: str) -> bool:
    return Purpose.EMERGENCY in STAFF_POLICY.get(role, {})


def is_sensitive(category: str) -> bool:
    return category in ALL_SENSITIVE
