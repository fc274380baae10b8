import time

import pytest
from django.contrib.auth.hashers import identify_hasher
from django.test import override_settings
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from haven.accounts.models import UserSession
from haven.accounts.sessions import LAST_ACTIVE_AT
from haven.testing.people import PASSWORD, HavenTestCase


class SignInTests(HavenTestCase):
    def sign_in_with_password(self, username, password=PASSWORD):
        return self.client.post(
            reverse("accounts:login"), {"username": username, "password": password}
        )

    def test_member_signs_in_and_the_session_key_changes(self):
        self.client.get(reverse("accounts:login"))
        before = self.client.cookies.get("haven_session")
        response = self.sign_in_with_password("alice")
        self.assertRedirects(response, reverse("front:home"))
        after = self.client.cookies["haven_session"].value
        self.assertNotEqual(before.value if before else None, after)
        self.assertTrue(UserSession.objects.filter(user=self.alice, session_key=after).exists())

    @pytest.mark.promise("ACC-13")
    def test_wrong_password_and_unknown_username_get_the_same_answer(self):
        wrong = self.sign_in_with_password("alice", "not the password")
        unknown = self.sign_in_with_password("nobody-here", "not the password")
        self.assertEqual(wrong.status_code, 200)
        self.assertEqual(wrong.context["form"].errors, unknown.context["form"].errors)

    @pytest.mark.promise("ACC-13")
    @override_settings(
        HAVEN_SIGNIN_SLOW_AFTER=2, HAVEN_SIGNIN_SLOW_SECONDS=60, AXES_FAILURE_LIMIT=4
    )
    def test_failed_sign_ins_are_slowed_then_locked_alike_for_any_username(self):
        for username in ("alice", "nobody-here"):
            for _ in range(2):
                self.sign_in_with_password(username, "wrong")
            slowed = self.sign_in_with_password(username, PASSWORD)
            self.assertIn("Wait", str(slowed.context["form"].errors))
        self.assertFalse(UserSession.objects.filter(user=self.alice).exists())

    @pytest.mark.promise("ACC-4")
    def test_passwords_are_stored_as_argon2_hashes(self):
        self.alice.refresh_from_db()
        self.assertEqual(identify_hasher(self.alice.password).algorithm, "argon2")
        self.assertNotIn(PASSWORD, self.alice.password)

    def test_signing_out_kills_the_session_on_the_server(self):
        self.sign_in_with_password("alice")
        key = self.client.cookies["haven_session"].value
        self.client.post(reverse("accounts:logout"))
        self.assertFalse(UserSession.objects.filter(session_key=key).exists())
        self.client.cookies["haven_session"] = key
        response = self.client.get(reverse("accounts:profile"))
        self.assertRedirects(
            response, reverse("accounts:login") + "?next=" + reverse("accounts:profile")
        )


class IdleTimeoutTests(HavenTestCase):
    @pytest.mark.promise("ACC-5")
    @override_settings(HAVEN_SESSION_IDLE_SECONDS=60)
    def test_an_idle_session_ends_on_the_server_with_a_message(self):
        self.client.force_login(self.alice)
        session = self.client.session
        session[LAST_ACTIVE_AT] = time.time() - 61
        session.save()
        response = self.client.get(reverse("accounts:profile"), follow=True)
        self.assertEqual(response.request["PATH_INFO"], reverse("accounts:login"))
        self.assertContains(response, "without activity")

    @pytest.mark.promise("ACC-5")
    def test_asking_for_the_time_left_does_not_extend_the_session(self):
        self.client.force_login(self.alice)
        session = self.client.session
        session[LAST_ACTIVE_AT] = time.time() - 100
        session.save()
        status = self.client.get(
            reverse("accounts:session_status"), HTTP_ACCEPT="application/json"
        ).json()
        self.assertLessEqual(status["seconds_left"], 20 * 60 - 100)
        again = self.client.get(
            reverse("accounts:session_status"), HTTP_ACCEPT="application/json"
        ).json()
        self.assertLessEqual(again["seconds_left"], status["seconds_left"])
        kept = self.client.post(
            reverse("accounts:session_keepalive"), HTTP_ACCEPT="application/json"
        ).json()
        self.assertGreaterEqual(kept["seconds_left"], 20 * 60 - 2)


class StaffSecondFactorTests(HavenTestCase):
    @pytest.mark.promise("ACC-12")
    def test_staff_reach_nothing_until_they_give_a_valid_code(self):
        self.client.post(
            reverse("accounts:login"), {"username": self.nurse.username, "password": PASSWORD}
        )
        self.assertRedirects(
            self.client.get(reverse("front:staff_home")), reverse("accounts:two_factor")
        )
        wrong = self.client.post(reverse("accounts:two_factor"), {"otp_token": "000000"})
        self.assertEqual(wrong.status_code, 200)
        device = TOTPDevice.objects.get(user=self.nurse)
        device.throttle_reset()  # a wrong code pauses the device briefly, as it should
        code = f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"
        self.client.post(reverse("accounts:two_factor"), {"otp_token": code})
        self.assertEqual(self.client.get(reverse("front:staff_home")).status_code, 200)
