from unittest import mock

import pytest
from django.db import transaction
from django.test import RequestFactory

from haven.audit import access
from haven.audit.models import Action, AuditEvent, EventType, Outcome
from haven.audit.policy import Purpose, Resource
from haven.audit.tests.training import train_all_staff
from haven.testing.people import HavenTestCase


class AccessorTests(HavenTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        train_all_staff(cls)

    def request_as(self, user, ip="203.0.113.9"):
        request = RequestFactory().get("/records/1/", REMOTE_ADDR=ip, HTTP_USER_AGENT="Tester/1.0")
        request.user = user
        return request

    @pytest.mark.promise("AUD-3")
    def test_a_read_writes_one_record_of_who_whose_what_why_when_where_and_outcome(self):
        request = self.request_as(self.nurse)
        permitted = access.read(
            actor=self.nurse,
            request=request,
            member=self.elena_member,
            resource=[Resource.DEMOGRAPHICS, Resource.DOCUMENTS],
            purpose=Purpose.TREATMENT,
        )
        event = AuditEvent.objects.get()
        self.assertEqual(permitted.event, event)
        self.assertEqual(event.actor, self.nurse)
        self.assertEqual(event.actor_role, "care_team")
        self.assertEqual(event.member, self.elena_member)
        self.assertEqual(set(event.entity), {"demographics", "documents"})
        self.assertIn("date_of_birth", event.entity["demographics"])
        self.assertEqual(event.purpose, "treatment")
        self.assertEqual(event.outcome, Outcome.ALLOWED)
        self.assertEqual(event.action, Action.READ)
        self.assertEqual(event.type, EventType.ACCESS)
        self.assertEqual(event.ip_address, "203.0.113.9")
        self.assertEqual(event.user_agent, "Tester/1.0")
        self.assertIsNotNone(event.recorded_at)

    @pytest.mark.promise("AUD-3")
    def test_a_denied_attempt_is_recorded_too(self):
        with self.assertRaises(access.NotPermitted):
            access.read(
                actor=self.representative,
                request=self.request_as(self.representative),
                member=self.elena_member,
                resource=Resource.DOCUMENTS,
                purpose=Purpose.PAYMENT,
            )
        event = AuditEvent.objects.get()
        self.assertEqual(event.outcome, Outcome.DENIED)
        self.assertEqual(event.reason, "not_permitted")
        self.assertEqual(event.entity, {"documents": list(access.FIELDS["documents"])})
        self.assertIn("denied", event.flags)

    @pytest.mark.promise("AUD-2")
    def test_a_representative_answering_about_a_bill_gets_claims_and_contact_not_clinical_data(
        self,
    ):
        permitted = access.read(
            actor=self.representative,
            request=self.request_as(self.representative),
            member=self.alice_member,
            resource=[Resource.CONTACT, Resource.CLAIMS, Resource.DOCUMENTS, Resource.MESSAGES],
            purpose=Purpose.PAYMENT,
        )
        self.assertTrue(permitted.allows(Resource.CONTACT))
        self.assertTrue(permitted.allows(Resource.CLAIMS))
        self.assertNotIn("diagnosis_codes", permitted.fields[Resource.CLAIMS])
        self.assertFalse(permitted.allows(Resource.DOCUMENTS))
        self.assertFalse(permitted.allows(Resource.MESSAGES))
        self.assertEqual(permitted.withheld, (Resource.DOCUMENTS, Resource.MESSAGES))
        self.assertEqual(AuditEvent.objects.get().withheld, ["documents", "messages"])

    @pytest.mark.promise("AUD-1")
    def test_pick_returns_only_the_allowed_fields(self):
        permitted = access.read(
            actor=self.administrator,
            request=self.request_as(self.administrator),
            member=self.alice_member,
            resource=Resource.DEMOGRAPHICS,
            purpose=Purpose.OPERATIONS,
        )
        shown = permitted.pick(Resource.DEMOGRAPHICS, self.alice_member)
        self.assertEqual(set(shown), {"first_name", "last_name", "member_id"})

    @pytest.mark.promise("AUD-3")
    def test_a_change_is_recorded_in_the_same_transaction_as_the_change(self):
        with access.change(
            actor=self.representative,
            request=self.request_as(self.representative),
            member=self.alice_member,
            resource=Resource.CONTACT,
            fields=["phone"],
            purpose=Purpose.OPERATIONS,
        ) as changed:
            self.alice_member.phone = "860-555-0199"
            self.alice_member.save(update_fields=["phone"])
            changed.record_id = self.alice_member.pk
        event = AuditEvent.objects.get()
        self.assertEqual((event.action, event.subtype), (Action.UPDATE, "update"))
        self.assertEqual(event.entity, {"contact": ["phone"]})

    @pytest.mark.promise("AUD-3")
    def test_a_change_that_fails_leaves_neither_the_change_nor_its_record(self):
        with self.assertRaises(ValueError):
            with access.change(
                actor=self.representative,
                request=self.request_as(self.representative),
                member=self.alice_member,
                resource=Resource.CONTACT,
                fields=["phone"],
                purpose=Purpose.OPERATIONS,
            ):
                self.alice_member.phone = "860-555-0198"
                self.alice_member.save(update_fields=["phone"])
                raise ValueError("storage failed")
        self.alice_member.refresh_from_db()
        self.assertNotEqual(self.alice_member.phone, "860-555-0198")
        self.assertFalse(AuditEvent.objects.exists())

    def test_a_refused_change_is_recorded_and_nothing_runs(self):
        with self.assertRaises(access.NotPermitted):
            with access.change(
                actor=self.staff["producer_support"],
                request=self.request_as(self.staff["producer_support"]),
                member=self.alice_member,
                resource=Resource.CONTACT,
                purpose=Purpose.OPERATIONS,
            ):
                self.fail("the block must not run")
        self.assertEqual(AuditEvent.objects.get().outcome, Outcome.DENIED)

    def test_the_accessor_refuses_to_run_inside_another_transaction(self):
        with transaction.atomic(), self.assertRaises(RuntimeError):
            access.read(
                actor=self.nurse,
                request=self.request_as(self.nurse),
                member=self.elena_member,
                resource=Resource.DEMOGRAPHICS,
                purpose=Purpose.TREATMENT,
            )

    @pytest.mark.promise("AUD-3")
    def test_a_caregiver_is_recorded_as_acting_on_behalf_of_the_member(self):
        access.read(
            actor=self.alice,
            request=self.request_as(self.alice),
            member=self.teo_member,
            resource=Resource.DOCUMENTS,
        )
        event = AuditEvent.objects.get()
        self.assertEqual(event.purpose, Purpose.PROXY)
        self.assertEqual(event.grant, self.teo_guardian_grant)
        fhir = event.to_fhir()
        self.assertEqual(fhir["agent"][0]["who"]["reference"], f"RelatedPerson/{self.alice.pk}")
        self.assertEqual(
            fhir["agent"][0]["extension"][0]["valueReference"]["reference"],
            f"Patient/{self.teo_member.pk}",
        )

    def test_a_caregiver_outside_their_scopes_is_refused(self):
        with self.assertRaises(access.NotAuthorised):
            access.read(
                actor=self.maria,
                request=self.request_as(self.maria),
                member=self.elena_member,
                resource=Resource.CLAIMS,
            )

    def test_a_task_acts_as_the_system_for_a_stated_purpose(self):
        permitted = access.read(
            actor=access.system("appointment-reminders"),
            member=self.alice_member,
            resource=Resource.CONTACT,
            purpose=Purpose.OPERATIONS,
        )
        event = permitted.event
        self.assertIsNone(event.actor)
        self.assertEqual(event.system_actor, "appointment-reminders")
        self.assertEqual(event.source, "task:appointment-reminders")
        with self.assertRaises(access.NotPermitted):
            access.read(
                actor=access.system("appointment-reminders"),
                member=self.alice_member,
                resource=Resource.DOCUMENTS,
                purpose=Purpose.OPERATIONS,
            )

    def test_a_disclosure_names_its_recipient(self):
        access.disclose(
            actor=self.privacy_officer,
            request=self.request_as(self.privacy_officer),
            member=self.alice_member,
            resource=Resource.CLAIMS,
            purpose=Purpose.LEGAL,
            recipient="Superior Court of Hartford",
        )
        event = AuditEvent.objects.get()
        self.assertEqual(
            (event.type, event.recipient), ("disclosure", "Superior Court of Hartford")
        )

    @pytest.mark.promise("AUD-3")
    def test_who_saw_or_received_my_data_is_one_query(self):
        request = self.request_as(self.nurse)
        for _ in range(3):
            access.read(
                actor=self.nurse,
                request=request,
                member=self.elena_member,
                resource=Resource.DOCUMENTS,
                purpose=Purpose.TREATMENT,
            )
        access.disclose(
            actor=self.privacy_officer,
            request=request,
            member=self.elena_member,
            resource=Resource.CLAIMS,
            purpose=Purpose.LEGAL,
            recipient="State insurance department",
        )
        with self.assertNumQueries(1):
            history = [(e.actor.username, e.purpose) for e in access.history_for(self.elena_member)]
        self.assertEqual(len(history), 4)
        self.assertEqual(history[0], (self.privacy_officer.username, "legal"))
        with self.assertNumQueries(1):
            disclosures = list(access.history_for(self.elena_member, disclosures_only=True))
        self.assertEqual([d.recipient for d in disclosures], ["State insurance department"])

    def test_auditing_cannot_be_turned_off_in_production(self):
        from django.core.exceptions import ImproperlyConfigured

        with (
            self.settings(HAVEN_AUDIT_ENABLED=False, PRODUCTION=True),
            self.assertRaises(ImproperlyConfigured),
        ):
            access.audit_enabled()

    def test_unknown_resources_are_a_programming_error(self):
        with self.assertRaises(ValueError), mock.patch.object(access, "_record") as record:
            access.read(
                actor=self.nurse,
                request=self.request_as(self.nurse),
                member=self.elena_member,
                resource="diary",
                purpose=Purpose.TREATMENT,
            )
        record.assert_not_called()

    @pytest.mark.promise("AUD-3")
    def test_every_kind_of_record_exports_as_a_valid_fhir_r4b_audit_event(self):
        from fhir.resources.R4B.auditevent import AuditEvent as FhirAuditEvent

        access.read(
            actor=self.nurse,
            request=self.request_as(self.nurse),
            member=self.elena_member,
            resource=[Resource.DEMOGRAPHICS, Resource.DOCUMENTS],
            purpose=Purpose.TREATMENT,
        )
        with self.assertRaises(access.NotPermitted):
            access.read(
                actor=self.representative,
                request=self.request_as(self.representative),
                member=self.elena_member,
                resource=Resource.DOCUMENTS,
                purpose=Purpose.PAYMENT,
            )
        access.read(
            actor=self.alice,
            request=self.request_as(self.alice),
            member=self.teo_member,
            resource=Resource.DOCUMENTS,
        )
        access.read(
            actor=access.system("appointment-reminders"),
            member=self.alice_member,
            resource=Resource.CONTACT,
            purpose=Purpose.OPERATIONS,
        )
        access.disclose(
            actor=self.privacy_officer,
            request=self.request_as(self.privacy_officer),
            member=self.alice_member,
            resource=Resource.CLAIMS,
            purpose=Purpose.LEGAL,
            recipient="Superior Court of Hartford",
        )
        events = list(AuditEvent.objects.order_by("sequence"))
        self.assertEqual(len(events), 5)
        for event in events:
            exported = event.to_fhir()
            resource = FhirAuditEvent.model_validate(exported)
            self.assertEqual(resource.id, str(event.sequence))
            purpose_of_use = exported["agent"][0].get("purposeOfUse", [])
            for concept in purpose_of_use:
                self.assertEqual(set(concept), {"coding"})
            self.assertEqual(len(purpose_of_use), 1 if event.purpose else 0)
        staff_read = FhirAuditEvent.model_validate(events[0].to_fhir())
        self.assertEqual(staff_read.agent[0].purposeOfUse[0].coding[0].code, "TREAT")
        self.assertEqual(staff_read.purposeOfEvent[0].coding[0].code, "TREAT")
