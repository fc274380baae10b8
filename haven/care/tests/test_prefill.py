import pytest
from django.urls import reverse

from haven.care.tests.world import book, world
from haven.testing.people import HavenTestCase


class PrefillTests(HavenTestCase):
    def setUp(self):
        super().setUp()
        self.world = world(self)

    @pytest.mark.promise("CARE-6")
    def test_booking_shows_the_members_details_from_their_record_instead_of_asking(self):
        self.sign_in(self.alice)
        page = self.client.get(reverse("care:book", args=[self.world.direct_slots[0].pk]))
        for known in (
            "Alice",
            "Rivera",
            "M-ALICE",
            "G-1",
            "Test PPO",
            "06103",
            "alice@example.org",
        ):
            self.assertContains(page, known)
        self.assertNotContains(page, 'name="first_name"')
        self.assertNotContains(page, 'name="member_id"')

    @pytest.mark.promise("CARE-6")
    def test_a_missing_phone_is_asked_once_and_never_again(self):
        self.sign_in(self.alice)
        first = self.client.get(reverse("care:book", args=[self.world.direct_slots[0].pk]))
        self.assertContains(first, 'name="phone"')
        self.client.post(
            reverse("care:book", args=[self.world.direct_slots[0].pk]),
            {"shared": ["contact"], "phone": "860-555-0147", "reminders": ["hours"]},
        )
        self.alice.refresh_from_db()
        self.assertEqual(self.alice.phone, "860-555-0147")
        second = self.client.get(reverse("care:book", args=[self.world.direct_slots[1].pk]))
        self.assertNotContains(second, 'name="phone"')
        self.assertContains(second, "860-555-0147")

    @pytest.mark.promise("CARE-6")
    def test_the_last_choices_are_offered_again(self):
        book(
            self, self.alice, self.world.direct_slots[0], shared=["insurance"], reminders=["hours"]
        )
        self.sign_in(self.alice)
        page = self.client.get(reverse("care:book", args=[self.world.direct_slots[1].pk]))
        self.assertContains(page, 'value="insurance" id="share-insurance" checked')
        self.assertNotContains(page, 'value="contact" id="share-contact" checked')
        self.assertContains(page, 'value="hours" id="id_reminders_1" checked')
