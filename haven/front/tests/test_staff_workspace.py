"""The staff workspace gathers each app's cards for the signed-in role."""

from django.urls import reverse

from haven.accounts.models import User
from haven.front.views import STAFF_CARDS_FIRST, card_templates
from haven.testing.people import HavenTestCase


class StaffWorkspaceTests(HavenTestCase):
    def test_every_staff_role_opens_the_workspace_with_its_role_named(self):
        for role in User.StaffRole:
            with self.subTest(role=role.value):
                self.sign_in(self.staff[role.value])
                response = self.client.get(reverse("front:staff_home"))
                self.assertEqual(response.status_code, 200)
                self.assertContains(response, f"You are signed in as {role.label}.")

    def test_the_workspace_includes_the_cards_of_every_app_that_offers_them(self):
        templates = card_templates("staff_cards.html", first=STAFF_CARDS_FIRST)
        self.assertIn("support/staff_cards.html", templates)
        self.assertEqual(len(templates), len(set(templates)))
        self.sign_in(self.representative)
        response = self.client.get(reverse("front:staff_home"))
        self.assertEqual(
            [template.name for template in response.templates if template.name in templates],
            templates,
        )
        self.assertContains(response, reverse("support:member_search"))

    def test_members_cannot_open_the_workspace(self):
        self.sign_in(self.alice)
        self.assertEqual(self.client.get(reverse("front:staff_home")).status_code, 403)


class HomeCardsTests(HavenTestCase):
    def test_a_pending_producer_finds_the_registration_status_from_home(self):
        self.sign_in(self.pending_producer)
        response = self.client.get(reverse("front:home"))
        self.assertContains(response, reverse("producers:status"))
        self.assertNotContains(response, 'href="' + reverse("producers:home") + '"')

    def test_an_approved_producer_finds_the_workspace_from_home(self):
        self.sign_in(self.producer)
        self.assertContains(
            self.client.get(reverse("front:home")), 'href="' + reverse("producers:home") + '"'
        )

    def test_visitors_get_no_app_cards(self):
        self.assertEqual(self.client.get(reverse("front:home")).context["card_templates"], [])
