import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from haven.accounts.models import UserSession, describe_user_agent
from haven.testing.people import PASSWORD, HavenTestCase

FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


class SessionCookieTests(HavenTestCase):
    def sign_in_with_password(self, client=None, **headers):
        client = client or self.client
        return client.post(
            reverse("accounts:login"), {"username": "alice", "password": PASSWORD}, **headers
        )

    @pytest.mark.promise("ACC-6")
    def test_the_session_cookie_is_http_only_same_site_and_dies_with_the_browser(self):
        response = self.sign_in_with_password()
        cookie = response.cookies[settings.SESSION_COOKIE_NAME]
        self.assertTrue(cookie["httponly"])
        self.assertEqual(cookie["samesite"], "Lax")
        self.assertEqual(cookie["max-age"], "")
        self.assertEqual(cookie["expires"], "")
        self.assertEqual(cookie["path"], "/")

    @pytest.mark.promise("ACC-6")
    @override_settings(SESSION_COOKIE_SECURE=True)
    def test_the_session_cookie_is_secure_when_the_site_runs_on_https(self):
        response = self.sign_in_with_password()
        self.assertTrue(response.cookies[settings.SESSION_COOKIE_NAME]["secure"])

    @pytest.mark.promise("ACC-6")
    def test_the_cookie_holds_only_the_session_key_and_no_user_data(self):
        response = self.sign_in_with_password()
        value = response.cookies[settings.SESSION_COOKIE_NAME].value
        self.assertEqual(value, response.wsgi_request.session.session_key)
        self.assertTrue(UserSession.objects.filter(user=self.alice, session_key=value).exists())
        self.assertRegex(value, r"^[a-z0-9]{32}$")
        member = self.alice_member
        for identifier in ("alice", "Rivera", member.member_id, self.alice.email):
            self.assertNotIn(identifier.lower(), value.lower())

    @pytest.mark.promise("ACC-6")
    def test_the_session_store_holds_no_health_or_identity_data(self):
        self.sign_in_with_password()
        for page in ("front:home", "accounts:profile", "accounts:sessions", "caregivers:switch"):
            self.client.get(reverse(page))
        key = self.client.cookies[settings.SESSION_COOKIE_NAME].value
        stored = json.dumps(SessionStore(session_key=key).load())
        member = self.alice_member
        identity = [member.member_id, member.first_name, member.last_name, member.postal_code]
        identity += [member.date_of_birth.isoformat(), self.alice.email, "Teo", "M-TEO"]
        for value in identity:
            self.assertNotIn(value, stored)

    @pytest.mark.promise("ACC-6")
    def test_signing_out_ends_the_session_on_the_server_so_the_cookie_opens_nothing(self):
        self.sign_in_with_password()
        key = self.client.cookies[settings.SESSION_COOKIE_NAME].value
        self.client.post(reverse("accounts:logout"))
        self.assertFalse(SessionStore(session_key=key).exists(key))
        replay = Client()
        replay.cookies[settings.SESSION_COOKIE_NAME] = key
        self.assertEqual(replay.get(reverse("accounts:profile")).status_code, 302)


