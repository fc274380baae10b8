import pytest
from django.urls import reverse

from haven.audit import access
from haven.audit.models import AuditEvent, EventType
from haven.audit.policy import Resource
from haven.care import services, sharing
from haven.care.models import Appointment
from haven.care.tests.world import book, world
from haven.privacy.services import accounting_for
from haven.testing.people import HavenTestCase


class SharingTests(HavenTestCase):
    def setUp(self):
        super().setUp()
        self.world = world(self)
        self.alice_member.phone = "860-555-0147"
        self.alice_member.address_line = "12 Elm Street"
        self.alice_member.save()

    @pytest.mark.promise("DIS-1")
    def test_the_provider_sees_exactly_what_the_member_chose(self):
        appointment = book(
            self, self.alice, self.world.direct_slots[0], shared=["contact", "insurance"]
        )
        self.sign_in(self.provider)
        page = self.client.get(reverse("care:appointment", args=[appointment.pk]))
        for shown in (
            "12 Elm Street",
            "860-555-0147",
            "alice@example.org",
            "M-ALICE",
            "G-1",
            "Test PPO",
        ):
            self.assertContains(page, shown)
        self.assertNotContains(page, "Rivera")
        self.assertNotContains(page, "Date of birth")
        self.assertEqual(set(appointment.shared_data()), {"contact", "insurance"})
        self.assertEqual(appointment.shared_data()["insurance"]["member_id"], "M-ALICE")

    @pytest.mark.promise("DIS-1")
    def test_the_visit_reason_goes_only_when_shared(self):
        shared = book(
            self, self.alice, self.world.direct_slots[0], shared=["visit"], reason="Sore shoulder"
        )
        with self.assertRaises(services.BookingRefused):
            book(
                self, self.bruno, self.world.direct_slots[1], shared=["contact"], reason="Headaches"
            )
        self.sign_in(self.provider)
        self.assertContains(
            self.client.get(reverse("care:appointment", args=[shared.pk])), "Sore shoulder"
        )

    @pytest.mark.promise("DIS-1")
    def test_the_sharing_is_a_recorded_disclosure_in_the_members_accounting(self):
        appointment = book(
            self, self.alice, self.world.direct_slots[0], shared=["contact", "demographic"]
        )
        event = AuditEvent.objects.get(type=EventType.DISCLOSURE, member=self.alice_member)
        self.assertEqual(event.recipient, self.world.kim.recipient.name)
        self.assertEqual(event.actor, self.alice)
        self.assertEqual(appointment.disclosure.audit_event, event)
        self.assertEqual(appointment.disclosure.recipient, self.world.kim.recipient)
        entries = accounting_for(self.alice_member)
        self.assertEqual(len(entries), 1)
        self.assertEqual(entries[0].recipient, self.world.kim.recipient.name)
        self.assertIn("contact", entries[0].description)
        self.sign_in(self.alice)
        self.assertContains(self.client.get(reverse("privacy:accounting")), "Ji-woo Kim, MD")

    @pytest.mark.promise("DIS-1")
    def test_a_consumers_sharing_is_in_their_own_accounting_of_disclosures(self):
        self.sign_in(self.consumer)
        self.assertContains(
            self.client.get(reverse("privacy:accounting")),
            "Your information has not been disclosed to anyone outside Haven.",
        )
        appointment = book(
            self, self.consumer, self.world.fresh_slot(), member=None, shared=["contact"]
        )
        disclosure = appointment.disclosure
        self.assertEqual(
            (disclosure.member, disclosure.account, disclosure.recipient),
            (None, self.consumer, self.world.kim.recipient),
        )
        event = disclosure.audit_event
        self.assertEqual(
            (event.type, event.actor, event.member, event.record_id, event.recipient),
            (
                EventType.DISCLOSURE,
                self.consumer,
                None,
                f"user:{self.consumer.pk}",
                self.world.kim.recipient.name,
            ),
        )
        self.assertEqual(appointment.shared, ["contact"])
        page = self.client.get(reverse("privacy:accounting"))
        self.assertContains(page, "Ji-woo Kim, MD")
        self.assertNotContains(page, "has not been disclosed")
        # Only the account's owner discloses its details this way, and never a member's account.
        for someone in (self.alice, self.provider):
            with self.assertRaises(access.NotAuthorised):
                access.disclose_own_account(
                    account=self.consumer if someone is self.provider else someone,
                    resource=Resource.CONTACT,
                    recipient="Anyone",
                    actor=someone,
                )

    @pytest.mark.promise("DIS-1")
    def test_a_caregiver_can_share_only_what_their_grant_opens(self):
        appointment = book(
            self,
            self.maria,
            self.world.direct_slots[0],
            member=self.elena_member,
            shared=["contact", "demographic", "insurance", "visit"],
            reason="Check my blood pressure",
        )
        self.assertEqual(appointment.shared, ["visit"])
        self.assertEqual(set(appointment.shared_data()), {"visit"})

    def test_another_practice_sees_nothing_of_it(self):
        appointment = book(self, self.alice, self.world.direct_slots[0])
        self.sign_in(self.world.drcosta)
        self.assertEqual(
            self.client.get(reverse("care:appointment", args=[appointment.pk])).status_code, 404
        )


