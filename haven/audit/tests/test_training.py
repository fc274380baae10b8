from datetime import timedelta

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from haven.audit import access
from haven.audit.models import TrainingAttestation
from haven.audit.policy import Purpose, Resource
from haven.testing.people import HavenTestCase


class TrainingTests(HavenTestCase):
    def record(self, recorder, staff, **dates):
        today = timezone.localdate()
        self.sign_in(recorder)
        return self.client.post(
            reverse("audit:training"),
            {
                "staff": staff.pk,
                "course": "HIPAA privacy and security (annual)",
                "completed_on": dates.get("completed_on", today - timedelta(days=2)),
                "valid_until": dates.get("valid_until", today + timedelta(days=363)),
            },
        )

    def nurse_reads(self):
        return access.read(
            actor=self.nurse,
            member=self.elena_member,
            resource=Resource.DEMOGRAPHICS,
            purpose=Purpose.TREATMENT,
        )

    @pytest.mark.promise("AUD-5")
    def test_staff_reach_records_only_once_compliance_records_their_training(self):
        with self.assertRaises(access.TrainingRequired):
            self.nurse_reads()
        response = self.record(self.staff["compliance"], self.nurse)
        self.assertRedirects(response, reverse("audit:training"))
        attestation = TrainingAttestation.objects.get(staff=self.nurse)
        self.assertEqual(attestation.recorded_by, self.staff["compliance"])
        self.assertTrue(self.nurse_reads().allows(Resource.DEMOGRAPHICS))

    @pytest.mark.promise("AUD-5")
    def test_training_counts_through_its_last_day_and_not_after(self):
        today = timezone.localdate()
        self.record(self.privacy_officer, self.nurse, valid_until=today)
        self.assertIsNotNone(access.current_training(self.nurse))
        tomorrow = timezone.make_aware(
            timezone.datetime.combine(today + timedelta(days=1), timezone.datetime.min.time())
        )
        self.assertIsNone(access.current_training(self.nurse, at=tomorrow))
        self.assertIn("expired on", access.training_problem(self.nurse, at=tomorrow))

    @pytest.mark.promise("AUD-5")
    def test_nobody_records_their_own_training(self):
        response = self.record(self.staff["compliance"], self.staff["compliance"])
        self.assertContains(response, "Someone else records your own training.")
        self.assertFalse(TrainingAttestation.objects.exists())

    def test_training_dates_are_checked_and_the_form_keeps_what_was_typed(self):
        today = timezone.localdate()
        future = self.record(
            self.staff["compliance"], self.nurse, completed_on=today + timedelta(days=1)
        )
        self.assertContains(future, "The course cannot be completed in the future.")
        self.assertContains(future, (today + timedelta(days=1)).isoformat())
        lapsed = self.record(
            self.staff["compliance"],
            self.nurse,
            completed_on=today - timedelta(days=400),
            valid_until=today - timedelta(days=35),
        )
        self.assertContains(lapsed, "The training must still be valid today")
        self.assertFalse(TrainingAttestation.objects.exists())

    def test_only_compliance_and_the_privacy_officer_record_training(self):
        response = self.record(self.administrator, self.nurse)
        self.assertEqual(response.status_code, 403)

    @pytest.mark.promise("AUD-5")
    def test_the_staff_workspace_card_shows_each_staff_members_training(self):
        card = Template('{% include "audit/staff_cards.html" %}')
        without = card.render(Context({"user": self.nurse}))
        self.assertIn("You cannot open members", without)
        self.record(self.staff["compliance"], self.nurse)
        with_training = card.render(Context({"user": self.nurse}))
        self.assertIn("Your privacy training is valid until", with_training)
        self.assertNotIn("Audit trail", with_training)
        officer = card.render(Context({"user": self.privacy_officer}))
        self.assertIn("Audit trail", officer)

    def test_the_training_page_lists_every_staff_member_with_a_status(self):
        self.record(self.privacy_officer, self.nurse)
        response = self.client.get(reverse("audit:training"))
        rows = {row["user"]: row for row in response.context["staff"]}
        self.assertTrue(rows[self.nurse]["current"])
        self.assertFalse(rows[self.representative]["current"])
        self.assertContains(response, "None on record")
