"""Staff reports count members by age band and region with small groups hidden (LOG-3, DIS-7)."""

import csv
import io
from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from haven.accounts.models import User
from haven.analytics.models import ReportRun
from haven.analytics.services import member_report
from haven.plans.models import Member
from haven.testing.people import HavenTestCase, years_ago


def add_members(group, region, age, count, with_account):
    members = Member.objects.bulk_create(
        Member(
            member_id=f"S-{region}-{age}-{n}",
            group=group,
            relationship="self",
            first_name="Test",
            last_name=f"Person {n}",
            gender="F",
            date_of_birth=years_ago(age, days=n),
            region=region,
            postal_code="10001",
            coverage_start=years_ago(1),
        )
        for n in range(count)
    )
    User.objects.bulk_create(
        User(username=f"u-{member.member_id}", kind=User.Kind.MEMBER, member=member)
        for member in members[:with_account]
    )


class ReportTests(HavenTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        add_members(cls.group, "NY", 25, 40, with_account=25)  # 25 of 40: both shown
        add_members(cls.group, "NY", 40, 12, with_account=4)  # 4 people: hidden
        add_members(cls.group, "NY", 55, 20, with_account=15)  # the 5 without: hidden too

    def ny(self, report, band):
        column = report.measured.columns.index("NY")
        row = report.measured.rows.index(band)
        return report.measured.cell(row, column), report.base.cell(row, column)

    @pytest.mark.promise("LOG-3")
    def test_groups_of_ten_or_fewer_and_their_complements_are_hidden(self):
        report = member_report("portal", "region", timezone.localdate())
        self.assertEqual(self.ny(report, "18-34"), (25, 40))
        # 4 members with an account, and 5 without one: both hidden (their base may be too, as
        # the complement of the family's small groups elsewhere in the table).
        self.assertIsNone(self.ny(report, "35-49")[0])
        self.assertIsNone(self.ny(report, "50-64")[0])
        self.assertEqual(report.share(0 + 1, report.measured.columns.index("NY")), 25 / 40)
        for _label, cells in report.lines():
            for measured, base, _share in cells:
                for shown in (measured, base):
                    self.assertFalse(shown is not None and 0 < shown <= 10, cells)

    @pytest.mark.promise("LOG-3")
    @pytest.mark.promise("DIS-7")
    def test_the_download_holds_the_same_suppressed_figures_and_no_identifier(self):
        self.sign_in(self.privacy_officer)
        today = timezone.localdate().isoformat()
        query = {"measure": "portal", "column": "region", "as_of": today}
        page = self.client.get(reverse("analytics:report"), query)
        self.assertContains(page, "25 / 40 (62%)")
        download = self.client.get(reverse("analytics:report"), query | {"format": "csv"})
        self.assertEqual(download["Content-Type"], "text/csv; charset=utf-8")
        text = download.content.decode()
        rows = list(csv.reader(io.StringIO(text)))
        figures = [cell for row in rows[1:-1] for cell in row[1:]]
        self.assertIn("*", figures)
        for figure in figures:
            self.assertTrue(figure == "*" or not 0 < int(figure) <= 10, figure)
        for identifier in ("M-ALICE", "Rivera", "S-NY", "Person", "10001"):
            self.assertNotIn(identifier, text)
        runs = ReportRun.objects.values_list("ran_by", "measure", "column")
        self.assertEqual(list(runs), [(self.privacy_officer.pk, "portal", "region")] * 2)

    def test_members_not_covered_that_day_are_not_counted(self):
        report = member_report("portal", "region", date(2019, 12, 31))
        self.assertEqual(report.base.extended[-1][-1], 0)

    def test_a_bad_date_is_answered_with_the_form_again(self):
        self.sign_in(self.privacy_officer)
        page = self.client.get(
            reverse("analytics:report"), {"measure": "portal", "column": "region", "as_of": "soon"}
        )
        self.assertEqual(page.status_code, 200)
        self.assertContains(page, "Enter a valid date")
        self.assertFalse(ReportRun.objects.exists())