class ReferralTests(HavenTestCase):
    def setUp(self):
        super().setUp()
        self.world = world(self)
        self.source = book(
            self,
            self.alice,
            self.world.direct_slots[0],
            shared=["contact", "demographic", "insurance", "visit"],
            reason="Chest pain when climbing stairs",
            allow_referrals=True,
        )

    @pytest.mark.promise("DIS-2")
    def test_a_referral_passes_only_name_contact_and_insurance_field_by_field(self):
        self.sign_in(self.provider)
        slot = self.world.costa_slots[0]
        self.client.post(reverse("care:refer", args=[self.source.pk]), {"slot": slot.pk})
        referral = Appointment.objects.get(referred_from=self.source)
        self.assertEqual(referral.practitioner, self.world.costa)
        data = referral.shared_data()
        passed = {(category, name) for category, fields in data.items() for name in fields}
        allowed = {(c, name) for c, names in sharing.REFERRAL_FIELDS.items() for name in names}
        self.assertLessEqual(passed, allowed)
        self.assertEqual(
            passed,
            {
                ("demographic", "first_name"),
                ("demographic", "last_name"),
                ("contact", "email"),
                ("insurance", "carrier"),
                ("insurance", "plan"),
                ("insurance", "group"),
                ("insurance", "member_id"),
            },
        )
        for clinical in ("date_of_birth", "gender", "reason", "address_line"):
            self.assertNotIn(clinical, {name for _c, name in passed})
        self.assertEqual(referral.reason(), "")
        self.sign_in(self.world.drcosta)
        page = self.client.get(reverse("care:appointment", args=[referral.pk]))
        self.assertContains(page, "Alice")
        self.assertNotContains(page, "Chest pain")
        event = referral.disclosure.audit_event
        self.assertEqual(event.recipient, self.world.costa.recipient.name)
        self.assertNotIn("appointments", event.entity)
        # The referring practice disclosed as itself, for treatment, from Alice's appointment.
        self.assertEqual(
            (event.actor, event.purpose, event.record_id, event.system_actor),
            (self.provider, "treatment", str(self.source.pk), ""),
        )

    @pytest.mark.promise("DIS-2")
    def test_no_referral_without_the_members_permission_or_from_another_practice(self):
        without = book(self, self.bruno, self.world.direct_slots[1])
        with self.assertRaises(services.BookingRefused):
            services.referral_book(
                source=without, slot=self.world.costa_slots[0], actor=self.provider
            )
        self.sign_in(self.world.drcosta)
        response = self.client.post(
            reverse("care:refer", args=[self.source.pk]), {"slot": self.world.costa_slots[0].pk}
        )
        self.assertEqual(response.status_code, 404)
        self.assertFalse(Appointment.objects.filter(referred_from__isnull=False).exists())
