import pytest
from django.urls import reverse
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.coverage import Coverage
from fhir.resources.R4B.explanationofbenefit import ExplanationOfBenefit
from fhir.resources.R4B.location import Location
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.practitioner import Practitioner
from fhir.resources.R4B.practitionerrole import PractitionerRole

from haven.audit.models import AuditEvent, EventType, Outcome
from haven.caregivers.models import Grant, Scope
from haven.fhir.models import Authorisation
from haven.fhir.tests.flow import bearer, connect, make_app, make_claims
from haven.plans.models import Claim
from haven.privacy.services import accounting_for
from haven.testing.people import HavenTestCase

FHIR_JSON = "application/fhir+json"


class PatientAccessApiTests(HavenTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.app = make_app()
        cls.coverage_only = make_app(
            scopes=("launch/patient", "patient/Coverage.rs"), name="Card Wallet"
        )
        make_claims(cls.alice_member, 7)
        make_claims(cls.oscar_member, 2)

    def setUp(self):
        self.token = connect(self, self.alice, self.alice_member, self.app)
        self.auth = bearer(self.token["access_token"])

    def get(self, path, **params):
        return self.client.get(path, params, **self.auth)

    @pytest.mark.promise("RIG-1")
    def test_the_member_record_comes_as_valid_fhir_r4(self):
        patient = self.get(f"/fhir/Patient/{self.alice_member.pk}")
        self.assertEqual(patient.status_code, 200)
        self.assertTrue(patient["Content-Type"].startswith(FHIR_JSON))
        parsed = Patient.model_validate(patient.json())
        self.assertEqual(parsed.name[0].family, "Rivera")
        self.assertEqual(parsed.identifier[0].value, "M-ALICE")
        coverage = self.get(f"/fhir/Coverage/{self.alice_member.pk}")
        Coverage.model_validate(coverage.json())
        claims = self.get("/fhir/ExplanationOfBenefit", patient=self.alice_member.pk)
        bundle = Bundle.model_validate(claims.json())
        self.assertEqual(bundle.total, 7)
        for entry in claims.json()["entry"]:
            eob = ExplanationOfBenefit.model_validate(entry["resource"])
            self.assertEqual(eob.patient.reference, f"Patient/{self.alice_member.pk}")
            self.assertEqual(eob.diagnosis[0].diagnosisCodeableConcept.coding[0].code, "J06.9")

    def test_search_pages_with_count_and_next_links(self):
        first = self.get("/fhir/ExplanationOfBenefit", _count=3).json()
        self.assertEqual(len(first["entry"]), 3)
        next_url = next(link["url"] for link in first["link"] if link["relation"] == "next")
        second = self.client.get(next_url, **self.auth).json()
        self.assertEqual(len(second["entry"]), 3)
        third_url = next(link["url"] for link in second["link"] if link["relation"] == "next")
        third = self.client.get(third_url, **self.auth).json()
        self.assertEqual(len(third["entry"]), 1)
        self.assertFalse([link for link in third["link"] if link["relation"] == "next"])
        ids = {e["resource"]["id"] for page in (first, second, third) for e in page["entry"]}
        self.assertEqual(len(ids), 7)

    def test_patient_search_by_id_and_identifier(self):
        found = self.get("/fhir/Patient", identifier="M-ALICE").json()
        self.assertEqual(found["total"], 1)
        self.assertEqual(self.get("/fhir/Patient", _id="999999").json()["total"], 0)

    @pytest.mark.promise("DIS-8")
    def test_a_token_never_reaches_another_members_data(self):
        self.assertEqual(self.get(f"/fhir/Patient/{self.oscar_member.pk}").status_code, 404)
        oscar_claim = self.oscar_member.claims.first()
        self.assertEqual(self.get(f"/fhir/ExplanationOfBenefit/{oscar_claim.pk}").status_code, 404)
        refused = self.get("/fhir/ExplanationOfBenefit", patient=self.oscar_member.pk)
        self.assertEqual(refused.status_code, 403)
        OperationOutcome.model_validate(refused.json())

    def test_no_token_gets_401_with_an_operation_outcome(self):
        response = self.client.get(f"/fhir/Patient/{self.alice_member.pk}")
        self.assertEqual(response.status_code, 401)
        self.assertIn("Bearer", response["WWW-Authenticate"])
        OperationOutcome.model_validate(response.json())
        wrong = self.client.get("/fhir/Patient", **bearer("not-a-token"))
        self.assertEqual(wrong.status_code, 401)

    def test_a_resource_outside_the_granted_scopes_gets_403(self):
        self.client.logout()
        token = connect(
            self,
            self.alice,
            self.alice_member,
            self.coverage_only,
            scope="launch/patient patient/Coverage.rs",
        )
        auth = bearer(token["access_token"])
        self.assertEqual(
            self.client.get(f"/fhir/Coverage/{self.alice_member.pk}", **auth).status_code, 200
        )
        refused = self.client.get("/fhir/ExplanationOfBenefit", **auth)
        self.assertEqual(refused.status_code, 403)
        OperationOutcome.model_validate(refused.json())

    def test_an_app_cannot_ask_for_scopes_staff_did_not_approve(self):
        self.client.logout()
        self.sign_in(self.alice)
        from haven.fhir.tests.flow import authorize_query, pkce

        _verifier, challenge = pkce()
        response = self.client.get(
            authorize_query(self.coverage_only, challenge, scope="patient/*.rs")
        )
        self.assertEqual(response.status_code, 302)
        self.assertIn("error=invalid_scope", response["Location"])

    @pytest.mark.promise("DIS-8")
    def test_every_read_is_a_disclosure_to_the_app_in_the_accounting(self):
        self.get(f"/fhir/Patient/{self.alice_member.pk}")
        self.get("/fhir/ExplanationOfBenefit")
        events = AuditEvent.objects.filter(
            type=EventType.DISCLOSURE, member=self.alice_member, recipient="Budget Buddy"
        )
        self.assertEqual(events.count(), 2)
        recipients = [entry.recipient for entry in accounting_for(self.alice_member)]
        self.assertEqual(recipients.count("Budget Buddy"), 2)

    @pytest.mark.promise("DIS-8")
    def test_the_member_sees_the_app_and_what_it_read_and_revokes_it_at_once(self):
        self.get(f"/fhir/Patient/{self.alice_member.pk}")
        self.sign_in(self.alice)
        page = self.client.get(reverse("fhir:apps"))
        self.assertContains(page, "Budget Buddy")
        self.assertContains(page, "Name, birth date and member ID")
        authorisation = Authorisation.objects.get(user=self.alice, app=self.app)
        response = self.client.post(reverse("fhir:app_revoke", args=[authorisation.pk]))
        self.assertEqual(response.status_code, 302)
        self.client.logout()
        after = self.client.get(f"/fhir/Patient/{self.alice_member.pk}", **self.auth)
        self.assertEqual(after.status_code, 401)
        refresh = self.client.post(
            reverse("oauth:token"),
            {
                "grant_type": "refresh_token",
                "refresh_token": self.token["refresh_token"],
                "client_id": self.app.application.client_id,
            },
        )
        self.assertEqual(refresh.status_code, 400)

    def test_another_member_cannot_revoke_alices_app(self):
        authorisation = Authorisation.objects.get(user=self.alice, app=self.app)
        self.sign_in(self.oscar)
        response = self.client.post(reverse("fhir:app_revoke", args=[authorisation.pk]))
        self.assertEqual(response.status_code, 404)
        authorisation.refresh_from_db()
        self.assertIsNone(authorisation.revoked_at)

    def test_a_caregivers_token_opens_only_what_the_grant_allows(self):
        self.client.logout()
        token = connect(self, self.maria, self.elena_member, self.app)
        auth = bearer(token["access_token"])
        # Maria's grant covers messages and appointments, not claims.
        refused = self.client.get("/fhir/ExplanationOfBenefit", **auth)
        self.assertEqual(refused.status_code, 403)


class ProtectedCategoryTests(HavenTestCase):
    """An app holds what the person who connected it may see on the web: a guardian's or a
    caregiver's app never receives a claim in a protected category (mental health, substance use,
    reproductive health, HIV, genetic), by read or by search."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.app = make_app()
        cls.plain = make_claims(cls.teo_member, 1)[0]
        # Counselling by its service, and a primary-care visit whose diagnosis is depression.
        cls.counselling, cls.by_diagnosis = make_claims(cls.teo_member, 2, start=1)
        Claim.objects.filter(pk=cls.counselling.pk).update(
            service_category="mental_health", diagnosis_codes=["F32.9"]
        )
        Claim.objects.filter(pk=cls.by_diagnosis.pk).update(
            service_category="primary_care", diagnosis_codes=["J02.9", "F32.9"]
        )
        cls.elena_claims = make_claims(cls.elena_member, 2, start=10)
        Claim.objects.filter(pk=cls.elena_claims[1].pk).update(diagnosis_codes=["F10.20"])
        cls.alice_counselling = make_claims(cls.alice_member, 1, start=20)[0]
        Claim.objects.filter(pk=cls.alice_counselling.pk).update(diagnosis_codes=["F41.1"])
        # Elena lets Maria see her claims too; a grant never opens a protected category.
        Grant.objects.filter(pk=cls.maria_grant.pk).update(
            scopes=[Scope.MESSAGES, Scope.APPOINTMENTS, Scope.CLAIMS]
        )

    def guardian_token(self) -> dict:
        token = connect(self, self.alice, self.teo_member, self.app)
        self.assertEqual(token["patient"], str(self.teo_member.pk))
        return bearer(token["access_token"])

    @pytest.mark.promise("ACC-9")
    @pytest.mark.promise("DIS-8")
    def test_a_guardians_app_cannot_read_the_childs_claim_in_a_protected_category(self):
        auth = self.guardian_token()
        allowed = self.client.get(f"/fhir/ExplanationOfBenefit/{self.plain.pk}", **auth)
        self.assertEqual(allowed.status_code, 200)
        ExplanationOfBenefit.model_validate(allowed.json())
        for claim in (self.counselling, self.by_diagnosis):
            refused = self.client.get(f"/fhir/ExplanationOfBenefit/{claim.pk}", **auth)
            self.assertEqual(refused.status_code, 404)
            OperationOutcome.model_validate(refused.json())
            self.assertNotIn(b"F32", refused.content)
            self.assertNotIn(b"mental", refused.content)
            refusal = AuditEvent.objects.filter(member=self.teo_member).latest("sequence")
            self.assertEqual(
                (refusal.outcome, refusal.category, refusal.record_id, refusal.recipient),
                (Outcome.DENIED, "mental_health", str(claim.pk), "Budget Buddy"),
            )

    @pytest.mark.promise("ACC-9")
    @pytest.mark.promise("DIS-8")
    def test_a_guardians_app_searching_claims_gets_none_in_a_protected_category(self):
        auth = self.guardian_token()
        response = self.client.get("/fhir/ExplanationOfBenefit", **auth)
        self.assertEqual(response.status_code, 200)
        bundle = Bundle.model_validate(response.json())
        self.assertEqual(bundle.total, 1)
        self.assertEqual([e.resource.id for e in bundle.entry], [str(self.plain.pk)])
        self.assertNotIn(b"F32", response.content)
        by_id = self.client.get(
            "/fhir/ExplanationOfBenefit", {"_id": self.counselling.pk}, **auth
        ).json()
        self.assertEqual((by_id["total"], by_id.get("entry", [])), (0, []))
        by_number = self.client.get(
            "/fhir/ExplanationOfBenefit", {"identifier": self.by_diagnosis.claim_number}, **auth
        ).json()
        self.assertEqual(by_number["total"], 0)

    @pytest.mark.promise("ACC-9")
    def test_a_caregivers_app_gets_the_claims_the_grant_opens_but_no_protected_one(self):
        token = connect(self, self.maria, self.elena_member, self.app)
        auth = bearer(token["access_token"])
        listed = self.client.get("/fhir/ExplanationOfBenefit", **auth).json()
        self.assertEqual(
            [entry["resource"]["id"] for entry in listed["entry"]], [str(self.elena_claims[0].pk)]
        )
        self.assertNotIn("F10.20", str(listed))
        refused = self.client.get(f"/fhir/ExplanationOfBenefit/{self.elena_claims[1].pk}", **auth)
        self.assertEqual(refused.status_code, 404)

    def test_the_members_own_app_gets_her_claims_in_protected_categories(self):
        token = connect(self, self.alice, self.alice_member, self.app)
        auth = bearer(token["access_token"])
        read = self.client.get(f"/fhir/ExplanationOfBenefit/{self.alice_counselling.pk}", **auth)
        self.assertEqual(read.status_code, 200)
        eob = ExplanationOfBenefit.model_validate(read.json())
        self.assertEqual(eob.diagnosis[0].diagnosisCodeableConcept.coding[0].code, "F41.1")
        self.assertEqual(self.client.get("/fhir/ExplanationOfBenefit", **auth).json()["total"], 1)


class DirectoryAndMetadataTests(HavenTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        from haven.care.models import Facility, Practitioner

        place = {
            "address_line": "80 Seymour St",
            "city": "Hartford",
            "postal_code": "06102",
            "latitude": 41.754,
            "longitude": -72.679,
            "phone": "860-555-0100",
        }
        cls.facility = Facility.objects.create(name="Hartford Hospital", kind="hospital", **place)
        cls.doctor = Practitioner.objects.create(
            first_name="Ana",
            last_name="Costa",
            credentials="MD",
            specialty="cardiology",
            facility=cls.facility,
            **place,
        )

    def test_the_directory_finds_a_practitioner_by_name_and_specialty(self):
        found = self.client.get("/fhir/Practitioner", {"name": "cost"}).json()
        self.assertEqual(found["total"], 1)
        Practitioner.model_validate(found["entry"][0]["resource"])
        roles = self.client.get("/fhir/PractitionerRole", {"specialty": "cardiology"}).json()
        role = PractitionerRole.model_validate(roles["entry"][0]["resource"])
        self.assertEqual(role.organization.reference, f"Organization/{self.facility.pk}")
        Organization.model_validate(
            self.client.get(f"/fhir/Organization/{self.facility.pk}").json()
        )
        Location.model_validate(self.client.get(f"/fhir/Location/{self.facility.pk}").json())
        self.assertEqual(
            self.client.get("/fhir/PractitionerRole", {"specialty": "dentistry"}).json()["total"],
            0,
        )

    def test_metadata_is_a_capability_statement_with_the_smart_endpoints(self):
        response = self.client.get(reverse("fhir:metadata"))
        self.assertTrue(response["Content-Type"].startswith(FHIR_JSON))
        statement = CapabilityStatement.model_validate(response.json())
        extension = statement.rest[0].security.extension[0]
        uris = {item.url: item.valueUri for item in extension.extension}
        self.assertEqual(uris["token"], "http://testserver/oauth/token/")

    def test_the_directory_is_public(self):
        for name in ("Practitioner", "PractitionerRole", "Organization", "Location"):
            response = self.client.get(f"/fhir/{name}", {"_count": 5})
            self.assertEqual(response.status_code, 200, name)
            Bundle.model_validate(response.json())

    def test_an_unknown_search_parameter_is_a_400_operation_outcome(self):
        response = self.client.get("/fhir/Practitioner", {"colour": "blue"})
        self.assertEqual(response.status_code, 400)
        OperationOutcome.model_validate(response.json())

    def test_an_unknown_resource_type_is_a_404_operation_outcome(self):
        response = self.client.get("/fhir/Observation")
        self.assertEqual(response.status_code, 404)
        OperationOutcome.model_validate(response.json())
