"""CON-3, CON-6, CON-8: precise location only with a recorded permission and only for finding care;
medical-data consent where the law requires it; the history of consents with their words."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.test import override_settings
from django.urls import reverse

from haven.privacy import services, wording
from haven.privacy.models import ConsentRecord, LocationPermission, Subject
from haven.testing.people import HavenTestCase


class LocationTests(HavenTestCase):
    @pytest.mark.promise("CON-3")
    def test_no_location_use_before_the_browser_permission_is_recorded(self):
        self.assertFalse(services.location_use_allowed(self.alice, "find_doctor"))
        self.sign_in(self.alice)
        response = self.client.post(
            reverse("privacy:location_permission"),
            {"purpose": "find_doctor"},
            HTTP_ACCEPT="application/json",
        )
        self.assertEqual(response.status_code, 200)
        permission = LocationPermission.objects.get(user=self.alice)
        self.assertLess(services.timezone.now() - permission.granted_at, timedelta(minutes=1))
        self.assertTrue(services.location_use_allowed(self.alice, "find_doctor"))
        self.assertFalse(services.location_use_allowed(self.alice, "find_facility"))
        record = ConsentRecord.objects.get(subject=Subject.LOCATION)
        self.assertEqual((record.scope, record.source), ("find_doctor", "browser"))

    @pytest.mark.promise("CON-3")
    def test_location_is_never_used_for_anything_but_finding_care(self):
        self.sign_in(self.alice)
        response = self.client.post(
            reverse("privacy:location_permission"), {"purpose": "advertising"}
        )
        self.assertEqual(response.status_code, 400)
        self.assertFalse(services.location_use_allowed(self.alice, "advertising"))
        with self.assertRaises(IntegrityError), transaction.atomic():
            LocationPermission.objects.create(user=self.alice, purpose="marketing")

    @pytest.mark.promise("CON-3")
    def test_turning_location_off_stops_its_use_and_is_recorded(self):
        permission = services.location_permission_record(
            user=self.alice, purpose="wayfinding", actor=self.alice
        )
        self.sign_in(self.alice)
        self.client.post(reverse("privacy:location_withdraw", kwargs={"pk": permission.pk}))
        self.assertFalse(services.location_use_allowed(self.alice, "wayfinding"))
        self.assertEqual(
            list(
                ConsentRecord.objects.filter(subject=Subject.LOCATION)
                .order_by("pk")
                .values_list("given", flat=True)
            ),
            [True, False],
        )


class MedicalDataTests(HavenTestCase):
    @pytest.mark.promise("CON-6")
    @override_settings(HAVEN_PRIVACY_LAW="gdpr")
    def test_where_the_law_requires_it_medical_data_waits_for_a_recorded_consent(self):
        self.assertTrue(services.medical_data_consent_required())
        self.assertFalse(services.medical_data_collection_allowed(self.alice_member))
        self.sign_in(self.alice)
        page = self.client.get(reverse("privacy:consents"))
        self.assertContains(page, str(wording.MEDICAL_DATA.text)[:50])
        self.client.post(reverse("privacy:consents"), {"agree": "on"})
        self.assertTrue(services.medical_data_collection_allowed(self.alice_member))
        record = ConsentRecord.objects.get(subject=Subject.MEDICAL_DATA)
        self.assertEqual(record.member, self.alice_member)
        self.assertEqual(record.version, wording.MEDICAL_DATA.version)
        self.client.post(reverse("privacy:consents"), {"action": "withdraw"})
        self.assertFalse(services.medical_data_collection_allowed(self.alice_member))

    @pytest.mark.promise("CON-6")
    @override_settings(HAVEN_PRIVACY_LAW="hipaa")
    def test_under_hipaa_treatment_payment_and_operations_need_no_consent(self):
        self.assertFalse(services.medical_data_consent_required())
        self.assertTrue(services.medical_data_collection_allowed(self.alice_member))


class ConsentHistoryTests(HavenTestCase):
    @pytest.mark.promise("CON-8")
    def test_the_member_sees_every_consent_and_withdrawal_with_its_words_and_version(self):
        services.marketing_authorise(user=self.alice, channels=["email"], actor=self.alice)
        services.marketing_withdraw(user=self.alice, actor=self.alice)
        self.sign_in(self.alice)
        page = self.client.get(reverse("privacy:consents"))
        self.assertContains(page, wording.MARKETING.version, count=2)
        self.assertContains(page, "Withdrawn")
        self.assertContains(page, wording.MARKETING.shown_in("en")[:40], count=2)
