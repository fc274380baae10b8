"""Producers, employers and practices read members' data as themselves: the accessor checks their
one purpose and the relationship at every read, and the trail names the person (AUD-1, DIS-3)."""

import pytest
from django.urls import reverse

from haven.accounts.models import User
from haven.audit import access
from haven.audit.models import AuditEvent, Outcome
from haven.audit.policy import Purpose, Resource
from haven.care.tests.world import book, world
from haven.employers.models import SponsorContact
from haven.producers.models import Authorisation, Producer
from haven.testing.people import HavenTestCase


class PartnerAccessTests(HavenTestCase):
    def read(self, actor, member, purpose, resource=Resource.COVERAGE, record_id=""):
        return access.read(
            member=member, resource=resource, purpose=purpose, actor=actor, record_id=record_id
        )

    def last_event(self) -> AuditEvent:
        return AuditEvent.objects.order_by("-pk").first()

    @pytest.mark.promise("AUD-1")
    def test_a_producer_reads_only_while_the_member_authorises_them(self):
        with self.assertRaises(access.NotAuthorised):
            self.read(self.producer, self.alice_member, Purpose.PRODUCER)
        refused = self.last_event()
        self.assertEqual((refused.actor, refused.outcome), (self.producer, Outcome.DENIED))

        authorisation = Authorisation.objects.create(
            member=self.alice_member,
            producer=Producer.objects.get(user=self.producer),
            elements=["coverage"],
            authorised_by=self.alice,
        )
        permitted = self.read(self.producer, self.alice_member, Purpose.PRODUCER)
        self.assertIn(Resource.COVERAGE, permitted.fields)
        event = permitted.event
        self.assertEqual(
            (event.actor, event.actor_kind, event.system_actor, event.purpose),
            (self.producer, User.Kind.PRODUCER, "", Purpose.PRODUCER),
        )
        # Another member, another purpose, a revoked authorisation: refused by the accessor
        # itself, whatever page asks.
        with self.assertRaises(access.NotAuthorised):
            self.read(self.producer, self.bruno_member, Purpose.PRODUCER)
        with self.assertRaises(access.NotPermitted):
            self.read(self.producer, self.alice_member, Purpose.TREATMENT)
        authorisation.revoked_at, authorisation.revoked_by = authorisation.authorised_at, self.alice
        authorisation.save()
        with self.assertRaises(access.NotAuthorised):
            self.read(self.producer, self.alice_member, Purpose.PRODUCER)

    def test_a_producer_waiting_for_approval_reads_nothing_even_when_authorised(self):
        Authorisation.objects.create(
            member=self.alice_member,
            producer=Producer.objects.get(user=self.pending_producer),
            elements=["coverage"],
            authorised_by=self.alice,
        )
        with self.assertRaises(access.NotAuthorised):
            self.read(self.pending_producer, self.alice_member, Purpose.PRODUCER)

    @pytest.mark.promise("DIS-3")
    def test_an_employer_reads_its_own_group_only_and_never_claims(self):
        SponsorContact.objects.create(
            user=self.employer, group=self.group, linked_by=self.administrator
        )
        permitted = self.read(self.employer, self.alice_member, Purpose.PLAN_SPONSOR)
        self.assertEqual(permitted.event.actor, self.employer)
        with self.assertRaises(access.NotAuthorised):
            self.read(self.employer, self.oscar_member, Purpose.PLAN_SPONSOR)  # another group
        with self.assertRaises(access.NotPermitted):
            self.read(self.employer, self.alice_member, Purpose.PLAN_SPONSOR, Resource.CLAIMS)
        with self.assertRaises(access.NotPermitted):
            self.read(self.employer, self.alice_member, Purpose.PAYMENT, Resource.CLAIMS)

    @pytest.mark.promise("AUD-1")
    def test_a_practice_reads_what_was_shared_only_for_its_own_appointments(self):
        care = world(self)
        appointment = book(self, self.alice, care.direct_slots[0])
        self.sign_in(self.provider)
        page = self.client.get(reverse("care:appointment", kwargs={"pk": appointment.pk}))
        self.assertContains(page, "Alice")
        event = AuditEvent.objects.get(subtype="provider-view")
        self.assertEqual(
            (event.actor, event.purpose, event.record_id),
            (self.provider, Purpose.TREATMENT, str(appointment.pk)),
        )
        # Dr Costa's account has no appointment with Alice; nor does Dr Kim's for another record;
        # and an appointment opens no claims.
        refusals = [
            (care.drcosta, self.alice_member, Resource.APPOINTMENTS, access.NotAuthorised),
            (self.provider, self.bruno_member, Resource.APPOINTMENTS, access.NotAuthorised),
            (self.provider, self.alice_member, Resource.CLAIMS, access.NotPermitted),
        ]
        for actor, member, resource, refusal in refusals:
            with self.subTest(actor=actor.username, resource=resource), self.assertRaises(refusal):
                self.read(actor, member, Purpose.TREATMENT, resource, record_id=appointment.pk)

    def test_no_background_task_may_state_a_partners_purpose(self):
        for purpose in (Purpose.PRODUCER, Purpose.PLAN_SPONSOR):
            with self.assertRaises(access.NotPermitted):
                self.read(access.system("some-task"), self.alice_member, purpose)

    def test_the_members_access_history_names_the_partner(self):
        SponsorContact.objects.create(
            user=self.employer, group=self.group, linked_by=self.administrator
        )
        self.read(self.employer, self.alice_member, Purpose.PLAN_SPONSOR)
        labels = list(access.history_for(self.alice_member).values_list("actor_label", flat=True))
        self.assertIn(self.employer.get_full_name() + " (hr)", labels)
