"""Appointment, Coverage with its insurer, ExplanationOfBenefit searches, validated as FHIR R4
(fhir.resources R4B); and the privacy center's way to the connected apps."""

from datetime import date

import pytest
from django.urls import reverse
from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.coverage import Coverage
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.organization import Organization

from haven.audit.models import AuditEvent, EventType
from haven.care.tests.world import book, world
from haven.fhir.tests.flow import bearer, connect, make_app, make_claims
from haven.plans.models import Claim
from haven.testing.people import HavenTestCase


class AppointmentTests(HavenTestCase):
    def setUp(self):
        super().setUp()
        care = world(self)
        self.kim = care.kim
        self.first = book(self, self.alice, care.direct_slots[0])
        self.second = book(self, self.alice, care.direct_slots[1])
        self.oscars = book(self, self.oscar, care.direct_slots[2])
        self.app = make_app()
        token = connect(self, self.alice, self.alice_member, self.app)
        self.auth = bearer(token["access_token"])

    @pytest.mark.promise("RIG-1")
    def test_an_appointment_reads_as_a_valid_fhir_appointment(self):
        response = self.client.get(f"/fhir/Appointment/{self.first.pk}", **self.auth)
        self.assertEqual(response.status_code, 200)
        appointment = Appointment.model_validate(response.json())
        self.assertEqual(appointment.id, str(self.first.pk))
        self.assertEqual(appointment.status, "booked")
        self.assertEqual(
            {participant.actor.reference for participant in appointment.participant},
            {f"Patient/{self.alice_member.pk}", f"Practitioner/{self.kim.pk}"},
        )
        self.assertEqual(appointment.start, self.first.slot.starts_at)

    @pytest.mark.promise("DIS-8")
    def test_appointment_search_finds_only_the_patients_own_and_is_a_disclosure(self):
        response = self.client.get(
            "/fhir/Appointment", {"patient": self.alice_member.pk}, **self.auth
        )
        bundle = Bundle.model_validate(response.json())
        self.assertEqual(bundle.total, 2)
        ids = {entry.resource.id for entry in bundle.entry}
        self.assertEqual(ids, {str(self.first.pk), str(self.second.pk)})
        for entry in response.json()["entry"]:
            Appointment.model_validate(entry["resource"])
        by_id = self.client.get("/fhir/Appointment", {"_id": self.second.pk}, **self.auth).json()
        self.assertEqual([e["resource"]["id"] for e in by_id["entry"]], [str(self.second.pk)])
        self.assertEqual(
            self.client.get(f"/fhir/Appointment/{self.oscars.pk}", **self.auth).status_code, 404
        )
        refused = self.client.get(
            "/fhir/Appointment", {"patient": self.oscar_member.pk}, **self.auth
        )
        self.assertEqual(refused.status_code, 403)
        OperationOutcome.model_validate(refused.json())
        disclosures = AuditEvent.objects.filter(
            type=EventType.DISCLOSURE, member=self.alice_member, recipient="Budget Buddy"
        )
        self.assertTrue(any("appointments" in event.entity for event in disclosures))


