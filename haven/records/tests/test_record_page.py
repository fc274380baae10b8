from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import formats, timezone

from haven.audit.models import AuditEvent, Outcome, TrainingAttestation
from haven.audit.tests.training import train_all_staff
from haven.records.models import Category
from haven.records.tests.fixtures import document
from haven.testing.people import HavenTestCase


class RecordPageTests(HavenTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        train_all_staff(cls)
        cls.alice_member.phone = "860-555-0101"
        cls.alice_member.address_line = "12 Elm Street"
        cls.alice_member.save()
        cls.lab = document(cls, "alice_member", Category.LAB_RESULT)
        cls.counselling = document(cls, "alice_member", Category.MENTAL_HEALTH)
        cls.rehab = document(cls, "alice_member", Category.SUBSTANCE_USE)

    def open(self, user, purpose):
        self.sign_in(user)
        return self.client.get(
            reverse("records:member", kwargs={"pk": self.alice_member.pk}), {"purpose": purpose}
        )

    @pytest.mark.promise("AUD-1")
    def test_the_care_team_treating_a_member_sees_the_clinical_record(self):
        response = self.open(self.nurse, "treatment")
        self.assertContains(response, "M-ALICE")
        self.assertContains(response, "12 Elm Street")
        self.assertContains(response, self.lab.title)
        self.assertContains(response, self.counselling.title)
        # Substance-use records stay closed without the member's consent or an emergency.
        self.assertNotContains(response, self.rehab.title)
        event = AuditEvent.objects.get()
        self.assertEqual(set(event.entity), {"demographics", "contact", "coverage", "documents"})

    @pytest.mark.promise("AUD-2")
    def test_a_representative_on_a_billing_question_sees_contact_and_coverage_not_documents(self):
        response = self.open(self.representative, "payment")
        self.assertContains(response, "860-555-0101")
        self.assertContains(response, "Coverage and eligibility")
        self.assertNotContains(response, self.lab.title)
        self.assertNotContains(response, self.counselling.title)
        self.assertContains(response, "Not shown for this purpose")
        event = AuditEvent.objects.get()
        self.assertEqual(event.withheld, ["documents"])
        self.assertNotIn("documents", event.entity)

    @pytest.mark.promise("AUD-1")
    def test_producer_support_sees_who_is_enrolled_and_nothing_more(self):
        response = self.open(self.staff["producer_support"], "operations")
        self.assertContains(response, "M-ALICE")
        self.assertNotContains(response, "12 Elm Street")
        self.assertNotContains(response, "860-555-0101")
        self.assertNotContains(response, self.lab.title)
        self.assertEqual(
            AuditEvent.objects.get().entity["demographics"],
            ["first_name", "last_name", "date_of_birth", "member_id"],
        )

    @pytest.mark.promise("AUD-1")
    def test_a_purpose_the_role_does_not_have_is_refused_and_recorded(self):
        response = self.open(self.representative, "treatment")
        self.assertEqual(response.status_code, 403)
        self.assertContains(response, "Your role (Customer service) does not open", status_code=403)
        self.assertNotContains(response, "M-ALICE", status_code=403)
        event = AuditEvent.objects.get()
        self.assertEqual((event.outcome, event.purpose), (Outcome.DENIED, "treatment"))

    @pytest.mark.promise("AUD-1")
    def test_without_a_purpose_the_page_asks_for_one_and_shows_nothing(self):
        self.sign_in(self.nurse)
        response = self.client.get(reverse("records:member", kwargs={"pk": self.alice_member.pk}))
        self.assertContains(response, "Why are you opening this record?")
        self.assertNotContains(response, "Rivera")
        self.assertNotContains(response, "M-ALICE")
        self.assertFalse(AuditEvent.objects.exists())

    @pytest.mark.promise("AUD-5")
    def test_staff_without_privacy_training_are_told_why_they_cannot_open_a_record(self):
        TrainingAttestation.objects.filter(staff=self.nurse).delete()
        response = self.open(self.nurse, "treatment")
        self.assertContains(response, "No privacy training is on record", status_code=403)
        self.assertNotContains(response, "M-ALICE", status_code=403)
        self.assertEqual(AuditEvent.objects.get().reason, "training")

    @pytest.mark.promise("AUD-5")
    def test_expired_training_names_the_day_it_expired(self):
        expired = timezone.now() - timedelta(days=3)
        TrainingAttestation.objects.filter(staff=self.nurse).update(
            completed_at=expired - timedelta(days=365), expires_at=expired
        )
        response = self.open(self.nurse, "treatment")
        day = formats.date_format(timezone.localdate(expired))
        self.assertContains(response, f"Your privacy training expired on {day}", status_code=403)

    def test_staff_download_of_a_document_is_audited_with_its_category(self):
        self.sign_in(self.nurse)
        response = self.client.get(
            reverse("records:document", kwargs={"pk": self.counselling.pk}),
            {"purpose": "treatment"},
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(
            response["Content-Disposition"],
            f'attachment; filename="haven-document-{self.counselling.pk}.txt"',
        )
        event = AuditEvent.objects.get()
        self.assertEqual(
            (event.subtype, event.record_id, event.category),
            ("download", str(self.counselling.pk), "mental_health"),
        )


class RosterSearchTests(HavenTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        train_all_staff(cls)

    @pytest.mark.promise("AUD-3")
    def test_a_search_is_a_post_and_every_member_shown_is_recorded(self):
        self.sign_in(self.representative)
        response = self.client.post(
            reverse("records:search"),
            {
                "last_name": "rivera",
                "date_of_birth": self.alice_member.date_of_birth.isoformat(),
                "purpose": "payment",
            },
        )
        self.assertContains(response, "Alice")
        self.assertContains(
            response,
            f"{reverse('records:member', kwargs={'pk': self.alice_member.pk})}?purpose=payment",
        )
        events = AuditEvent.objects.filter(type="query")
        self.assertEqual([e.member for e in events], [self.alice_member])
        self.assertEqual(
            events[0].entity["demographics"],
            ["first_name", "last_name", "date_of_birth", "member_id"],
        )

    def test_a_search_needs_criteria_and_keeps_what_was_typed(self):
        self.sign_in(self.representative)
        response = self.client.post(
            reverse("records:search"), {"last_name": "Rivera", "purpose": "payment"}
        )
        self.assertContains(response, "Enter a member ID, or a last name and a date of birth.")
        self.assertContains(response, 'value="Rivera"')
        self.assertFalse(AuditEvent.objects.exists())

    @pytest.mark.promise("AUD-5")
    def test_a_search_without_training_is_refused_with_the_reason(self):
        TrainingAttestation.objects.filter(staff=self.representative).delete()
        self.sign_in(self.representative)
        page = self.client.get(reverse("records:search"))
        self.assertContains(page, "No privacy training is on record")
        response = self.client.post(
            reverse("records:search"), {"member_id": "M-ALICE", "purpose": "payment"}
        )
        self.assertContains(response, "No privacy training is on record", status_code=403)
        self.assertNotContains(response, "Alice", status_code=403)
        self.assertEqual(AuditEvent.objects.get().outcome, Outcome.DENIED)
