import pytest
from django.contrib.auth.hashers import identify_hasher
from django.test import Client
from django.urls import reverse

from haven.accounts.models import UserSession
from haven.testing.people import PASSWORD, HavenTestCase

NEW_PASSWORD = "saffron tides over granite"


class PasswordChangeTests(HavenTestCase):
    def sign_in_with_password(self, client, password=PASSWORD):
        return client.post(reverse("accounts:login"), {"username": "alice", "password": password})

    def change(self, client, current=PASSWORD, new=NEW_PASSWORD, again=None, follow=False):
        return client.post(
            reverse("accounts:password_change"),
            {"old_password": current, "new_password1": new, "new_password2": again or new},
            follow=follow,
        )

    @pytest.mark.promise("ACC-4")
    def test_changing_the_password_ends_every_other_session_and_keeps_this_one(self):
        laptop, phone, tablet = Client(), Client(), Client()
        for client in (laptop, phone, tablet):
            self.sign_in_with_password(client)
        phone_key = phone.cookies["haven_session"].value
        response = self.change(laptop, follow=True)
        self.assertRedirects(response, reverse("accounts:profile"))
        self.assertContains(response, "2 other sessions were signed out")

        # The other browsers are signed out on the server; their cookies open nothing.
        for client in (phone, tablet):
            page = client.get(reverse("accounts:profile"))
            self.assertEqual(page.status_code, 302)
            self.assertTrue(page["Location"].startswith(reverse("accounts:login")))
        self.assertFalse(UserSession.objects.filter(session_key=phone_key).exists())

        # This browser stays signed in, and its session is still listed as its own.
        self.assertEqual(laptop.get(reverse("accounts:profile")).status_code, 200)
        laptop_key = laptop.cookies["haven_session"].value
        self.assertEqual(
            list(UserSession.objects.filter(user=self.alice).values_list("session_key", flat=True)),
            [laptop_key],
        )

    @pytest.mark.promise("ACC-4")
    def test_the_new_password_is_stored_as_an_argon2_hash_and_the_old_one_stops_working(self):
        self.sign_in_with_password(self.client)
        self.change(self.client)
        self.alice.refresh_from_db()
        self.assertEqual(identify_hasher(self.alice.password).algorithm, "argon2")
        self.assertNotIn(NEW_PASSWORD, self.alice.password)
        self.assertIsNotNone(self.alice.password_changed_at)
        fresh = Client()
        self.assertEqual(self.sign_in_with_password(fresh, PASSWORD).status_code, 200)
        self.assertRedirects(self.sign_in_with_password(fresh, NEW_PASSWORD), "/")

    @pytest.mark.promise("ACC-4")
    def test_the_current_password_is_required(self):
        self.sign_in_with_password(self.client)
        response = self.change(self.client, current="not my password")
        self.assertTrue(response.context["form"].has_error("old_password"))
        self.alice.refresh_from_db()
        self.assertTrue(self.alice.check_password(PASSWORD))

    @pytest.mark.promise("ACC-4")
    def test_the_new_password_must_pass_the_validators_and_match(self):
        self.sign_in_with_password(self.client)
        short = self.change(self.client, new="alice123")
        self.assertTrue(short.context["form"].has_error("new_password2"))
        different = self.change(self.client, again="another passphrase entirely")
        self.assertTrue(different.context["form"].has_error("new_password2"))
        self.alice.refresh_from_db()
        self.assertTrue(self.alice.check_password(PASSWORD))

    def test_alone_the_page_says_no_other_session_was_signed_out(self):
        self.sign_in_with_password(self.client)
        response = self.change(self.client, follow=True)
        self.assertContains(response, "You were not signed in anywhere else")