class CoverageAndInsurerTests(HavenTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.app = make_app()

    def setUp(self):
        super().setUp()
        token = connect(self, self.alice, self.alice_member, self.app)
        self.auth = bearer(token["access_token"])

    @pytest.mark.promise("RIG-1")
    def test_coverage_search_names_the_insurer_which_reads_as_a_payer_organization(self):
        response = self.client.get("/fhir/Coverage", {"patient": self.alice_member.pk}, **self.auth)
        bundle = Bundle.model_validate(response.json())
        self.assertEqual(bundle.total, 1)
        coverage = Coverage.model_validate(response.json()["entry"][0]["resource"])
        self.assertEqual(coverage.beneficiary.reference, f"Patient/{self.alice_member.pk}")
        self.assertEqual(coverage.payor[0].reference, f"Organization/plan-{self.plan.pk}")
        self.assertEqual({c.value for c in coverage.class_fhir}, {"G-1", "TEST-PPO"})
        # The insurer is part of the public directory: no token needed.
        self.client.logout()
        insurer = self.client.get(f"/fhir/{coverage.payor[0].reference}")
        self.assertEqual(insurer.status_code, 200)
        organization = Organization.model_validate(insurer.json())
        self.assertEqual(organization.name, "Haven Health Plan")
        self.assertEqual(organization.type[0].coding[0].code, "pay")
        self.assertEqual(self.client.get("/fhir/Organization/plan-999999").status_code, 404)

    def test_coverage_search_by_another_id_or_patient_finds_nothing_of_theirs(self):
        other = self.client.get("/fhir/Coverage", {"_id": self.oscar_member.pk}, **self.auth)
        self.assertEqual(other.json()["total"], 0)
        refused = self.client.get("/fhir/Coverage", {"patient": self.oscar_member.pk}, **self.auth)
        self.assertEqual(refused.status_code, 403)
        OperationOutcome.model_validate(refused.json())


class ClaimSearchTests(HavenTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.app = make_app()
        january, march, june = make_claims(cls.alice_member, 3)
        dates = {
            january.pk: (date(2026, 1, 5), date(2026, 1, 7), date(2026, 1, 20)),
            march.pk: (date(2026, 3, 10), date(2026, 3, 10), date(2026, 4, 2)),
            june.pk: (date(2026, 6, 1), date(2026, 6, 3), date(2026, 6, 30)),
        }
        for pk, (start, end, status_on) in dates.items():
            Claim.objects.filter(pk=pk).update(
                service_start=start, service_end=end, status_on=status_on
            )
        cls.january, cls.march, cls.june = (str(c.pk) for c in (january, march, june))

    def setUp(self):
        super().setUp()
        token = connect(self, self.alice, self.alice_member, self.app)
        self.auth = bearer(token["access_token"])

    def found(self, **params) -> set[str]:
        response = self.client.get("/fhir/ExplanationOfBenefit", params, **self.auth)
        self.assertEqual(response.status_code, 200, response.content)
        bundle = Bundle.model_validate(response.json())
        return {entry.resource.id for entry in bundle.entry or []}

    def test_search_by_last_updated(self):
        self.assertEqual(self.found(_lastUpdated="ge2026-04-01"), {self.march, self.june})
        self.assertEqual(self.found(_lastUpdated="lt2026-04-02"), {self.january})
        self.assertEqual(self.found(_lastUpdated="2026-06"), {self.june})
        self.assertEqual(self.found(_lastUpdated="2026-01-20T10:00:00Z"), {self.january})
        both = "/fhir/ExplanationOfBenefit?_lastUpdated=gt2026-01-20&_lastUpdated=le2026-04-02"
        bundle = self.client.get(both, **self.auth).json()
        self.assertEqual({e["resource"]["id"] for e in bundle["entry"]}, {self.march})

    def test_search_by_service_date(self):
        self.assertEqual(self.found(**{"service-date": "2026-01-06"}), {self.january})
        self.assertEqual(self.found(**{"service-date": "ge2026-03-10"}), {self.march, self.june})
        self.assertEqual(self.found(**{"service-date": "lt2026-03-10"}), {self.january})
        self.assertEqual(self.found(**{"service-date": "le2026-03"}), {self.january, self.march})
        self.assertEqual(self.found(**{"service-date": "2025"}), set())

    def test_search_by_type(self):
        every = {self.january, self.march, self.june}
        self.assertEqual(self.found(type="professional"), every)
        system = "http://terminology.hl7.org/CodeSystem/claim-type"
        self.assertEqual(self.found(type=f"{system}|professional"), every)
        self.assertEqual(self.found(type="institutional,professional"), every)
        self.assertEqual(self.found(type="pharmacy"), set())
        self.assertEqual(self.found(type="https://other.example/types|professional"), set())

    def test_a_date_that_is_not_one_is_a_400_operation_outcome(self):
        for params in ({"_lastUpdated": "yesterday"}, {"service-date": "ge2026-13-01"}):
            response = self.client.get("/fhir/ExplanationOfBenefit", params, **self.auth)
            self.assertEqual(response.status_code, 400)
            OperationOutcome.model_validate(response.json())

    def test_the_capability_statement_lists_the_claim_search_parameters(self):
        statement = self.client.get(reverse("fhir:metadata")).json()
        eob = next(
            r for r in statement["rest"][0]["resource"] if r["type"] == "ExplanationOfBenefit"
        )
        params = {param["name"]: param["type"] for param in eob["searchParam"]}
        self.assertEqual(params["_lastUpdated"], "date")
        self.assertEqual(params["service-date"], "date")
        self.assertEqual(params["type"], "token")


class PrivacyCenterLinkTests(HavenTestCase):
    @pytest.mark.promise("DIS-8")
    def test_the_privacy_center_leads_to_the_connected_apps_in_three_languages(self):
        self.sign_in(self.alice)
        for language, words in (
            ("en", "Connected apps"),
            ("es", "Aplicaciones conectadas"),
            ("it", "App collegate"),
        ):
            page = self.client.get(reverse("privacy:center"), HTTP_ACCEPT_LANGUAGE=language)
            self.assertContains(page, f'href="{reverse("fhir:apps")}"')
            self.assertContains(page, words)
        self.sign_in(self.maria)
        self.assertContains(self.client.get(reverse("privacy:center")), reverse("fhir:apps"))
