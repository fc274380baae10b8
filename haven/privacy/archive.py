"""The access archive (RIG-1): everything Haven holds about a member, for people and machines.

A ZIP with `haven-data.json` (all of it: the record, and what the account itself holds: e-mail,
reviews, booking preferences, invitations, applications and quotes, connected apps), `fhir-bundle.json` (a FHIR R4 Bundle: Patient,
Coverage, DocumentReference and Communication, validated with fhir.resources R4B) and
`summary.html` (a readable summary). The member's record is opened through the audited
accessor as one export event; their access history comes from the audit trail.
"""

import io
import json
import zipfile
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal

from django.apps import apps
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation

from haven.audit import access
from haven.audit.policy import Resource
from haven.privacy import services
from haven.privacy.models import (
    ConsentRecord,
    ContactChoice,
    LocationPermission,
    NoticeReceipt,
    PrintedCopyRequest,
    RightsRequest,
)

RECORD_PARTS = [
    Resource.DEMOGRAPHICS,
    Resource.CONTACT,
    Resource.COVERAGE,
    Resource.CLAIMS,
    Resource.MESSAGES,
    Resource.APPOINTMENTS,
    Resource.DOCUMENTS,
    Resource.PRIVACY,
]
FHIR_APPOINTMENT_STATUS = {
    "requested": "proposed",
    "confirmed": "booked",
    "cancelled": "cancelled",
    "declined": "cancelled",
    "completed": "fulfilled",
    "no_show": "noshow",
}
FHIR_GENDER = {"F": "female", "M": "male", "X": "other", "U": "unknown"}


