"""Who may open each URL of the FHIR app. The API answers a bearer token only: a signed-in session
opens nothing (401), and the directory is public. The authorisation screen is for people who hold
a record (members, caregivers, consumers); without OAuth parameters it answers 400."""

from haven.fhir.models import Authorisation
from haven.fhir.tests.flow import make_app
from haven.testing.access import (
    ANONYMOUS,
    CAREGIVER,
    CONSUMER,
    EVERYONE,
    GUARDIAN,
    MEMBER,
    MEMBERS,
    SIGNED_IN,
    STAFF,
    Rule,
)

HOLDERS = MEMBERS | {CAREGIVER, CONSUMER}
SESSIONS_ARE_NOT_TOKENS = "a session opens nothing here: only a bearer token does (401)"


def alices_authorisation(case) -> dict:
    authorisation = Authorisation.objects.filter(user=case.alice).first()
    if authorisation is None:
        authorisation = Authorisation.objects.create(
            app=make_app(name="Matrix App"),
            user=case.alice,
            member=case.alice_member,
            scope="patient/*.rs",
        )
    return {"pk": authorisation.pk}


ADMINISTRATOR = STAFF["administrator"]


def an_app(case) -> dict:
    return {"pk": make_app(name="Staff Matrix App").pk}


RULES = [
    Rule("fhir:staff_apps", {ADMINISTRATOR}, note="administrators register and approve apps"),
    Rule(
        "fhir:staff_app_approve",
        {ADMINISTRATOR},
        method="POST",
        kwargs=an_app,
        ok=(302,),
    ),
    Rule(
        "fhir:staff_app_suspend",
        {ADMINISTRATOR},
        method="POST",
        kwargs=an_app,
        ok=(302,),
    ),
    Rule("fhir:base", EVERYONE, ok=(400,), note="no resource type named"),
    Rule("fhir:metadata", EVERYONE, note="the CapabilityStatement is public"),
    Rule("smart_configuration", EVERYONE, note="SMART discovery is public"),
    Rule("fhir:openid_configuration", EVERYONE, note="OpenID Connect discovery is public"),
    Rule("oauth:jwks", EVERYONE, note="the public keys that verify id_tokens"),
    Rule("fhir:apps", HOLDERS),
    # Revoking needs the authorisation's own owner: Alice, acting for herself or for Teo.
    Rule(
        "fhir:app_revoke",
        {MEMBER, GUARDIAN},
        method="POST",
        kwargs=alices_authorisation,
        ok=(302,),
    ),
    Rule("fhir:search", EVERYONE, kwargs={"resource_type": "Practitioner"}),
    Rule(
        "fhir:read",
        SIGNED_IN | {ANONYMOUS},
        kwargs={"resource_type": "Patient", "pk": "1"},
        ok=(401,),
        note=SESSIONS_ARE_NOT_TOKENS,
    ),
    Rule("oauth:authorize", HOLDERS, ok=(400,), note="no OAuth parameters given"),
    Rule("oauth:token", EVERYONE, method="POST", ok=(400, 401)),
    Rule("oauth:revoke", EVERYONE, method="POST", ok=(200, 400, 401)),
]
