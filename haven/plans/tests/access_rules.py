from datetime import date

from haven.plans.models import Application, Product
from haven.testing.access import EVERYONE, STAFF, Rule

APPLICATION_STAFF = {STAFF["customer_service"], STAFF["administrator"]}


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
