"""Haven's records as FHIR R4 resources: US Core shapes for people and the directory, and the
CARIN Blue Button shape for claims (ExplanationOfBenefit)."""

from decimal import Decimal
from typing import Any

from haven.plans.models import Claim, ClaimStatus, Member, Plan

MEMBER_ID_SYSTEM = "https://haven.example/fhir/member-id"
CLAIM_NUMBER_SYSTEM = "https://haven.example/fhir/claim-number"
NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
ICD10_SYSTEM = "http://hl7.org/fhir/sid/icd-10-cm"
CPT_SYSTEM = "http://www.ama-assn.org/go/cpt"
C4BB = "http://hl7.org/fhir/us/carin-bb/StructureDefinition"
C4BB_ADJUDICATION = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudication"
ADJUDICATION = "http://terminology.hl7.org/CodeSystem/adjudication"
SPECIALTY_SYSTEM = "https://haven.example/fhir/specialty"

GENDERS = {"F": "female", "M": "male", "X": "other", "U": "unknown"}
OUTCOMES = {
    ClaimStatus.RECEIVED: "queued",
    ClaimStatus.IN_REVIEW: "queued",
    ClaimStatus.PENDING_INFORMATION: "partial",
    ClaimStatus.APPROVED: "complete",
    ClaimStatus.DENIED: "complete",
    ClaimStatus.PAID: "complete",
    ClaimStatus.APPEALED: "partial",
}


def _money(value: Decimal) -> dict[str, Any]:
    return {"value": float(value), "currency": "USD"}


def _concept(system: str, code: str, display: str = "") -> dict[str, Any]:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding]}


def patient(member: Member, fields: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    """A member as a US Core Patient, with only the fields the access opened."""
    demo = set(fields.get("demographics", ()))
    contact = set(fields.get("contact", ()))
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(member.pk),
        "meta": {"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"]},
        "active": True,
    }
    if "member_id" in demo:
        resource["identifier"] = [
            {
                "type": _concept("http://terminology.hl7.org/CodeSystem/v2-0203", "MB"),
                "system": MEMBER_ID_SYSTEM,
                "value": member.member_id,
            }
        ]
    if {"first_name", "last_name"} <= demo:
        resource["name"] = [
            {"use": "official", "family": member.last_name, "given": [member.first_name]}
        ]
    if "gender" in demo:
        resource["gender"] = GENDERS.get(member.gender, "unknown")
    if "date_of_birth" in demo:
        resource["birthDate"] = member.date_of_birth.isoformat()
    if "phone" in contact and member.phone:
        resource["telecom"] = [{"system": "phone", "value": member.phone, "use": "home"}]
    if "city" in contact:
        address = {
            "use": "home",
            "city": member.city or None,
            "state": member.region or None,
            "postalCode": member.postal_code or None,
            "line": [member.address_line] if member.address_line else None,
        }
        address = {key: value for key, value in address.items() if value}
        if len(address) > 1:
            resource["address"] = [address]
    return resource


def insurer_id(plan: Plan) -> str:
    return f"plan-{plan.pk}"


def insurer(plan: Plan) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Organization",
        "id": insurer_id(plan),
        "active": True,
        "type": [_concept("http://terminology.hl7.org/CodeSystem/organization-type", "pay")],
        "name": plan.carrier,
    }
    if plan.member_services_phone:
        resource["telecom"] = [{"system": "phone", "value": plan.member_services_phone}]
    return resource


def coverage(member: Member) -> dict[str, Any]:
    """The member's coverage as a CARIN Blue Button Coverage."""
    plan = member.group.plan
    period = {"start": member.coverage_start.isoformat()}
    if member.coverage_end:
        period["end"] = member.coverage_end.isoformat()
    subscriber = member.subscriber or member
    return {
        "resourceType": "Coverage",
        "id": str(member.pk),
        "meta": {"profile": [f"{C4BB}/C4BB-Coverage"]},
        "identifier": [
            {
                "type": _concept("http://terminology.hl7.org/CodeSystem/v2-0203", "MB"),
                "system": MEMBER_ID_SYSTEM,
                "value": member.member_id,
            }
        ],
        "status": "active" if member.coverage_end is None else "cancelled",
        "subscriberId": subscriber.member_id,
        "beneficiary": {"reference": f"Patient/{member.pk}"},
        "relationship": _concept(
            "http://terminology.hl7.org/CodeSystem/subscriber-relationship",
            {"self": "self", "spouse": "spouse", "child": "child"}.get(
                member.relationship, "other"
            ),
        ),
        "period": period,
        "payor": [{"reference": f"Organization/{insurer_id(plan)}", "display": plan.carrier}],
        "class": [
            {
                "type": _concept("http://terminology.hl7.org/CodeSystem/coverage-class", "group"),
                "value": member.group.group_number,
                "name": member.group.name,
            },
            {
                "type": _concept("http://terminology.hl7.org/CodeSystem/coverage-class", "plan"),
                "value": plan.code,
                "name": plan.name,
            },
        ],
    }


