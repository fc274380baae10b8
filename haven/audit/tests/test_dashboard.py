import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from haven.audit import access, chain
from haven.audit.models import AuditEvent, AuditReview, EventType
from haven.audit.policy import Purpose, Resource
from haven.audit.tests.training import train_all_staff
from haven.testing.people import HavenTestCase


class DashboardTests(HavenTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        train_all_staff(cls)

    def setUp(self):
        super().setUp()
        self.nurse_reads_elena = access.read(
            actor=self.nurse,
            member=self.elena_member,
            resource=Resource.DOCUMENTS,
            purpose=Purpose.TREATMENT,
        ).event
        self.rep_reads_alice = access.read(
            actor=self.representative,
            member=self.alice_member,
            resource=Resource.CONTACT,
            purpose=Purpose.PAYMENT,
        ).event
        with self.assertRaises(access.NotPermitted):
            access.read(
                actor=self.representative,
                member=self.oscar_member,
                resource=Resource.DOCUMENTS,
                purpose=Purpose.PAYMENT,
            )
        self.refused = AuditEvent.objects.get(outcome="denied")

    def shown(self, response) -> set[int]:
        return {event.pk for event in response.context["page"].object_list}

    @pytest.mark.promise("AUD-4")
    def test_the_privacy_officer_searches_the_trail_by_member(self):
        self.sign_in(self.privacy_officer)
        response = self.client.get(reverse("audit:dashboard"), {"member": self.elena_member.pk})
        self.assertContains(response, "Elena Moretti")
        shown = self.shown(response)
        self.assertIn(self.nurse_reads_elena.pk, shown)
        self.assertNotIn(self.rep_reads_alice.pk, shown)

    @pytest.mark.promise("AUD-4")
    def test_the_privacy_officer_finds_a_member_by_name_without_it_entering_the_address(self):
        self.sign_in(self.privacy_officer)
        response = self.client.post(
            reverse("audit:dashboard"),
            {"last_name": "Moretti", "date_of_birth": self.elena_member.date_of_birth.isoformat()},
        )
        self.assertContains(response, f"?member={self.elena_member.pk}")
        found = AuditEvent.objects.get(type=EventType.QUERY)
        self.assertEqual((found.member, found.purpose), (self.elena_member, "oversight"))

    @pytest.mark.promise("AUD-4")
    def test_the_trail_is_searched_by_staff_member_purpose_outcome_and_dates(self):
        self.sign_in(self.privacy_officer)
        url = reverse("audit:dashboard")
        by_staff = self.shown(self.client.get(url, {"staff": self.representative.pk}))
        self.assertEqual(by_staff, {self.rep_reads_alice.pk, self.refused.pk})
        by_purpose = self.shown(self.client.get(url, {"purpose": "treatment"}))
        self.assertEqual(by_purpose, {self.nurse_reads_elena.pk})
        by_outcome = self.shown(self.client.get(url, {"outcome": "denied"}))
        self.assertEqual(by_outcome, {self.refused.pk})
        today = timezone.localdate()
        in_range = self.shown(self.client.get(url, {"date_from": today, "date_to": today}))
        self.assertEqual(len(in_range), 3)
        yesterday = today - timedelta(days=1)
        self.assertEqual(self.shown(self.client.get(url, {"date_to": yesterday})), set())

    def test_bad_dates_are_explained_and_kept(self):
        self.sign_in(self.privacy_officer)
        response = self.client.get(
            reverse("audit:dashboard"), {"date_from": "2026-05-10", "date_to": "2026-05-01"}
        )
        self.assertContains(response, "The end date is before the start date.")
        self.assertContains(response, 'value="2026-05-10"')

    @pytest.mark.promise("AUD-4")
    def test_looking_at_the_trail_is_itself_recorded(self):
        self.sign_in(self.compliance_officer())
        self.client.get(reverse("audit:dashboard"), {"member": self.alice_member.pk})
        used = AuditEvent.objects.get(type=EventType.TRAIL)
        self.assertEqual((used.member, used.actor_role), (self.alice_member, "compliance"))

    def compliance_officer(self):
        return self.staff["compliance"]

    @pytest.mark.promise("AUD-4")
    def test_flagged_access_is_listed_until_reviewed_and_the_review_is_a_separate_row(self):
        flagged = AuditEvent.objects.flagged()
        self.assertTrue(flagged.exists())
        self.sign_in(self.privacy_officer)
        listed = self.shown(self.client.get(reverse("audit:flagged")))
        self.assertEqual(listed, set(flagged.values_list("pk", flat=True)))
        before = self.refused.hash
        response = self.client.post(
            reverse("audit:event", kwargs={"pk": self.refused.pk}),
            {"finding": "follow_up", "note": "Asked the representative why clinical data."},
        )
        self.assertRedirects(response, reverse("audit:flagged"))
        review = AuditReview.objects.get()
        self.assertEqual((review.event, review.reviewer), (self.refused, self.privacy_officer))
        self.refused.refresh_from_db()
        self.assertEqual(self.refused.hash, before)
        self.assertNotIn(self.refused.pk, self.shown(self.client.get(reverse("audit:flagged"))))
        reviewed = self.client.get(reverse("audit:flagged"), {"reviewed": "1"})
        self.assertIn(self.refused.pk, self.shown(reviewed))
        self.assertTrue(chain.verify().intact, chain.verify().summary())

    def test_compliance_sees_reviews_but_does_not_record_them(self):
        self.sign_in(self.staff["compliance"])
        page = self.client.get(reverse("audit:event", kwargs={"pk": self.refused.pk}))
        self.assertContains(page, "the privacy officer records them")
        self.assertNotContains(page, "Record your review")
        response = self.client.post(
            reverse("audit:event", kwargs={"pk": self.refused.pk}),
            {"finding": "appropriate", "note": "fine"},
        )
        self.assertEqual(response.status_code, 403)
        self.assertFalse(AuditReview.objects.exists())

    def test_the_privacy_officer_cannot_review_their_own_access(self):
        own = access.read(
            actor=self.privacy_officer,
            member=self.alice_member,
            resource=Resource.CONTACT,
            purpose=Purpose.OVERSIGHT,
        ).event
        self.sign_in(self.privacy_officer)
        response = self.client.post(
            reverse("audit:event", kwargs={"pk": own.pk}),
            {"finding": "appropriate", "note": "mine"},
        )
        self.assertEqual(response.status_code, 200)
        self.assertFalse(AuditReview.objects.exists())

    @pytest.mark.promise("AUD-4")
    def test_the_filtered_report_downloads_as_csv(self):
        self.sign_in(self.privacy_officer)
        response = self.client.get(reverse("audit:export"), {"staff": self.representative.pk})
        self.assertEqual(response["Content-Type"], "text/csv; charset=utf-8")
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        self.assertEqual(rows[0][:3], ["Record", "When", "Staff member or user"])
        self.assertEqual(
            sorted(int(row[0]) for row in rows[1:]),
            sorted([self.rep_reads_alice.sequence, self.refused.sequence]),
        )
        self.assertEqual(
            AuditEvent.objects.filter(type=EventType.TRAIL, subtype="export").count(), 1
        )

    def test_report_cells_cannot_run_as_spreadsheet_formulas(self):
        self.representative.first_name = "=HYPERLINK(1)"
        self.representative.save()
        access.read(
            actor=self.representative,
            member=self.alice_member,
            resource=Resource.CONTACT,
            purpose=Purpose.PAYMENT,
        )
        self.sign_in(self.privacy_officer)
        content = self.client.get(reverse("audit:export")).content.decode()
        self.assertIn("'=HYPERLINK(1)", content)

    def dashboard_queries(self) -> int:
        with CaptureQueriesContext(connection) as captured:
            self.assertEqual(self.client.get(reverse("audit:dashboard")).status_code, 200)
        return len(captured)

    def test_the_dashboard_takes_as_many_queries_for_many_records_as_for_few(self):
        self.sign_in(self.privacy_officer)
        self.client.get(reverse("audit:dashboard"))
        few = self.dashboard_queries()
        for member in (self.bruno_member, self.teo_member, self.carla_member) * 4:
            access.read(
                actor=self.nurse,
                member=member,
                resource=Resource.DEMOGRAPHICS,
                purpose=Purpose.TREATMENT,
            )
        self.assertEqual(self.dashboard_queries(), few)

    @pytest.mark.promise("AUD-1")
    def test_every_staff_member_can_read_the_policy_table(self):
        self.sign_in(self.nurse)
        response = self.client.get(reverse("audit:policy"))
        self.assertContains(response, "Who may see what, and why")
        for role in ("Care team", "Customer service", "Claims", "Privacy officer"):
            self.assertContains(response, f"<h2>{role}</h2>", html=True)
        self.assertContains(response, "Emergency (break-glass)")
        self.assertContains(response, "never opened to caregivers or guardians")
