"""Administrators register apps on a staff page (they wait for approval), approve and suspend
them; operators script registration with `haven apps register` (DIS-8)."""

from io import StringIO
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command
from django.urls import reverse

from haven.fhir.models import AppStatus, RegisteredApp
from haven.fhir.tests.flow import REDIRECT, authorize_query, bearer, connect, make_app, pkce
from haven.testing.people import HavenTestCase

REGISTRATION = {
    "name": "Pill Pal",
    "developer": "Pal Health Inc.",
    "redirect_uris": "https://pillpal.example/callback\nhttps://pillpal.example/cb2",
    "scopes": ["launch/patient", "patient/*.rs"],
    "privacy_policy_url": "https://pillpal.example/privacy",
    "privacy_practices": "We keep your data for a year.",
}


class StaffAppPageTests(HavenTestCase):
    def register(self, **changes):
        self.sign_in(self.administrator)
        return self.client.post(reverse("fhir:staff_apps"), {**REGISTRATION, **changes})

    def cannot_authorise(self, app) -> None:
        """The member's attempt ends without a code: refused on the screen or sent back with an
        error."""
        self.sign_in(self.alice)
        _verifier, challenge = pkce()
        query = authorize_query(app, challenge, scope="launch/patient patient/*.rs")
        shown = self.client.get(query)
        approved = self.client.post(query, {"record": self.alice_member.pk, "decision": "approve"})
        for response in (shown, approved):
            if response.status_code == 302:
                location = parse_qs(urlsplit(response["Location"]).query)
                self.assertNotIn("code", location)
                self.assertIn("error", location)
            else:
                self.assertEqual(response.status_code, 400)

    @pytest.mark.promise("DIS-8")
    def test_an_app_registered_on_the_page_waits_for_approval_then_members_can_connect_it(self):
        response = self.register()
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Cache-Control"], "no-store")
        app = RegisteredApp.objects.get(application__name="Pill Pal")
        self.assertContains(response, app.application.client_id)
        self.assertEqual(app.status, AppStatus.PENDING)
        self.assertIsNone(app.approved_at)
        self.assertEqual(
            app.application.redirect_uris,
            "https://pillpal.example/callback https://pillpal.example/cb2",
        )
        self.cannot_authorise(app)

        self.sign_in(self.administrator)
        page = self.client.get(reverse("fhir:staff_apps"))
        self.assertContains(page, "Pill Pal")
        self.assertContains(page, "Waiting for approval")
        approved = self.client.post(reverse("fhir:staff_app_approve", args=[app.pk]))
        self.assertEqual(approved.status_code, 302)
        app.refresh_from_db()
        self.assertEqual((app.status, app.approved_by), (AppStatus.APPROVED, self.administrator))

        # The redirect addresses of the flow helper are not this app's: give it one.
        app.application.redirect_uris = REDIRECT
        app.application.save()
        token = connect(
            self, self.alice, self.alice_member, app, scope="launch/patient patient/*.rs"
        )
        self.assertEqual(token["patient"], str(self.alice_member.pk))

    @pytest.mark.promise("DIS-8")
    def test_suspending_an_app_stops_its_tokens_at_once_and_no_member_can_connect_it(self):
        app = make_app()
        token = connect(self, self.alice, self.alice_member, app)
        auth = bearer(token["access_token"])
        self.assertEqual(
            self.client.get(f"/fhir/Patient/{self.alice_member.pk}", **auth).status_code, 200
        )
        self.sign_in(self.administrator)
        response = self.client.post(reverse("fhir:staff_app_suspend", args=[app.pk]))
        self.assertEqual(response.status_code, 302)
        app.refresh_from_db()
        self.assertEqual(app.status, AppStatus.SUSPENDED)
        self.client.logout()
        self.assertEqual(
            self.client.get(f"/fhir/Patient/{self.alice_member.pk}", **auth).status_code, 401
        )
        self.cannot_authorise(app)

    def test_a_confidential_app_gets_a_secret_shown_once(self):
        response = self.register(confidential="on")
        app = RegisteredApp.objects.get(application__name="Pill Pal")
        self.assertEqual(app.application.client_type, "confidential")
        secret = response.context["secret"]
        self.assertTrue(secret)
        self.assertContains(response, secret)
        self.assertNotContains(self.client.get(reverse("fhir:staff_apps")), secret)

    def test_an_http_redirect_address_or_an_unknown_scope_is_refused(self):
        response = self.register(redirect_uris="http://pillpal.example/callback")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "complete https addresses")
        response = self.register(scopes=["user/*.rs"])
        self.assertEqual(response.status_code, 200)
        self.assertFalse(RegisteredApp.objects.filter(application__name="Pill Pal").exists())

    def test_only_administrators_use_the_page(self):
        for user in (self.nurse, self.privacy_officer, self.representative):
            self.sign_in(user)
            self.assertEqual(self.client.get(reverse("fhir:staff_apps")).status_code, 403)
        self.sign_in(self.alice)
        self.assertEqual(self.client.get(reverse("fhir:staff_apps")).status_code, 403)

    def test_the_page_speaks_spanish_and_italian(self):
        self.sign_in(self.administrator)
        for language, words in (("es", "Registrar una aplicación"), ("it", "Registra un'app")):
            response = self.client.get(reverse("fhir:staff_apps"), HTTP_ACCEPT_LANGUAGE=language)
            self.assertContains(response, words)


class RegisterCommandTests(HavenTestCase):
    def test_the_register_command_prints_the_client_id_of_an_approved_app(self):
        out = StringIO()
        call_command(
            "apps",
            "register",
            "--name",
            "Budget Buddy",
            "--redirect-uri",
            "https://app.example/callback",
            "--scopes",
            "launch/patient patient/*.rs offline_access",
            "--developer",
            "Buddy Labs",
            stdout=out,
        )
        app = RegisteredApp.objects.get(application__name="Budget Buddy")
        self.assertEqual(out.getvalue().strip(), app.application.client_id)
        self.assertEqual(app.status, AppStatus.APPROVED)
        self.assertEqual(app.scopes, ["launch/patient", "patient/*.rs", "offline_access"])