class SessionsPageTests(HavenTestCase):
    def browser(self, user_agent: str, address: str) -> Client:
        client = Client(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=address)
        client.post(reverse("accounts:login"), {"username": "alice", "password": PASSWORD})
        return client

    def setUp(self):
        self.laptop = self.browser(FIREFOX_WINDOWS, "198.51.100.4")
        self.phone = self.browser(SAFARI_IPHONE, "203.0.113.9")
        self.phone_session = UserSession.objects.get(
            session_key=self.phone.cookies[settings.SESSION_COOKIE_NAME].value
        )

    @pytest.mark.promise("ACC-6")
    def test_the_page_lists_each_signed_in_browser_and_marks_this_one(self):
        response = self.laptop.get(reverse("accounts:sessions"))
        self.assertContains(response, "Firefox on Windows")
        self.assertContains(response, "Safari on iOS")
        self.assertContains(response, "198.51.100.4")
        self.assertContains(response, "203.0.113.9")
        self.assertContains(response, "This browser", count=1)
        self.assertEqual(
            [s.session_key for s in response.context["user_sessions"]],
            [s.session_key for s in UserSession.objects.filter(user=self.alice)],
        )
        # Only the other session can be ended from here; this one signs out normally.
        self.assertContains(response, reverse("accounts:session_end", args=[self.phone_session.pk]))
        laptop_session = UserSession.objects.exclude(pk=self.phone_session.pk).get(user=self.alice)
        self.assertNotContains(response, reverse("accounts:session_end", args=[laptop_session.pk]))

    @pytest.mark.promise("ACC-6")
    def test_ending_another_session_kills_it_and_its_cookie_no_longer_works(self):
        self.assertEqual(self.phone.get(reverse("accounts:profile")).status_code, 200)
        response = self.laptop.post(
            reverse("accounts:session_end", args=[self.phone_session.pk]), follow=True
        )
        self.assertContains(response, "Safari on iOS is ended")
        self.assertFalse(UserSession.objects.filter(pk=self.phone_session.pk).exists())
        page = self.phone.get(reverse("accounts:profile"))
        self.assertEqual(page.status_code, 302)
        self.assertTrue(page["Location"].startswith(reverse("accounts:login")))
        self.assertEqual(self.laptop.get(reverse("accounts:profile")).status_code, 200)

    @pytest.mark.promise("ACC-6")
    def test_another_users_session_is_not_found_and_stays_alive(self):
        bruno = Client()
        bruno.force_login(self.bruno)
        response = bruno.post(reverse("accounts:session_end", args=[self.phone_session.pk]))
        self.assertEqual(response.status_code, 404)
        self.assertEqual(self.phone.get(reverse("accounts:profile")).status_code, 200)

    def test_the_current_session_cannot_be_ended_from_the_list(self):
        own = UserSession.objects.get(
            session_key=self.laptop.cookies[settings.SESSION_COOKIE_NAME].value
        )
        response = self.laptop.post(reverse("accounts:session_end", args=[own.pk]))
        self.assertEqual(response.status_code, 404)

    def test_ending_needs_a_post(self):
        response = self.laptop.get(reverse("accounts:session_end", args=[self.phone_session.pk]))
        self.assertEqual(response.status_code, 405)

    @pytest.mark.promise("ACC-6")
    def test_signing_out_everywhere_else_keeps_only_this_browser(self):
        tablet = self.browser(SAFARI_IPHONE.replace("iPhone", "iPad"), "203.0.113.10")
        response = self.laptop.post(reverse("accounts:sessions_end_others"), follow=True)
        self.assertContains(response, "2 other sessions were signed out")
        for client in (self.phone, tablet):
            self.assertEqual(client.get(reverse("accounts:profile")).status_code, 302)
        self.assertEqual(UserSession.objects.filter(user=self.alice).count(), 1)
        self.assertEqual(self.laptop.get(reverse("accounts:profile")).status_code, 200)

    def test_sessions_past_their_idle_limit_are_not_listed(self):
        UserSession.objects.filter(pk=self.phone_session.pk).update(
            last_seen_at=timezone.now() - timedelta(hours=2)
        )
        response = self.laptop.get(reverse("accounts:sessions"))
        self.assertNotContains(response, "Safari on iOS")
        self.assertContains(response, "You are not signed in anywhere else")

    def queries_for_the_list(self) -> int:
        self.laptop.get(reverse("accounts:sessions"))  # warm up: last-seen bookkeeping
        with CaptureQueriesContext(connection) as queries:
            self.laptop.get(reverse("accounts:sessions"))
        return len(queries)

    def test_the_list_takes_the_same_number_of_queries_however_many_sessions(self):
        with_two = self.queries_for_the_list()
        for number in range(3):
            self.browser(FIREFOX_WINDOWS, f"198.51.100.{20 + number}")
        self.assertEqual(self.queries_for_the_list(), with_two)


class UserAgentTests(HavenTestCase):
    def test_browsers_and_systems_are_named_plainly(self):
        chrome_android = (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
            "(KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36"
        )
        edge_windows = (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
            "(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0"
        )
        self.assertEqual(describe_user_agent(FIREFOX_WINDOWS), "Firefox on Windows")
        self.assertEqual(describe_user_agent(SAFARI_IPHONE), "Safari on iOS")
        self.assertEqual(describe_user_agent(chrome_android), "Chrome on Android")
        self.assertEqual(describe_user_agent(edge_windows), "Edge on Windows")
        self.assertEqual(describe_user_agent(""), "Unknown browser")
