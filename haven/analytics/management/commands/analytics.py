"""`haven analytics extract FILE`: a de-identified (HIPAA Safe Harbor) extract of covered members."""

import csv
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from haven.analytics.services import EXTRACT_FIELDS, safe_harbor_extract


class Command(BaseCommand):
    help = "De-identified extracts for research and statistics."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="action", required=True)
        extract = commands.add_parser(
            "extract", help="write covered members, de-identified, as CSV"
        )
        extract.add_argument("output", help="the CSV file to write")
        extract.add_argument("--as-of", help="coverage and ages on this day (YYYY-MM-DD); today")

    def handle(self, *args, action, output, as_of=None, **options):
        try:
            day = date.fromisoformat(as_of) if as_of else timezone.localdate()
        except ValueError as error:
            raise CommandError(f"--as-of: {error}") from error
        with open(output, "w", newline="", encoding="utf-8") as file:
            writer = csv.DictWriter(file, fieldnames=EXTRACT_FIELDS)
            writer.writeheader()
            count = 0
            for row in safe_harbor_extract(day):
                writer.writerow(row)
                count += 1
        self.stdout.write(f"{count} members written to {output}, de-identified (Safe Harbor).")
