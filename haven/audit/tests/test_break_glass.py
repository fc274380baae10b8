from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from haven.audit.models import AuditEvent, BreakGlass, EventType
from haven.audit.tests.training import train_all_staff
from haven.records.models import Category
from haven.records.tests.fixtures import document
from haven.testing.people import HavenTestCase

REASON = "Member collapsed in the waiting room; paramedics ask for current medications."


class BreakGlassTests(HavenTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        train_all_staff(cls)
        cls.rehab = document(cls, "oscar_member", Category.SUBSTANCE_USE)

    def declare(self, user, reason=REASON):
        self.sign_in(user)
        return self.client.post(
            reverse("records:emergency", kwargs={"pk": self.oscar_member.pk}), {"reason": reason}
        )

    def open_record(self):
        return self.client.get(
            reverse("records:member", kwargs={"pk": self.oscar_member.pk}),
            {"purpose": "emergency"},
        )

    @pytest.mark.promise("AUD-7")
    def test_an_emergency_needs_a_written_reason(self):
        response = self.declare(self.representative, reason="urgent")
        self.assertContains(response, "Ensure this value has at least 30 characters")
        self.assertContains(response, "urgent")
        self.assertFalse(BreakGlass.objects.exists())
        self.assertEqual(self.open_record().status_code, 403)

    @pytest.mark.promise("AUD-7")
    def test_a_declared_emergency_opens_the_record_and_every_access_is_flagged(self):
        response = self.declare(self.nurse)
        self.assertRedirects(
            response,
            reverse("records:member", kwargs={"pk": self.oscar_member.pk}) + "?purpose=emergency",
            fetch_redirect_response=False,
        )
        page = self.open_record()
        self.assertContains(page, "Emergency access, open until")
        self.assertContains(page, self.rehab.title)
        grant = BreakGlass.objects.get()
        self.assertEqual(grant.reason, REASON)
        declaration, access = AuditEvent.objects.order_by("sequence")
        self.assertEqual(declaration.type, EventType.EMERGENCY)
        self.assertEqual(declaration.note, REASON)
        for event in (declaration, access):
            self.assertIn("break_glass", event.flags)
            self.assertEqual(event.break_glass, grant)

    @pytest.mark.promise("AUD-7")
    def test_emergency_access_ends_after_its_time(self):
        self.declare(self.nurse)
        grant = BreakGlass.objects.get()
        self.assertEqual(grant.expires_at - grant.declared_at, timedelta(minutes=60))
        BreakGlass.objects.filter(pk=grant.pk).update(
            declared_at=timezone.now() - timedelta(minutes=61),
            expires_at=timezone.now() - timedelta(minutes=1),
        )
        response = self.open_record()
        self.assertContains(
            response, "Emergency access needs a declared emergency", status_code=403
        )
        self.assertNotContains(response, self.rehab.title, status_code=403)

    @pytest.mark.promise("AUD-7")
    def test_the_length_of_emergency_access_is_a_setting(self):
        with self.settings(HAVEN_BREAK_GLASS_MINUTES=15):
            self.declare(self.nurse)
        grant = BreakGlass.objects.get()
        self.assertEqual(grant.expires_at - grant.declared_at, timedelta(minutes=15))

    @pytest.mark.promise("AUD-7")
    def test_an_emergency_opens_only_the_member_it_was_declared_for(self):
        self.declare(self.nurse)
        response = self.client.get(
            reverse("records:member", kwargs={"pk": self.alice_member.pk}),
            {"purpose": "emergency"},
        )
        self.assertEqual(response.status_code, 403)

    def test_roles_without_emergency_access_cannot_declare_one(self):
        response = self.declare(self.staff["claims"])
        self.assertEqual(response.status_code, 403)
        self.assertFalse(BreakGlass.objects.exists())

    @pytest.mark.promise("AUD-7")
    def test_the_privacy_officer_finds_the_emergency_among_flagged_access(self):
        self.declare(self.nurse)
        self.open_record()
        self.sign_in(self.privacy_officer)
        response = self.client.get(reverse("audit:flagged"))
        self.assertContains(response, "Emergency access")
        shown = {event.pk for event in response.context["page"].object_list}
        emergency = set(
            AuditEvent.objects.filter(break_glass__isnull=False).values_list("pk", flat=True)
        )
        self.assertEqual(len(emergency), 2)
        self.assertLessEqual(emergency, shown)