def explanation_of_benefit(claim: Claim, fields: tuple[str, ...]) -> dict[str, Any]:
    """A claim in the CARIN Blue Button shape (professional, non-clinician), with only the fields
    the access opened (diagnosis and procedure codes are left out when not)."""
    allowed = set(fields)
    plan = claim.member.group.plan
    adjudication = [
        {
            "category": _concept(C4BB_ADJUDICATION, "submitted"),
            "amount": _money(claim.billed_amount),
        },
        {
            "category": _concept(ADJUDICATION, "eligible"),
            "amount": _money(claim.allowed_amount),
        },
        {
            "category": _concept(C4BB_ADJUDICATION, "paidtoprovider"),
            "amount": _money(claim.plan_paid),
        },
        {
            "category": _concept(C4BB_ADJUDICATION, "paidbypatient"),
            "amount": _money(claim.member_responsibility),
        },
        {
            "category": _concept(ADJUDICATION, "deductible"),
            "amount": _money(claim.deductible_applied),
        },
    ]
    item: dict[str, Any] = {
        "sequence": 1,
        "servicedPeriod": {
            "start": claim.service_start.isoformat(),
            "end": claim.service_end.isoformat(),
        },
        "productOrService": (
            _concept(CPT_SYSTEM, claim.procedure_codes[0])
            if "procedure_codes" in allowed and claim.procedure_codes
            else {"text": claim.get_service_category_display() or "service"}
        ),
        "adjudication": adjudication,
    }
    resource: dict[str, Any] = {
        "resourceType": "ExplanationOfBenefit",
        "id": str(claim.pk),
        "meta": {
            "profile": [f"{C4BB}/C4BB-ExplanationOfBenefit-Professional-NonClinician"],
            "lastUpdated": f"{claim.status_on.isoformat()}T00:00:00Z",
        },
        "identifier": [
            {
                "type": _concept(
                    "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBIdentifierType", "uc"
                ),
                "system": CLAIM_NUMBER_SYSTEM,
                "value": claim.claim_number,
            }
        ],
        "status": "active",
        "type": _concept("http://terminology.hl7.org/CodeSystem/claim-type", "professional"),
        "use": "claim",
        "patient": {"reference": f"Patient/{claim.member_id}"},
        "billablePeriod": item["servicedPeriod"],
        "created": f"{claim.received_on.isoformat()}T00:00:00Z",
        "insurer": {"reference": f"Organization/{insurer_id(plan)}", "display": plan.carrier},
        "provider": {
            "display": claim.provider_name,
            **(
                {"identifier": {"system": NPI_SYSTEM, "value": claim.provider_npi}}
                if claim.provider_npi
                else {}
            ),
        },
        "outcome": OUTCOMES.get(claim.status, "queued"),
        "insurance": [{"focal": True, "coverage": {"reference": f"Coverage/{claim.member_id}"}}],
        "item": [item],
        "total": [
            {
                "category": _concept(C4BB_ADJUDICATION, "submitted"),
                "amount": _money(claim.billed_amount),
            },
            {
                "category": _concept(ADJUDICATION, "benefit"),
                "amount": _money(claim.plan_paid),
            },
            {
                "category": _concept(C4BB_ADJUDICATION, "paidbypatient"),
                "amount": _money(claim.member_responsibility),
            },
        ],
        "supportingInfo": [
            {
                "sequence": 1,
                "category": _concept(
                    "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBSupportingInfoType",
                    "clmrecvddate",
                ),
                "timingDate": claim.received_on.isoformat(),
            }
        ],
        "extension": [
            {
                "url": f"{C4BB}/C4BB-InNetwork"
                if claim.in_network
                else f"{C4BB}/C4BB-OutOfNetwork",
                "valueBoolean": True,
            }
        ],
    }
    if "diagnosis_codes" in allowed and claim.diagnosis_codes:
        resource["diagnosis"] = [
            {"sequence": index, "diagnosisCodeableConcept": _concept(ICD10_SYSTEM, code)}
            for index, code in enumerate(claim.diagnosis_codes, start=1)
        ]
    if claim.status == ClaimStatus.PAID:
        resource["payment"] = {
            "date": claim.status_on.isoformat(),
            "amount": _money(claim.plan_paid),
        }
    return resource


