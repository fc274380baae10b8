"""A SMART app's side of the flow, for tests: register, authorise as a member, exchange the code."""

import base64
import hashlib
import secrets
from datetime import date
from decimal import Decimal
from urllib.parse import parse_qs, urlencode, urlsplit

from django.urls import reverse

from haven.fhir.services import app_register
from haven.plans.models import Claim

REDIRECT = "https://app.example/callback"
AUD = "http://testserver/fhir"


def make_app(scopes=("launch/patient", "patient/*.rs", "offline_access"), name="Budget Buddy"):
    app, _secret = app_register(
        name=name,
        redirect_uris=[REDIRECT],
        scopes=list(scopes),
        developer="Buddy Labs",
        privacy_policy_url="https://app.example/privacy",
        privacy_practices="We never sell your data. We keep it until you delete your account.",
        actor=None,
    )
    return app


def make_claims(member, count: int, start: int = 0) -> list[Claim]:
    return Claim.objects.bulk_create(
        Claim(
            claim_number=f"C-{member.pk}-{index:05d}",
            member=member,
            service_start=date(2026, 1, 1 + index % 28),
            service_end=date(2026, 1, 1 + index % 28),
            received_on=date(2026, 2, 1),
            provider_name="Hartford Family Practice",
            provider_npi="1234567893",
            status="paid",
            status_on=date(2026, 2, 10),
            billed_amount=Decimal("200.00"),
            allowed_amount=Decimal("150.00"),
            plan_paid=Decimal("120.00"),
            member_responsibility=Decimal("30.00"),
            deductible_applied=Decimal("0.00"),
            diagnosis_codes=["J06.9"],
            procedure_codes=["99213"],
        )
        for index in range(start, start + count)
    )


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode().rstrip("=")


def authorize_query(
    app, challenge: str, *, scope="launch/patient patient/*.rs offline_access", **extra
):
    params = {
        "response_type": "code",
        "client_id": app.application.client_id,
        "redirect_uri": REDIRECT,
        "scope": scope,
        "state": "s-123",
        "aud": AUD,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    params.update(extra)
    return f"{reverse('oauth:authorize')}?{urlencode(params)}"


def approve(client, app, member, challenge: str, **extra) -> str:
    """The member approves on the authorisation screen; returns the code from the redirect."""
    response = client.post(
        authorize_query(app, challenge, **extra), {"record": member.pk, "decision": "approve"}
    )
    assert response.status_code == 302, response.status_code
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["state"] == ["s-123"], query
    return query["code"][0]


def exchange(client, app, code: str, verifier: str | None):
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": app.application.client_id,
    }
    if verifier is not None:
        data["code_verifier"] = verifier
    return client.post(reverse("oauth:token"), data)


def connect(case, user, member, app, **extra) -> dict:
    """Sign in, approve and exchange: the token response of a connected app."""
    case.sign_in(user)
    verifier, challenge = pkce()
    code = approve(case.client, app, member, challenge, **extra)
    case.client.logout()
    response = exchange(case.client, app, code, verifier)
    assert response.status_code == 200, response.content
    return response.json()


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}