def _plain(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _row(values: dict) -> dict:
    return {key: _plain(value) for key, value in values.items()}


def _account(user) -> dict:
    return _row(
        {
            "username": user.username,
            "kind": user.kind,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "preferred_name": user.preferred_name,
            "email": user.email,
            "phone": user.phone,
            "language": user.language,
            "date_joined": user.date_joined,
            "last_login": user.last_login,
        }
    )


def _record_source(member) -> dict:
    group = member.group
    return {
        "first_name": member.first_name,
        "last_name": member.last_name,
        "date_of_birth": member.date_of_birth,
        "gender": member.gender,
        "member_id": member.member_id,
        "relationship": member.relationship,
        "address_line": member.address_line,
        "city": member.city,
        "region": member.region,
        "postal_code": member.postal_code,
        "phone": member.phone,
        "plan": f"{group.plan.name} ({group.plan.year})",
        "group": f"{group.name} ({group.group_number})",
        "coverage_start": member.coverage_start,
        "coverage_end": member.coverage_end,
    }


def _claims(member, permitted) -> list[dict]:
    if not permitted.allows(Resource.CLAIMS):
        return []
    try:
        claim_model = apps.get_model("plans", "Claim")
    except LookupError:
        return []
    fields = list(permitted.fields[Resource.CLAIMS])
    return [_row(row) for row in claim_model.objects.filter(member=member).values(*fields)]


def _messages(member, permitted) -> list[dict]:
    if not permitted.allows(Resource.MESSAGES):
        return []
    from haven.messaging.models import Message

    messages = (
        Message.objects.filter(conversation__member=member)
        .select_related("conversation", "author")
        .order_by("conversation_id", "created_at", "pk")
    )
    conversations: dict[int, dict] = {}
    for message in messages.iterator(chunk_size=1000):
        conversation = message.conversation
        if not permitted.allows_category(conversation.sensitive_category):
            continue
        entry = conversations.get(conversation.pk)
        if entry is None:
            entry = conversations[conversation.pk] = {
                "id": conversation.pk,
                "subject": conversation.subject,
                "topic": conversation.topic,
                "team": conversation.queue,
                "status": conversation.status,
                "started_at": _plain(conversation.created_at),
                "messages": [],
            }
        entry["messages"].append(
            {
                "id": message.pk,
                "sent_at": _plain(message.created_at),
                "from": "member" if message.side == "member" else "staff",
                "author": message.author.get_full_name() or message.author.username,
                "body": "" if message.is_withheld else message.body,
                "withheld_by_screening": message.is_withheld,
            }
        )
    return list(conversations.values())


def _documents(member, permitted) -> list[dict]:
    if not permitted.allows(Resource.DOCUMENTS):
        return []
    from haven.records.models import HealthDocument

    return [
        _row(
            {
                "id": document.pk,
                "title": document.title,
                "category": document.category,
                "created_at": document.created_at,
                "content": document.content,
            }
        )
        for document in HealthDocument.objects.filter(member=member)
        if permitted.allows_category(document.category)
    ]


def _appointments(member, permitted) -> list[dict]:
    """Appointments booked through the care finder (haven.care), when that app is installed."""
    if not permitted.allows(Resource.APPOINTMENTS) or not apps.is_installed("haven.care"):
        return []
    appointment_model = apps.get_model("care", "Appointment")
    rows = appointment_model.objects.filter(member=member).select_related(
        "slot", "practitioner", "service"
    )
    return [_appointment(appointment) for appointment in rows.iterator(chunk_size=500)]


def _appointment(appointment) -> dict:
    return _row(
        {
            "id": appointment.pk,
            "starts_at": appointment.slot.starts_at,
            "practitioner": f"{appointment.practitioner.first_name} "
            f"{appointment.practitioner.last_name}",
            "address": appointment.practitioner.address,
            "visit": appointment.service.visit_type,
            "status": appointment.status,
            "reason": appointment.reason(),
            "shared_with_practice": appointment.shared_data(),
            "booked_at": appointment.created_at,
        }
    )


def _grants(member, user) -> list[dict]:
    from haven.caregivers.models import Grant

    grants = Grant.objects.filter(member=member) if member else Grant.objects.none()
    grants = grants | Grant.objects.filter(grantee=user)
    return [
        _row(
            {
                "kind": grant.kind,
                "member": grant.member_id,
                "grantee": grant.grantee.username if grant.grantee_id else grant.invited_name,
                "scopes": grant.scopes,
                "starts_at": grant.starts_at,
                "expires_at": grant.expires_at,
            }
        )
        for grant in grants.select_related("grantee").distinct()
    ]


def _privacy(request: RightsRequest) -> dict:
    user = request.requester
    return {
        "contact_preferences": [
            {"channel": channel, "kind": kind, "wanted": wanted}
            for (channel, kind), wanted in services.preferences_for(user).items()
        ],
        "contact_choices_saved": ContactChoice.objects.filter(user=user).count(),
        "consents": [
            _row(row)
            for row in ConsentRecord.objects.filter(user=user)
            .order_by("recorded_at", "pk")
            .values(
                "recorded_at",
                "subject",
                "scope",
                "given",
                "version",
                "wording",
                "language",
                "source",
            )
        ],
        "location_permissions": [
            _row(row)
            for row in LocationPermission.objects.filter(user=user).values(
                "purpose", "granted_at", "withdrawn_at"
            )
        ],
        "notices": [
            _row(row)
            for row in NoticeReceipt.objects.filter(user=user).values(
                "notice__revision_date", "how", "told_at", "acknowledged_at"
            )
        ],
        "printed_copies": [
            _row(row)
            for row in PrintedCopyRequest.objects.filter(user=user).values(
                "notice__revision_date", "requested_at", "mailed_at"
            )
        ],
        "requests": [
            _row(row)
            for row in RightsRequest.objects.filter(requester=user).values(
                "pk",
                "kind",
                "status",
                "received_at",
                "due_on",
                "extended_due_on",
                "extension_reason",
                "field",
                "proposed_value",
                "decision_reason",
                "disagreement",
                "completed_at",
            )
        ],
    }


def _access_history(member) -> list[list]:
    """Who opened, changed, exported or received the member's data (rows, to stay small)."""
    rows = access.history_for(member).values_list(
        "recorded_at",
        "type",
        "subtype",
        "actor_label",
        "actor_role",
        "purpose",
        "entity",
        "recipient",
    )
    return [
        [_plain(at), kind, subtype, label, role, purpose, list(entity), recipient]
        for at, kind, subtype, label, role, purpose, entity, recipient in rows.iterator(
            chunk_size=5000
        )
    ]


def _emails(user) -> list[dict]:
    from haven.mail.models import OutgoingEmail

    return [
        _row(row)
        for row in OutgoingEmail.objects.filter(user=user).values(
            "created_at", "category", "subject", "status"
        )
    ]


def _email_choices(user) -> dict:
    from haven.mail.models import EmailPreference, OptOut

    preference = EmailPreference.objects.filter(user=user).first()
    return {
        "open_tracking": bool(preference and preference.open_tracking),
        "opted_out": [
            _row(row)
            for row in OptOut.objects.filter(user=user).values("category", "source", "created_at")
        ],
    }


def _notifications(user) -> dict:
    """How the person hears that a message waits, and the browsers where push is on."""
    from haven.messaging.models import PushDevice
    from haven.messaging.services import preferences_for

    preference = preferences_for(user)
    devices = PushDevice.objects.filter(user=user).values("label", "created_at", "last_sent_at")
    return {
        "by_email": preference.by_email,
        "by_text": preference.by_text,
        "by_push": preference.by_push,
        "push_devices": [_row(row) for row in devices],
    }


def _own_appointments(user) -> list[dict]:
    """A consumer's own bookings (no roster record): the same fields as a member's."""
    if not apps.is_installed("haven.care"):
        return []
    appointment_model = apps.get_model("care", "Appointment")
    rows = appointment_model.objects.filter(account=user).select_related(
        "slot", "practitioner", "service"
    )
    return [_appointment(appointment) for appointment in rows.iterator(chunk_size=500)]


def _care(user) -> dict:
    """What the care finder keeps about the account: its reviews (with the practice's answer),
    the choices offered again at the next booking, and the invitations it asked Haven to send."""
    if not apps.is_installed("haven.care"):
        return {}
    from haven.care.models import BookingPreference, Invitation, Review

    preference = BookingPreference.objects.filter(user=user).first()
    return {
        "reviews": [
            _row(
                {
                    "practitioner": review.practitioner.display_name,
                    "rating": review.rating,
                    "text": review.text,
                    "written_at": review.created_at,
                    "changed_at": review.updated_at,
                    "practice_answer": getattr(getattr(review, "answer", None), "text", ""),
                }
            )
            for review in Review.objects.filter(author=user).select_related(
                "practitioner", "answer"
            )
        ],
        "booking_preferences": _row(
            {
                "shared": preference.shared,
                "reminders": preference.reminders,
                "allow_referrals": preference.allow_referrals,
                "updated_at": preference.updated_at,
            }
        )
        if preference
        else None,
        # The addresses are kept only as keyed hashes: Haven cannot give them back.
        "invitations": [
            _row(row) for row in Invitation.objects.filter(inviter=user).values("sent_at", "status")
        ],
    }


def _plans(user) -> dict:
    """Applications for coverage the account sent, with their people, and the quotes a
    producer made (a quote by anyone else is stored without any identity and cannot be found)."""
    from haven.plans.models import Application, Quote

    applications = []
    for application in Application.objects.filter(submitted_by=user).prefetch_related("people"):
        applications.append(
            _row(
                {
                    "reference": application.reference,
                    "product": str(application.product),
                    "status": application.status,
                    "submitted_at": application.submitted_at,
                    "decided_at": application.decided_at,
                    "first_name": application.first_name,
                    "last_name": application.last_name,
                    "date_of_birth": application.date_of_birth,
                    "tobacco": application.tobacco,
                    "address_line": application.address_line,
                    "city": application.city,
                    "region": application.region,
                    "postal_code": application.postal_code,
                    "phone": application.phone,
                    "email": application.email,
                }
            )
            | {
                "people": [
                    _row(row)
                    for row in application.people.values(
                        "relationship", "first_name", "last_name", "date_of_birth", "tobacco"
                    )
                ]
            }
        )
    quotes = [
        _row(row)
        for row in Quote.objects.filter(producer=user).values(
            "quoted_on", "product__name", "area__name", "family_size", "monthly_total"
        )
    ]
    return {"applications": applications, "quotes": quotes}


def _connected_apps(user, member) -> list[dict]:
    """Apps the account allowed to read a record (DIS-8), and apps others connected to this
    member's record (a guardian, a caregiver), each with its scopes and dates."""
    from django.db.models import Q

    from haven.fhir.models import Authorisation

    found = Q(user=user) | Q(member=member) if member is not None else Q(user=user)
    return [
        _row(
            {
                "app": authorisation.app.name,
                "developer": authorisation.app.developer,
                "record": authorisation.member.member_id,
                "connected_by": "you"
                if authorisation.user_id == user.pk
                else "another account holder (a guardian or caregiver)",
                "scopes": authorisation.scopes,
                "approved_at": authorisation.approved_at,
                "revoked_at": authorisation.revoked_at,
            }
        )
        for authorisation in Authorisation.objects.filter(found)
        .select_related("app__application", "member")
        .order_by("pk")
    ]


def fhir_bundle(data: dict) -> dict:
    """A FHIR R4 Bundle of the resources that fit; Patient and Coverage are validated."""
    from fhir.resources.R4B.coverage import Coverage
    from fhir.resources.R4B.patient import Patient

    record = data.get("record") or {}
    entries = []
    if record:
        patient_id = str(data["member_pk"])
        patient = {
            "resourceType": "Patient",
            "id": patient_id,
            "identifier": [{"system": "urn:haven:member-id", "value": record.get("member_id", "")}],
            "name": [
                {"family": record.get("last_name", ""), "given": [record.get("first_name", "")]}
            ],
            "gender": FHIR_GENDER.get(record.get("gender", ""), "unknown"),
            "birthDate": record.get("date_of_birth"),
        }
        address = {
            key: value
            for key, value in {
                "line": [record["address_line"]] if record.get("address_line") else None,
                "city": record.get("city") or None,
                "state": record.get("region") or None,
                "postalCode": record.get("postal_code") or None,
            }.items()
            if value
        }
        if address:
            patient["address"] = [address]
        if record.get("phone"):
            patient["telecom"] = [{"system": "phone", "value": record["phone"]}]
        patient = {key: value for key, value in patient.items() if value not in (None, "")}
        Patient.model_validate(patient)
        entries.append(patient)
        if record.get("coverage_start"):
            coverage = {
                "resourceType": "Coverage",
                "id": f"{patient_id}-coverage",
                "status": "active" if not record.get("coverage_end") else "cancelled",
                "beneficiary": {"reference": f"Patient/{patient_id}"},
                "payor": [{"display": settings.ORGANISATION_NAME}],
                "subscriberId": record.get("member_id", ""),
                "period": {
                    key: value
                    for key, value in {
                        "start": record["coverage_start"],
                        "end": record.get("coverage_end"),
                    }.items()
                    if value
                },
                "class": [
                    {
                        "type": {"coding": [{"code": "plan"}]},
                        "value": record.get("plan", ""),
                    }
                ],
            }
            Coverage.model_validate(coverage)
            entries.append(coverage)
        for document in data.get("documents", []):
            entries.append(
                {
                    "resourceType": "DocumentReference",
                    "id": f"document-{document['id']}",
                    "status": "current",
                    "subject": {"reference": f"Patient/{patient_id}"},
                    "date": document["created_at"],
                    "description": document["title"],
                    "content": [
                        {"attachment": {"contentType": "text/plain", "title": document["title"]}}
                    ],
                }
            )
        for appointment in data.get("appointments", []):
            entries.append(
                {
                    "resourceType": "Appointment",
                    "id": f"appointment-{appointment['id']}",
                    "status": FHIR_APPOINTMENT_STATUS.get(appointment["status"], "booked"),
                    "start": appointment["starts_at"],
                    "participant": [
                        {"actor": {"reference": f"Patient/{patient_id}"}, "status": "accepted"},
                        {"actor": {"display": appointment["practitioner"]}, "status": "accepted"},
                    ],
                }
            )
        for conversation in data.get("messages", []):
            for message in conversation["messages"]:
                entries.append(
                    {
                        "resourceType": "Communication",
                        "id": f"message-{message['id']}",
                        "status": "completed",
                        "subject": {"reference": f"Patient/{patient_id}"},
                        "sent": message["sent_at"],
                        "payload": [{"contentString": message["body"]}],
                        "topic": {"text": conversation["subject"]},
                    }
                )
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": data["generated_at"],
        "entry": [
            {"fullUrl": f"urn:haven:{e['resourceType']}/{e['id']}", "resource": e} for e in entries
        ],
    }


