import time

import pytest
from django.urls import reverse

from haven.accounts.models import ConsumerProfile, User
from haven.accounts.sessions import REAUTHENTICATED_AT
from haven.testing.people import PASSWORD, HavenTestCase


class ProfileTests(HavenTestCase):
    def password_given_long_ago(self):
        session = self.client.session
        session[REAUTHENTICATED_AT] = time.time() - 3600
        session.save()

    def test_the_profile_shows_the_account_without_roster_health_or_identity_data(self):
        self.sign_in(self.alice)
        response = self.client.get(reverse("accounts:profile"))
        for shown in ("alice", "Alice Rivera", "alice@example.org", "Plan member"):
            self.assertContains(response, shown)
        member = self.alice_member
        for hidden in (member.member_id, member.date_of_birth.isoformat(), member.postal_code):
            self.assertNotContains(response, hidden)
        self.assertContains(response, "come from the plan's records")

    def test_staff_see_their_role(self):
        self.sign_in(self.privacy_officer)
        self.assertContains(self.client.get(reverse("accounts:profile")), "Privacy officer")

    @pytest.mark.promise("ACC-10")
    def test_a_user_changes_their_username_and_signs_in_with_it(self):
        self.sign_in(self.alice)
        response = self.client.post(
            reverse("accounts:profile_username"), {"username": "alice.rivera"}, follow=True
        )
        self.assertRedirects(response, reverse("accounts:profile"))
        self.assertContains(response, "Your username is now alice.rivera")
        self.alice.refresh_from_db()
        self.assertEqual(self.alice.username, "alice.rivera")
        self.client.post(reverse("accounts:logout"))
        signed_in = self.client.post(
            reverse("accounts:login"), {"username": "alice.rivera", "password": PASSWORD}
        )
        self.assertRedirects(signed_in, "/")

    @pytest.mark.promise("ACC-10")
    def test_a_username_someone_else_has_is_refused_whatever_its_case(self):
        self.sign_in(self.alice)
        for taken in ("bruno", "BRUNO", "Bruno"):
            response = self.client.post(reverse("accounts:profile_username"), {"username": taken})
            self.assertTrue(response.context["form"].has_error("username", "taken"), taken)
        invalid = self.client.post(reverse("accounts:profile_username"), {"username": "a b/c"})
        self.assertTrue(invalid.context["form"].has_error("username"))
        self.alice.refresh_from_db()
        self.assertEqual(self.alice.username, "alice")

    @pytest.mark.promise("ACC-10")
    def test_changing_only_the_case_of_ones_own_username_is_allowed(self):
        self.sign_in(self.alice)
        self.client.post(reverse("accounts:profile_username"), {"username": "Alice"})
        self.alice.refresh_from_db()
        self.assertEqual(self.alice.username, "Alice")

    @pytest.mark.promise("ACC-10")
    def test_a_member_sets_a_preferred_name_but_not_the_roster_names(self):
        self.sign_in(self.alice)
        form = self.client.get(reverse("accounts:profile_names")).context["form"]
        self.assertEqual(list(form.fields), ["preferred_name"])
        self.client.post(
            reverse("accounts:profile_names"),
            {"preferred_name": "Ali", "first_name": "Mallory", "last_name": "Evil"},
        )
        self.alice.refresh_from_db()
        self.assertEqual(self.alice.preferred_name, "Ali")
        self.assertEqual((self.alice.first_name, self.alice.last_name), ("Alice", "Rivera"))
        self.assertContains(self.client.get("/"), "Hello, Ali")

    @pytest.mark.promise("ACC-10")
    def test_an_account_not_tied_to_the_roster_edits_its_names(self):
        self.sign_in(self.maria)
        self.client.post(
            reverse("accounts:profile_names"),
            {"preferred_name": "", "first_name": "María", "last_name": "López Ortega"},
        )
        self.maria.refresh_from_db()
        self.assertEqual((self.maria.first_name, self.maria.last_name), ("María", "López Ortega"))
        emptied = self.client.post(
            reverse("accounts:profile_names"), {"first_name": "", "last_name": ""}
        )
        self.assertTrue(emptied.context["form"].has_error("first_name"))

    @pytest.mark.promise("ACC-10")
    def test_changing_e_mail_or_phone_asks_for_the_password_again(self):
        self.sign_in(self.alice)
        self.password_given_long_ago()
        url = reverse("accounts:profile_contact")
        asked = self.client.post(url, {"email": "mallory@example.org", "phone": ""})
        self.assertEqual(asked.status_code, 302)
        self.assertTrue(asked["Location"].startswith(reverse("accounts:confirm_password")))
        self.alice.refresh_from_db()
        self.assertEqual(self.alice.email, "alice@example.org")

        wrong = self.client.post(
            reverse("accounts:confirm_password"), {"password": "guess", "next": url}
        )
        self.assertEqual(wrong.status_code, 200)
        still_asked = self.client.get(url)
        self.assertTrue(still_asked["Location"].startswith(reverse("accounts:confirm_password")))

        confirmed = self.client.post(
            reverse("accounts:confirm_password"), {"password": PASSWORD, "next": url}
        )
        self.assertRedirects(confirmed, url)
        saved = self.client.post(url, {"email": "alice.r@example.org", "phone": "860-555-0100"})
        self.assertRedirects(saved, reverse("accounts:profile"))
        self.alice.refresh_from_db()
        self.assertEqual(
            (self.alice.email, self.alice.phone), ("alice.r@example.org", "860-555-0100")
        )

    @pytest.mark.promise("ACC-10")
    def test_changing_the_username_also_asks_for_the_password_again(self):
        self.sign_in(self.alice)
        self.password_given_long_ago()
        response = self.client.post(reverse("accounts:profile_username"), {"username": "x-alice"})
        self.assertTrue(response["Location"].startswith(reverse("accounts:confirm_password")))
        self.alice.refresh_from_db()
        self.assertEqual(self.alice.username, "alice")

    @pytest.mark.promise("ACC-3")
    def test_a_consumer_keeps_an_e_mail_and_edits_address_and_insurance(self):
        self.sign_in(self.consumer)
        no_email = self.client.post(
            reverse("accounts:profile_contact"), {"email": "", "phone": "860 555 0111"}
        )
        self.assertTrue(no_email.context["form"].has_error("email"))
        details = {
            "address_line": "4 Oak Lane",
            "city": "New Haven",
            "region": "CT",
            "postal_code": "06510",
            "insurance_carrier": "Evergreen Mutual",
            "insurance_plan": "Evergreen Gold",
        }
        response = self.client.post(reverse("accounts:profile_consumer"), details)
        self.assertRedirects(response, reverse("accounts:profile"))
        profile = ConsumerProfile.objects.get(user=self.consumer)
        self.assertEqual((profile.city, profile.insurance_plan), ("New Haven", "Evergreen Gold"))
        self.assertContains(self.client.get(reverse("accounts:profile")), "4 Oak Lane")

    def test_only_consumers_have_address_and_insurance_here(self):
        self.sign_in(self.alice)
        self.assertEqual(self.client.get(reverse("accounts:profile_consumer")).status_code, 403)
        self.assertFalse(ConsumerProfile.objects.filter(user=self.alice).exists())
        self.assertEqual(User.objects.get(pk=self.alice.pk).kind, User.Kind.MEMBER)
