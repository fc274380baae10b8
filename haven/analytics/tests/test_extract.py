"""A de-identified extract follows the HIPAA Safe Harbor rules (LOG-3)."""

import csv
import tempfile
from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from haven.analytics.services import EXTRACT_FIELDS, safe_harbor_row
from haven.plans.models import Member
from haven.testing.people import HavenTestCase, make_member


class SafeHarborTests(HavenTestCase):
    @pytest.mark.promise("LOG-3")
    def test_the_row_keeps_no_identifier_and_coarsens_zip_dates_and_great_ages(self):
        row = safe_harbor_row(self.alice_member, date(2026, 11, 25))
        self.assertEqual(tuple(row), EXTRACT_FIELDS)
        self.assertEqual(row["zip3"], "061")
        self.assertEqual(row["coverage_start_year"], "2020")
        values = " ".join(row.values())
        for identifier in ("Alice", "Rivera", "M-ALICE", "06103", "Hartford"):
            self.assertNotIn(identifier, values)

        elder = make_member("M-ELDER", self.group, "Ada", "Old", date(1930, 3, 1))
        elder.postal_code = "03601"  # a three-digit area of 20,000 people or fewer
        row = safe_harbor_row(elder, date(2026, 11, 25))
        self.assertEqual((row["age"], row["birth_year"], row["zip3"]), ("90+", "", "000"))

    @pytest.mark.promise("LOG-3")
    def test_the_command_writes_every_covered_member_and_nothing_else(self):
        output = self.enterContext(tempfile.TemporaryDirectory()) + "/extract.csv"
        call_command("analytics", "extract", output, "--as-of", "2026-11-25")
        with open(output, encoding="utf-8") as file:
            rows = list(csv.DictReader(file))
        self.assertEqual(len(rows), Member.objects.count())
        self.assertEqual(tuple(rows[0]), EXTRACT_FIELDS)
        with self.assertRaises(CommandError):
            call_command("analytics", "extract", output, "--as-of", "yesterday")
