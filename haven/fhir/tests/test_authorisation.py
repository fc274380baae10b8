import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from oauth2_provider.models import AccessToken

from haven.care.links import read_leaving_token
from haven.fhir.models import Authorisation
from haven.fhir.tests.flow import (
    AUD,
    REDIRECT,
    approve,
    authorize_query,
    bearer,
    connect,
    exchange,
    make_app,
    pkce,
)
from haven.testing.people import HavenTestCase


class AuthorisationScreenTests(HavenTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.app = make_app()

    def test_a_visitor_is_sent_to_sign_in_first(self):
        _verifier, challenge = pkce()
        response = self.client.get(authorize_query(self.app, challenge))
        self.assertEqual(response.status_code, 302)
        self.assertTrue(response["Location"].startswith(reverse("accounts:login")))

    @pytest.mark.promise("DIS-8")
    def test_the_member_sees_what_the_app_asks_for_how_long_and_its_declared_practices(self):
        self.sign_in(self.alice)
        _verifier, challenge = pkce()
        response = self.client.get(authorize_query(self.app, challenge))
        self.assertContains(response, "Budget Buddy")
        self.assertContains(response, "Buddy Labs")
        self.assertContains(response, "We never sell your data.")
        self.assertContains(response, "Everything in the record: profile, coverage, claims")
        self.assertContains(response, "Until you disconnect the app")
        self.assertContains(response, "Teo")  # she may choose her son's record (guardian)

    @pytest.mark.promise("SEC-3")
    def test_the_apps_privacy_policy_link_shows_the_leaving_notice_first(self):
        self.sign_in(self.alice)
        _verifier, challenge = pkce()
        response = self.client.get(authorize_query(self.app, challenge))
        self.assertNotContains(response, 'href="https://app.example/privacy"')
        links = re.findall(r'href="([^"]*)"', response.content.decode())
        leaving = [link for link in links if link.startswith(reverse("care:leaving"))]
        self.assertEqual(len(leaving), 1)
        token = parse_qs(urlsplit(html.unescape(leaving[0])).query)["to"][0]
        self.assertEqual(read_leaving_token(token), "https://app.example/privacy")
        notice = self.client.get(html.unescape(leaving[0]))
        self.assertEqual(notice.status_code, 200)
        self.assertContains(notice, "app.example")

    def test_the_app_is_sent_back_with_this_servers_issuer_whether_approved_or_refused(self):
        """RFC 9207: `iss` in the redirect is the issuer of the discovery documents."""
        issuer = self.client.get(reverse("smart_configuration")).json()["issuer"]
        self.assertEqual(issuer, AUD)
        self.sign_in(self.alice)
        _verifier, challenge = pkce()
        for decision in ("approve", "refuse"):
            response = self.client.post(
                authorize_query(self.app, challenge),
                {"record": self.alice_member.pk, "decision": decision},
            )
            self.assertEqual(response.status_code, 302)
            query = parse_qs(urlsplit(response["Location"]).query)
            self.assertEqual(query["iss"], [issuer], decision)
            self.assertEqual(query["state"], ["s-123"], decision)

    def test_the_screen_speaks_spanish_and_italian(self):
        self.sign_in(self.alice)
        _verifier, challenge = pkce()
        for language, words in (("es", "Aprobar"), ("it", "Approva")):
            response = self.client.get(
                authorize_query(self.app, challenge), HTTP_ACCEPT_LANGUAGE=language
            )
            self.assertContains(response, words)

    @pytest.mark.promise("DIS-8")
    def test_refusing_sends_the_app_away_without_a_code(self):
        self.sign_in(self.alice)
        _verifier, challenge = pkce()
        response = self.client.post(
            authorize_query(self.app, challenge),
            {"record": self.alice_member.pk, "decision": "refuse"},
        )
        self.assertEqual(response.status_code, 302)
        self.assertTrue(response["Location"].startswith(REDIRECT))
        self.assertIn("error=access_denied", response["Location"])
        self.assertNotIn("code=", response["Location"])
        self.assertFalse(Authorisation.objects.exists())

    @pytest.mark.promise("DIS-8")
    def test_the_token_is_bound_to_the_chosen_member_and_names_the_patient(self):
        token = connect(self, self.alice, self.alice_member, self.app)
        self.assertEqual(token["patient"], str(self.alice_member.pk))
        self.assertEqual(token["token_type"], "Bearer")
        self.assertLessEqual(token["expires_in"], 3600)
        self.assertIn("refresh_token", token)

    def test_a_guardian_may_connect_an_app_to_her_sons_record(self):
        token = connect(self, self.alice, self.teo_member, self.app)
        self.assertEqual(token["patient"], str(self.teo_member.pk))
        authorisation = Authorisation.objects.get()
        self.assertEqual(authorisation.grant, self.teo_guardian_grant)

    def test_a_member_cannot_choose_a_record_she_holds_no_grant_for(self):
        self.sign_in(self.alice)
        _verifier, challenge = pkce()
        response = self.client.post(
            authorize_query(self.app, challenge),
            {"record": self.oscar_member.pk, "decision": "approve"},
        )
        self.assertEqual(response.status_code, 400)
        self.assertFalse(Authorisation.objects.exists())

    def test_no_refresh_token_without_offline_access(self):
        token = connect(
            self, self.alice, self.alice_member, self.app, scope="launch/patient patient/*.rs"
        )
        self.assertNotIn("refresh_token", token)


class HardeningTests(HavenTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.app = make_app()

    def setUp(self):
        self.sign_in(self.alice)
        self.verifier, self.challenge = pkce()

    def test_plain_pkce_is_refused(self):
        response = self.client.get(
            authorize_query(self.app, self.verifier, code_challenge_method="plain")
        )
        self.assertIn(response.status_code, (302, 400))
        if response.status_code == 302:
            self.assertIn("error=", response["Location"])

    def test_a_request_without_pkce_is_refused(self):
        url = authorize_query(self.app, "").replace("code_challenge=&", "")
        response = self.client.get(url)
        self.assertIn(response.status_code, (302, 400))
        if response.status_code == 302:
            self.assertIn("error=", response["Location"])

    def test_a_wrong_audience_is_refused(self):
        response = self.client.get(
            authorize_query(self.app, self.challenge, aud="https://elsewhere.example/fhir")
        )
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "aud", status_code=400)

    def test_a_redirect_uri_not_registered_exactly_is_refused(self):
        response = self.client.get(
            authorize_query(self.app, self.challenge, redirect_uri=REDIRECT + "/x")
        )
        self.assertEqual(response.status_code, 400)

    def test_the_implicit_grant_is_refused(self):
        response = self.client.get(authorize_query(self.app, self.challenge, response_type="token"))
        self.assertNotEqual(response.status_code, 200)
        if response.status_code == 302:
            self.assertIn("error=", response["Location"])
            self.assertNotIn("access_token", response["Location"])

    def test_a_missing_or_wrong_verifier_is_refused(self):
        code = approve(self.client, self.app, self.alice_member, self.challenge)
        self.assertEqual(exchange(self.client, self.app, code, None).status_code, 400)
        code = approve(self.client, self.app, self.alice_member, self.challenge)
        self.assertEqual(exchange(self.client, self.app, code, "wrong" * 10).status_code, 400)

    def test_a_wrong_or_reused_code_is_refused(self):
        self.assertEqual(
            exchange(self.client, self.app, "not-a-code", self.verifier).status_code, 400
        )
        code = approve(self.client, self.app, self.alice_member, self.challenge)
        first = exchange(self.client, self.app, code, self.verifier)
        self.assertEqual(first.status_code, 200)
        self.assertEqual(exchange(self.client, self.app, code, self.verifier).status_code, 400)

    def test_the_password_grant_is_refused(self):
        response = self.client.post(
            reverse("oauth:token"),
            {
                "grant_type": "password",
                "username": "alice",
                "password": "correct horse battery staple",
                "client_id": self.app.application.client_id,
            },
        )
        self.assertIn(response.status_code, (400, 401))
        self.assertNotIn("access_token", response.json())

    def test_token_responses_are_never_cached(self):
        code = approve(self.client, self.app, self.alice_member, self.challenge)
        response = exchange(self.client, self.app, code, self.verifier)
        self.assertIn("no-store", response["Cache-Control"])

    def test_refresh_tokens_rotate_and_a_reused_one_revokes_the_family(self):
        code = approve(self.client, self.app, self.alice_member, self.challenge)
        first = exchange(self.client, self.app, code, self.verifier).json()
        refresh = {
            "grant_type": "refresh_token",
            "refresh_token": first["refresh_token"],
            "client_id": self.app.application.client_id,
        }
        second = self.client.post(reverse("oauth:token"), refresh)
        self.assertEqual(second.status_code, 200)
        second = second.json()
        self.assertNotEqual(second["refresh_token"], first["refresh_token"])
        self.assertEqual(second["patient"], str(self.alice_member.pk))
        reused = self.client.post(reverse("oauth:token"), refresh)
        self.assertEqual(reused.status_code, 400)
        rotated = {**refresh, "refresh_token": second["refresh_token"]}
        self.assertEqual(self.client.post(reverse("oauth:token"), rotated).status_code, 400)

    def test_a_bad_refresh_token_is_refused(self):
        response = self.client.post(
            reverse("oauth:token"),
            {
                "grant_type": "refresh_token",
                "refresh_token": "nonsense",
                "client_id": self.app.application.client_id,
            },
        )
        self.assertEqual(response.status_code, 400)

    def test_access_tokens_last_an_hour_at_most(self):
        code = approve(self.client, self.app, self.alice_member, self.challenge)
        exchange(self.client, self.app, code, self.verifier)
        token = AccessToken.objects.get()
        self.assertLessEqual((token.expires - token.created).total_seconds(), 3600 + 1)

    def test_the_discovery_documents_advertise_s256_only(self):
        config = self.client.get("/.well-known/smart-configuration").json()
        self.assertEqual(config["code_challenge_methods_supported"], ["S256"])
        self.assertNotIn("implicit", config["grant_types_supported"])
        self.assertEqual(config["token_endpoint"], "http://testserver/oauth/token/")
        self.assertTrue(AUD.endswith("/fhir"))
        self.assertIn("bearer", bearer("x")["HTTP_AUTHORIZATION"].lower())
