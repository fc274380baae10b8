"""A real SMART client (the fhirclient library) against a live Haven: discovery, authorisation
with PKCE, token exchange, reads and searches, refresh, and revocation."""

import json
from urllib.parse import urlsplit

import pytest
import requests
from django.test import Client
from fhirclient import client as smart_client
from fhirclient.models.coverage import Coverage
from fhirclient.models.explanationofbenefit import ExplanationOfBenefit
from fhirclient.models.patient import Patient
from jwcrypto import jwk, jwt

from haven.fhir.models import Authorisation
from haven.fhir.services import authorisation_revoke
from haven.fhir.tests.flow import REDIRECT, make_app, make_claims

pytestmark = pytest.mark.django_db(transaction=True)


def approve_in_browser(live_server, user, member, authorize_url: str) -> str:
    """The member signs in to Haven and approves: returns where Haven sends the browser back."""
    browser = Client(HTTP_HOST=urlsplit(live_server.url).netloc)
    browser.force_login(user)
    parts = urlsplit(authorize_url)
    page = browser.get(f"{parts.path}?{parts.query}")
    assert page.status_code == 200, page.content
    response = browser.post(
        f"{parts.path}?{parts.query}", {"record": member.pk, "decision": "approve"}
    )
    assert response.status_code == 302, response.content
    return response["Location"]


@pytest.mark.promise("DIS-8")
@pytest.mark.promise("RIG-1")
def test_a_smart_client_reads_the_members_record_until_she_revokes_it(live_server, people):
    app = make_app(
        scopes=("openid", "fhirUser", "launch/patient", "patient/*.rs", "offline_access")
    )
    make_claims(people.alice_member, 12)
    make_claims(people.oscar_member, 3)
    smart = smart_client.FHIRClient(
        settings={
            "app_id": app.application.client_id,
            "api_base": f"{live_server.url}/fhir",
            "redirect_uri": REDIRECT,
            "scope": "openid fhirUser launch/patient patient/*.rs offline_access",
        }
    )
    callback = approve_in_browser(
        live_server, people.alice, people.alice_member, smart.authorize_url
    )
    assert callback.startswith(REDIRECT)
    smart.handle_callback(callback)
    assert smart.ready
    assert smart.patient_id == str(people.alice_member.pk)
    # OpenID Connect: the token response carried an id_token naming who signed in.
    claims = json.loads(
        jwt.JWT(
            jwt=smart.launch_context["id_token"],
            key=jwk.JWKSet.from_json(
                requests.get(f"{live_server.url}/oauth/jwks/", timeout=10).content
            ),
            algs=["RS256"],
            check_claims={"iss": f"{live_server.url}/fhir", "aud": app.application.client_id},
        ).claims
    )
    assert claims["fhirUser"] == f"Patient/{people.alice_member.pk}"

    patient = Patient.read(smart.patient_id, smart.server)
    assert patient.name[0].family == "Rivera"
    coverage = Coverage.read(smart.patient_id, smart.server)
    assert coverage.beneficiary.reference == f"Patient/{people.alice_member.pk}"
    claims = ExplanationOfBenefit.where({"patient": smart.patient_id, "_count": "5"})
    # The client follows the bundles' "next" links: 12 claims in pages of 5.
    pages = list(claims.perform_iter(smart.server))
    assert [page.total for page in pages] == [12, 12, 12]
    assert [len(page.entry) for page in pages] == [5, 5, 2]
    assert any(link.relation == "next" for link in pages[0].link)
    entries = [entry for page in pages for entry in page.entry]
    assert len({entry.resource.id for entry in entries}) == 12
    assert all(
        entry.resource.patient.reference == f"Patient/{people.alice_member.pk}" for entry in entries
    )

    # The access token expires within the hour; the refresh token (offline_access) renews it.
    assert smart.server.reauthorize()
    assert Patient.read(smart.patient_id, smart.server).id == smart.patient_id

    authorisation = Authorisation.objects.get(user=people.alice)
    authorisation_revoke(authorisation=authorisation, actor=people.alice)
    with pytest.raises(Exception) as refused:
        Patient.read(smart.patient_id, smart.server)
    assert "401" in str(refused.value) or "refresh" in str(refused.value).lower()
