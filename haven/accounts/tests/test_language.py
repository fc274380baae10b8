from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse

from haven.accounts.models import User
from haven.testing.people import PASSWORD, HavenTestCase

YEAR = 365 * 24 * 60 * 60


class RememberedLanguageTests(HavenTestCase):
    def page_language(self, response) -> str:
        return response.content.decode().split('<html lang="', 1)[1].split('"', 1)[0]

    def test_a_signed_in_users_choice_is_saved_on_the_account_and_in_a_cookie(self):
        self.sign_in(self.alice)
        response = self.client.post(
            reverse("accounts:set_language"), {"language": "it", "next": "/accounts/profile/"}
        )
        self.assertRedirects(response, "/accounts/profile/")
        self.alice.refresh_from_db()
        self.assertEqual(self.alice.language, "it")
        cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
        self.assertEqual(cookie.value, "it")
        self.assertEqual(cookie["max-age"], YEAR)
        self.assertTrue(cookie["httponly"])
        self.assertEqual(cookie["samesite"], "Lax")
        self.assertEqual(self.page_language(self.client.get("/accounts/profile/")), "it")

    @override_settings(LANGUAGE_COOKIE_SECURE=True)
    def test_the_language_cookie_is_secure_when_the_site_runs_on_https(self):
        response = self.client.post(reverse("accounts:set_language"), {"language": "es"})
        self.assertTrue(response.cookies[settings.LANGUAGE_COOKIE_NAME]["secure"])

    def test_the_saved_language_wins_at_the_next_sign_in_from_a_browser_that_asks_for_another(self):
        self.alice.language = "es"
        self.alice.save(update_fields=["language"])
        browser = Client(HTTP_ACCEPT_LANGUAGE="it-IT,it;q=0.9")
        self.assertEqual(self.page_language(browser.get(reverse("accounts:login"))), "it")
        response = browser.post(
            reverse("accounts:login"), {"username": "alice", "password": PASSWORD}
        )
        self.assertRedirects(response, "/", fetch_redirect_response=False)
        cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
        self.assertEqual(cookie.value, "es")
        self.assertTrue(cookie["httponly"])
        self.assertEqual(cookie["samesite"], "Lax")
        self.assertEqual(self.page_language(browser.get("/")), "es")
        self.assertEqual(self.page_language(browser.get(reverse("accounts:profile"))), "es")

    def test_without_a_saved_choice_the_browsers_language_is_used(self):
        browser = Client(HTTP_ACCEPT_LANGUAGE="it")
        browser.post(reverse("accounts:login"), {"username": "bruno", "password": PASSWORD})
        self.assertEqual(self.page_language(browser.get("/")), "it")

    def test_a_language_haven_does_not_offer_is_refused(self):
        self.sign_in(self.alice)
        response = self.client.post(reverse("accounts:set_language"), {"language": "fr"})
        self.assertEqual(response.status_code, 302)
        self.alice.refresh_from_db()
        self.assertEqual(self.alice.language, "")
        self.assertNotIn(settings.LANGUAGE_COOKIE_NAME, response.cookies)

    def test_a_new_account_keeps_the_language_it_registered_in(self):
        browser = Client(HTTP_ACCEPT_LANGUAGE="es")
        browser.post(
            reverse("accounts:register_consumer"),
            {
                "first_name": "Dana",
                "last_name": "Whitfield",
                "adult": "on",
                "email": "dana@example.org",
                "phone": "860 555 0199",
                "address_line": "12 Elm Street",
                "city": "Hartford",
                "postal_code": "06103",
                "insurance_carrier": "Evergreen Mutual",
                "insurance_plan": "Evergreen Silver",
                "username": "dana",
                "password1": "quiet lantern orchard 42",
                "password2": "quiet lantern orchard 42",
            },
        )
        self.assertEqual(User.objects.get(username="dana").language, "es")