def _address(place) -> dict[str, Any]:
    return {
        "use": "work",
        "line": [place.address_line],
        "city": place.city,
        "state": place.state,
        "postalCode": place.postal_code,
    }


def _telecom(place) -> list[dict[str, str]]:
    telecom = []
    if place.phone:
        telecom.append({"system": "phone", "value": place.phone, "use": "work"})
    if place.website:
        telecom.append({"system": "url", "value": place.website, "use": "work"})
    return telecom


def _specialty(practitioner) -> dict[str, Any]:
    return _concept(
        SPECIALTY_SYSTEM, practitioner.specialty, str(practitioner.get_specialty_display())
    )


def practitioner(item) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Practitioner",
        "id": str(item.pk),
        "active": True,
        "name": [
            {
                "family": item.last_name,
                "given": [item.first_name],
                **({"suffix": [item.credentials]} if item.credentials else {}),
            }
        ],
        "address": [_address(item)],
        "communication": [
            {"coding": [{"system": "urn:ietf:bcp:47", "code": code}]}
            for code in item.language_codes
        ],
    }
    if telecom := _telecom(item):
        resource["telecom"] = telecom
    if not resource["communication"]:
        del resource["communication"]
    return resource


def practitioner_role(item) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "PractitionerRole",
        "id": str(item.pk),
        "active": True,
        "practitioner": {
            "reference": f"Practitioner/{item.pk}",
            "display": f"{item.first_name} {item.last_name}",
        },
        "specialty": [_specialty(item)],
        "extension": [
            {
                "url": "https://haven.example/fhir/StructureDefinition/accepting-new-patients",
                "valueBoolean": item.accepting_new_patients,
            }
        ],
    }
    if item.facility_id:
        resource["organization"] = {"reference": f"Organization/{item.facility_id}"}
        resource["location"] = [{"reference": f"Location/{item.facility_id}"}]
    if telecom := _telecom(item):
        resource["telecom"] = telecom
    return resource


def organization(facility) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Organization",
        "id": str(facility.pk),
        "active": True,
        "type": [_concept("http://terminology.hl7.org/CodeSystem/organization-type", "prov")],
        "name": facility.name,
        "address": [_address(facility)],
    }
    if telecom := _telecom(facility):
        resource["telecom"] = telecom
    return resource


def location(facility) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Location",
        "id": str(facility.pk),
        "status": "active",
        "name": facility.name,
        "address": _address(facility),
        "position": {"latitude": facility.latitude, "longitude": facility.longitude},
        "managingOrganization": {"reference": f"Organization/{facility.pk}"},
    }
    if telecom := _telecom(facility):
        resource["telecom"] = telecom
    return resource


APPOINTMENT_STATUSES = {
    "requested": "proposed",
    "confirmed": "booked",
    "cancelled": "cancelled",
    "completed": "fulfilled",
    "no_show": "noshow",
    "declined": "cancelled",
}


def appointment(item) -> dict[str, Any]:
    return {
        "resourceType": "Appointment",
        "id": str(item.pk),
        "status": APPOINTMENT_STATUSES.get(item.status, "proposed"),
        "start": item.slot.starts_at.isoformat(),
        "end": item.slot.ends_at.isoformat(),
        "participant": [
            {"actor": {"reference": f"Patient/{item.member_id}"}, "status": "accepted"},
            {
                "actor": {
                    "reference": f"Practitioner/{item.practitioner_id}",
                    "display": f"{item.practitioner.first_name} {item.practitioner.last_name}",
                },
                "status": "accepted",
            },
        ],
    }


def operation_outcome(code: str, text: str, severity: str = "error") -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": text}],
    }