def build(request: RightsRequest, *, progress: Callable[[int, str], None]) -> tuple[bytes, dict]:
    """Gather, write and zip the archive; returns its bytes and the counts shown to the member."""
    user, member = request.requester, request.member
    language = user.language or settings.LANGUAGE_CODE
    data: dict = {
        "format": "haven-access-archive/1",
        "generated_at": timezone.now().isoformat(),
        "organisation": settings.ORGANISATION_NAME,
        "account": _account(user),
        "appointments": [],
    }
    progress(5, "record")
    if member is not None:
        actor = access.Actor(user=user, source="task:privacy-archive")
        permitted = access.export(
            member=member,
            resource=RECORD_PARTS,
            actor=actor,
            recipient="the member (access request)",
            record_id=request.pk,
        )
        source = _record_source(member)
        record = {}
        for part in (Resource.DEMOGRAPHICS, Resource.CONTACT, Resource.COVERAGE):
            record |= permitted.pick(part, source)
        data["member_pk"] = member.pk
        data["record"] = _row(record)
        data["withheld"] = list(permitted.withheld)
        progress(10, "claims")
        data["claims"] = _claims(member, permitted)
        progress(20, "messages")
        data["messages"] = _messages(member, permitted)
        progress(40, "appointments")
        data["appointments"] = _appointments(member, permitted)
        progress(45, "documents")
        data["documents"] = _documents(member, permitted)
        progress(55, "access_history")
        data["access_history_columns"] = [
            "recorded_at",
            "event",
            "operation",
            "who",
            "role",
            "purpose",
            "parts",
            "recipient",
        ]
        data["access_history"] = _access_history(member)
        progress(75, "disclosures")
        data["disclosures"] = [_row(vars(entry)) for entry in services.accounting_for(member)]
    else:
        data["appointments"] = _own_appointments(user)
        progress(75, "disclosures")
        data["disclosures"] = [
            _row(vars(entry)) for entry in services.accounting_for(None, account=user)
        ]
    data["caregivers"] = _grants(member, user)
    data["privacy"] = _privacy(request)
    data["emails"] = _emails(user)
    data["email_choices"] = _email_choices(user)
    data["notifications"] = _notifications(user)
    data["care"] = _care(user)
    data["plans"] = _plans(user)
    data["connected_apps"] = _connected_apps(user, member)
    progress(85, "writing")
    counts = {
        "messages": sum(len(c["messages"]) for c in data.get("messages", [])),
        "conversations": len(data.get("messages", [])),
        "claims": len(data.get("claims", [])),
        "documents": len(data.get("documents", [])),
        "appointments": len(data.get("appointments", [])),
        "access_history": len(data.get("access_history", [])),
        "disclosures": len(data.get("disclosures", [])),
        "consents": len(data["privacy"]["consents"]),
        "reviews": len(data["care"].get("reviews", [])),
        "applications": len(data["plans"]["applications"]),
        "quotes": len(data["plans"]["quotes"]),
        "connected_apps": len(data["connected_apps"]),
    }
    bundle = fhir_bundle(data)
    with translation.override(language):
        summary = render_to_string(
            "privacy/archive_summary.html",
            {"data": data, "counts": counts, "recent_access": data.get("access_history", [])[:100]},
        )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        archive.writestr("haven-data.json", json.dumps(data, ensure_ascii=False, indent=1))
        archive.writestr("fhir-bundle.json", json.dumps(bundle, ensure_ascii=False))
        archive.writestr("summary.html", summary)
    progress(95, "sealing")
    return buffer.getvalue(), counts
