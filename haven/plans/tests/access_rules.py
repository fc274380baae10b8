from datetime import date

from haven.plans.models import Application, Claim, Product
from haven.testing.access import (
    CONSUMER,
    EVERYONE,
    GUARDIAN,
    MEMBER,
    OUTSIDER,
    SPOUSE,
    STAFF,
    Rule,
)

APPLICATION_STAFF = {STAFF["customer_service"], STAFF["administrator"]}
# Members see their own plan; a guardian sees the child's; a consumer holding no grant is asked
# to choose a person. Maria acts for Elena without the plan and claims scopes: refused.
RECORD_READERS = {MEMBER, SPOUSE, OUTSIDER, GUARDIAN, CONSUMER}


def claim_of(person: str):
    """URL kwargs for a claim of one of the test people (created on first use)."""

    def kwargs(case) -> dict:
        member = getattr(case, f"{person}_member")
        claim, _ = Claim.objects.get_or_create(
            claim_number=f"ACCESS-{member.member_id}",
            defaults={
                "member": member,
                "service_start": date(2026, 2, 1),
                "service_end": date(2026, 2, 1),
                "received_on": date(2026, 2, 3),
                "provider_name": "Riverside Family Medicine",
                "status": "paid",
                "status_on": date(2026, 2, 20),
                "billed_amount": 200,
                "allowed_amount": 150,
                "plan_paid": 120,
                "member_responsibility": 30,
            },
        )
        return {"pk": claim.pk}

    return kwargs


def application_kwargs(case) -> dict:
    """An application waiting in the queue (created on first use)."""
    product, _ = Product.objects.get_or_create(
        code="ACCESS-PRODUCT", defaults={"name": "Access product", "year": 2026}
    )
    application, _ = Application.objects.get_or_create(
        reference="HA-ACCE-SS22",
        defaults={
            "product": product,
            "first_name": "Vera",
            "last_name": "Visitor",
            "date_of_birth": date(1990, 5, 5),
            "address_line": "5 Elm Street",
            "city": "Hartford",
            "region": "CT",
            "postal_code": "06103",
            "phone": "860-555-0100",
        },
    )
    return {"pk": application.pk}


RULES = [
    Rule("plans:mine", allow=RECORD_READERS),
    Rule("plans:claims", allow=RECORD_READERS),
    Rule("plans:card", allow=RECORD_READERS),
    Rule("plans:card_pdf", allow=RECORD_READERS),
    Rule("plans:claim", allow={MEMBER}, kwargs=claim_of("alice"), note="Alice's own claim"),
    Rule(
        "plans:claim",
        allow={GUARDIAN},
        kwargs=claim_of("teo"),
        note="Teo's claim: his guardian, acting for him, and nobody else",
    ),
    Rule("plans:quote", allow=EVERYONE, note="public: visitors and producers"),
    Rule("plans:quote", method="POST", allow=EVERYONE, data={"person-TOTAL_FORMS": "0"}),
    Rule("plans:apply", allow=EVERYONE, note="public: visitors apply for coverage"),
    Rule("plans:apply", method="POST", allow=EVERYONE, data={"person-TOTAL_FORMS": "0"}),
    Rule(
        "plans:apply_done",
        allow=EVERYONE,
        ok=(302,),
        note="without an application sent from this browser, back to the form",
    ),
    Rule("plans:applications", allow=APPLICATION_STAFF),
    Rule(
        "plans:application_find",
        method="POST",
        allow=APPLICATION_STAFF,
        data={"reference": "HA-ACCE-SS22"},
        ok=(302,),
    ),
    Rule("plans:application", allow=APPLICATION_STAFF, kwargs=application_kwargs),
    Rule(
        "plans:application_decision",
        method="POST",
        allow=APPLICATION_STAFF,
        kwargs=application_kwargs,
        data={"decision": "accepted", "note": "Checked by phone."},
        ok=(302,),
    ),
]
