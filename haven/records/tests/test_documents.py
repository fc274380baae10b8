"""Protected categories on every path: pages, downloads and exports (AUD-1).

The classic leak in patient portals is a protected document that staff cannot see but the
patient's proxy can download; each path below is tried by the proxy, by staff and by the member.
"""

import json

import pytest
from django.urls import reverse
from django.utils import timezone

from haven.accounts.sessions import REAUTHENTICATED_AT
from haven.audit.models import AuditEvent, Outcome
from haven.audit.tests.training import train_all_staff
from haven.caregivers.middleware import ACTING_FOR_GRANT
from haven.caregivers.models import Grant, Scope
from haven.records.models import Category
from haven.records.tests.fixtures import document
from haven.testing.people import HavenTestCase


class ProtectedCategoryTests(HavenTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        train_all_staff(cls)
        cls.teo_shots = document(cls, "teo_member", Category.IMMUNIZATION)
        cls.teo_private = document(cls, "teo_member", Category.REPRODUCTIVE_HEALTH)
        cls.elena_visit = document(cls, "elena_member", Category.VISIT_SUMMARY)
        cls.elena_genes = document(cls, "elena_member", Category.GENETIC)
        cls.alice_counselling = document(cls, "alice_member", Category.MENTAL_HEALTH)

    def act_for(self, grant):
        session = self.client.session
        session[ACTING_FOR_GRANT] = grant.pk
        session[REAUTHENTICATED_AT] = timezone.now().timestamp()
        session.save()

    def as_guardian(self):
        self.sign_in(self.alice)
        self.act_for(self.teo_guardian_grant)

    def as_caregiver_with_profile(self):
        Grant.objects.filter(pk=self.maria_grant.pk).update(
            scopes=[Scope.PROFILE, Scope.MESSAGES, Scope.APPOINTMENTS]
        )
        self.sign_in(self.maria)
        self.act_for(self.maria_grant)

    @pytest.mark.promise("AUD-1")
    def test_a_guardian_sees_the_minors_ordinary_documents_but_not_protected_ones(self):
        self.as_guardian()
        response = self.client.get(reverse("records:mine"))
        self.assertContains(response, self.teo_shots.title)
        self.assertNotContains(response, self.teo_private.title)
        self.assertNotContains(response, self.alice_counselling.title)

    @pytest.mark.promise("AUD-1")
    def test_a_guardian_cannot_download_a_protected_document_of_the_minor(self):
        self.as_guardian()
        allowed = self.client.get(reverse("records:my_document", kwargs={"pk": self.teo_shots.pk}))
        self.assertEqual(allowed.status_code, 200)
        refused = self.client.get(
            reverse("records:my_document", kwargs={"pk": self.teo_private.pk})
        )
        self.assertEqual(refused.status_code, 403)
        self.assertNotIn(b"CANARY", refused.content)
        last = AuditEvent.objects.order_by("-sequence").first()
        self.assertEqual(
            (last.outcome, last.reason, last.category),
            (Outcome.DENIED, "sensitive", "reproductive_health"),
        )
        self.assertEqual(last.grant, self.teo_guardian_grant)

    @pytest.mark.promise("AUD-1")
    def test_a_guardians_export_leaves_protected_documents_out(self):
        self.as_guardian()
        response = self.client.get(reverse("records:my_export"))
        data = json.loads(response.content)
        titles = [entry["title"] for entry in data["documents"]]
        self.assertEqual(titles, [self.teo_shots.title])
        self.assertEqual(AuditEvent.objects.get().type, "export")

    @pytest.mark.promise("AUD-1")
    def test_a_caregiver_sees_documents_only_with_the_profile_scope_and_never_protected_ones(self):
        self.sign_in(self.maria)
        self.act_for(self.maria_grant)
        self.assertEqual(self.client.get(reverse("records:mine")).status_code, 403)
        self.as_caregiver_with_profile()
        page = self.client.get(reverse("records:mine"))
        self.assertContains(page, self.elena_visit.title)
        self.assertNotContains(page, self.elena_genes.title)
        download = self.client.get(
            reverse("records:my_document", kwargs={"pk": self.elena_genes.pk})
        )
        self.assertEqual(download.status_code, 403)
        export = json.loads(self.client.get(reverse("records:my_export")).content)
        self.assertEqual([d["title"] for d in export["documents"]], [self.elena_visit.title])

    @pytest.mark.promise("AUD-1")
    def test_a_document_of_another_record_is_not_found_from_this_one(self):
        self.as_guardian()
        response = self.client.get(
            reverse("records:my_document", kwargs={"pk": self.alice_counselling.pk})
        )
        self.assertEqual(response.status_code, 404)

    @pytest.mark.promise("AUD-1")
    def test_members_see_and_download_their_own_protected_documents(self):
        self.sign_in(self.alice)
        page = self.client.get(reverse("records:mine"))
        self.assertContains(page, self.alice_counselling.title)
        download = self.client.get(
            reverse("records:my_document", kwargs={"pk": self.alice_counselling.pk})
        )
        self.assertEqual(download.status_code, 200)
        self.assertIn(b"CANARY", download.content)
        self.assertEqual(AuditEvent.objects.last().purpose, "self")

    @pytest.mark.promise("AUD-1")
    def test_staff_without_a_purpose_that_opens_documents_neither_see_nor_download_them(self):
        self.sign_in(self.representative)
        record = self.client.get(
            reverse("records:member", kwargs={"pk": self.teo_member.pk}), {"purpose": "payment"}
        )
        self.assertNotContains(record, self.teo_shots.title)
        self.assertNotContains(record, self.teo_private.title)
        for doc in (self.teo_shots, self.teo_private):
            download = self.client.get(
                reverse("records:document", kwargs={"pk": doc.pk}), {"purpose": "payment"}
            )
            self.assertEqual(download.status_code, 403)
            self.assertNotIn(b"CANARY", download.content)

    @pytest.mark.promise("AUD-1")
    def test_the_care_team_treating_sees_protected_documents_that_the_guardian_cannot(self):
        self.sign_in(self.nurse)
        record = self.client.get(
            reverse("records:member", kwargs={"pk": self.teo_member.pk}), {"purpose": "treatment"}
        )
        self.assertContains(record, self.teo_private.title)
        download = self.client.get(
            reverse("records:document", kwargs={"pk": self.teo_private.pk}),
            {"purpose": "treatment"},
        )
        self.assertEqual(download.status_code, 200)


class DocumentCreationTests(HavenTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        train_all_staff(cls)

    @pytest.mark.promise("AUD-3")
    def test_the_care_team_adds_a_document_and_the_change_is_recorded(self):
        self.sign_in(self.nurse)
        response = self.client.post(
            reverse("records:document_new", kwargs={"pk": self.elena_member.pk}),
            {
                "purpose": "treatment",
                "title": "Blood pressure check",
                "category": "visit_summary",
                "content": "128/80, no change.",
            },
        )
        self.assertRedirects(
            response,
            reverse("records:member", kwargs={"pk": self.elena_member.pk}) + "?purpose=treatment",
        )
        document = self.elena_member.health_documents.get()
        event = AuditEvent.objects.get(subtype="create")
        self.assertEqual((event.action, event.record_id), ("C", str(document.pk)))

    def test_a_protected_category_the_purpose_does_not_open_cannot_be_added(self):
        self.sign_in(self.nurse)
        response = self.client.post(
            reverse("records:document_new", kwargs={"pk": self.elena_member.pk}),
            {
                "purpose": "treatment",
                "title": "Programme intake",
                "category": "substance_use",
                "content": "Intake.",
            },
        )
        self.assertEqual(response.status_code, 403)
        self.assertFalse(self.elena_member.health_documents.exists())
        self.assertEqual(AuditEvent.objects.get().outcome, Outcome.DENIED)


class MedicalDataConsentTests(HavenTestCase):
    """CON-6: where the law makes consent the basis, the care team adds nothing to a member's
    record before the member's recorded consent."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        train_all_staff(cls)

    def add_document(self):
        return self.client.post(
            reverse("records:document_new", kwargs={"pk": self.alice_member.pk}),
            {
                "purpose": "treatment",
                "title": "Visit summary",
                "category": Category.VISIT_SUMMARY,
                "content": "BP 120/80",
            },
        )

    @pytest.mark.promise("CON-6")
    def test_a_document_waits_for_the_members_consent_where_the_law_requires_it(self):
        from django.test import override_settings

        from haven.privacy.services import medical_data_consent_record
        from haven.records.models import HealthDocument

        self.sign_in(self.nurse)
        with override_settings(HAVEN_MEDICAL_DATA_CONSENT=True):
            refused = self.add_document()
            self.assertContains(refused, "has not consented to Haven collecting their medical data")
            self.assertFalse(HealthDocument.objects.filter(member=self.alice_member).exists())
            medical_data_consent_record(
                user=self.alice, member=self.alice_member, given=True, actor=self.alice
            )
            self.assertEqual(self.add_document().status_code, 302)
        self.assertEqual(HealthDocument.objects.filter(member=self.alice_member).count(), 1)
        with override_settings(HAVEN_MEDICAL_DATA_CONSENT=False):
            self.assertEqual(self.add_document().status_code, 302)
