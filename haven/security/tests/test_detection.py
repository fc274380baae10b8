"""Credential stuffing, scanning, injection and malicious uploads are detected, throttled and
shown to the security staff (SEC-2)."""

import uuid

import pytest
from django.test import override_settings
from django.urls import reverse

from haven.security import services
from haven.security.models import SecurityEvent
from haven.testing.people import HavenTestCase

ATTACKER = "203.0.113.66"


class DetectionTests(HavenTestCase):
    def attempt(self, username, address=ATTACKER):
        return self.client.post(
            reverse("accounts:login"),
            {"username": username, "password": "not the password"},
            REMOTE_ADDR=address,
        )

    @pytest.mark.promise("SEC-2")
    def test_failed_sign_ins_across_many_accounts_throttle_the_source_only(self):
        for username in ("alice", "bruno", "elena", "oscar"):
            self.assertNotEqual(self.attempt(username).status_code, 429)
        self.assertFalse(SecurityEvent.objects.exists())
        self.attempt("someone-else")
        event = SecurityEvent.objects.get()
        self.assertEqual(
            (event.kind, event.address), (SecurityEvent.Kind.CREDENTIAL_STUFFING, ATTACKER)
        )
        self.assertIsNotNone(event.throttled_until)
        blocked = self.client.get("/", REMOTE_ADDR=ATTACKER)
        self.assertEqual(blocked.status_code, 429)
        self.assertContains(blocked, "Too many requests", status_code=429)
        # Alice, signing in from her own network, is not affected.
        self.assertEqual(self.client.get("/", REMOTE_ADDR="198.51.100.20").status_code, 200)

    @pytest.mark.promise("SEC-2")
    def test_one_person_mistyping_their_own_password_is_not_an_attack(self):
        for _attempt in range(6):
            self.attempt("alice", address="198.51.100.30")
        self.assertFalse(SecurityEvent.objects.filter(kind="credential_stuffing").exists())

    @pytest.mark.promise("SEC-2")
    @override_settings(HAVEN_SCANNING_NOT_FOUND=5)
    def test_scanning_for_missing_pages_is_throttled_but_a_record_that_is_not_yours_is_not(self):
        for path in ("/wp-admin/", "/.env", "/phpmyadmin/", "/.git/config", "/admin.php"):
            self.client.get(path, REMOTE_ADDR=ATTACKER)
        event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.SCANNING)
        self.assertIn("/admin.php", event.detail)
        self.assertEqual(self.client.get("/", REMOTE_ADDR=ATTACKER).status_code, 429)

    @pytest.mark.promise("SEC-2")
    def test_injection_patterns_are_noted_and_repeated_ones_throttled(self):
        probes = [
            "?q=1' OR '1'='1",
            "?q=<script>alert(1)</script>",
            "?q=../../etc/passwd",
        ]
        for probe in probes:
            self.client.get(reverse("care:search") + probe, REMOTE_ADDR=ATTACKER)
        event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.INJECTION)
        self.assertEqual(event.occurrences, 3)
        self.assertIsNotNone(event.throttled_until)
        self.assertEqual(self.client.get("/", REMOTE_ADDR=ATTACKER).status_code, 429)

    def test_ordinary_searches_are_not_injections(self):
        for query in ("O'Brien", "select a doctor", "cardiology & pediatrics", "Dr. Smith-Jones"):
            self.client.get(reverse("care:search"), {"q": query}, REMOTE_ADDR="198.51.100.40")
        self.assertFalse(SecurityEvent.objects.exists())

    @pytest.mark.promise("SEC-2")
    def test_malicious_uploads_raise_an_event_and_a_second_one_throttles(self):
        services.note_malicious_upload(ATTACKER)
        self.assertFalse(services.is_throttled(ATTACKER))
        services.note_malicious_upload(ATTACKER)
        self.assertTrue(services.is_throttled(ATTACKER))
        self.assertEqual(SecurityEvent.objects.get().occurrences, 2)

    @pytest.mark.promise("SEC-2")
    def test_security_staff_see_the_event_review_it_and_let_the_source_in_again(self):
        for username in ("alice", "bruno", "elena", "oscar", "nobody"):
            self.attempt(username)
        event = SecurityEvent.objects.get()
        self.sign_in(self.staff["compliance"])
        home = self.client.get(reverse("front:staff_home"))
        self.assertContains(home, "1 event awaits review")
        page = self.client.get(reverse("security:dashboard"))
        self.assertContains(page, ATTACKER)
        self.assertContains(page, "Failed sign-ins across many accounts")
        refused = self.client.post(reverse("security:review", args=[event.pk]), {"note": ""})
        self.assertEqual(refused.status_code, 302)
        event.refresh_from_db()
        self.assertIsNone(event.reviewed_at)
        self.client.post(
            reverse("security:review", args=[event.pk]),
            {
                "note": "Known botnet range; reported to the hosting provider.",
                "lift_throttle": "on",
            },
        )
        event.refresh_from_db()
        self.assertEqual(event.reviewed_by, self.staff["compliance"])
        self.assertFalse(services.is_throttled(ATTACKER))
        self.client.logout()
        self.assertEqual(self.client.get("/", REMOTE_ADDR=ATTACKER).status_code, 200)


@pytest.mark.usefixtures("clamd")
class MalwareUploadTests(HavenTestCase):
    @pytest.mark.promise("SEC-2")
    def test_a_file_the_scanner_refuses_raises_an_event_against_the_uploaders_address(self):
        from django.core.files.uploadedfile import SimpleUploadedFile

        from haven.testing.clamd import EICAR

        self.enterContext(override_settings(HAVEN_CLAMD_ADDRESS=self.clamd.address))
        self.sign_in(self.alice)
        for _attempt in range(2):
            self.client.post(
                reverse("messaging:new"),
                {
                    "topic": "care_question",
                    "subject": "Lab report",
                    "body": "Here it is.",
                    "attachments": [SimpleUploadedFile("results.txt", EICAR)],
                    "idempotency_key": str(uuid.uuid4()),
                },
                REMOTE_ADDR=ATTACKER,
            )
        event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.MALWARE)
        self.assertEqual((event.address, event.occurrences), (ATTACKER, 2))
        self.assertTrue(services.is_throttled(ATTACKER))
