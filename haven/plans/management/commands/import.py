"""`haven import roster|plans|claims|rates FILE`: load an operator's CSV file (docs/import-formats.md).

Bad rows are reported with their line number and left out; good rows are kept; importing the same
file again changes nothing. The exit status is 1 when any row was rejected.
"""

import csv

from django.core.management.base import BaseCommand, CommandError

from haven.plans.imports import DEFAULT_BATCH_SIZE, LAYOUTS, ImportFileError, import_csv

SHOWN_REJECTIONS = 100

LAYOUT_HELP = {
    "roster": "the eligibility roster: members, subscribers and dependants, their groups",
    "plans": "plans with their deductibles and out-of-pocket maximums, and their benefits",
    "claims": "claims with their status history and amounts (import the roster first)",
    "rates": "products' rate tables for quotes: areas by ZIP prefix, age bands, tobacco use",
}


class Command(BaseCommand):
    help = (
        "Import an operator's CSV file: roster, plans, claims or rates. "
        "Rows are checked one by one and upserted by their natural keys."
    )

    def add_arguments(self, parser):
        layouts = parser.add_subparsers(dest="layout", required=True, metavar="LAYOUT")
        for name in LAYOUTS:
            layout = layouts.add_parser(name, help=LAYOUT_HELP[name])
            layout.add_argument("file", help="the CSV file (UTF-8, first line names the columns)")
            layout.add_argument(
                "--batch-size",
                type=int,
                default=DEFAULT_BATCH_SIZE,
                help="rows written per transaction (default %(default)s)",
            )
            layout.add_argument(
                "--dry-run",
                action="store_true",
                help="check every row and report, but write nothing",
            )
            layout.add_argument(
                "--rejects",
                metavar="CSV",
                help="also write every rejected line number and reason to this CSV file",
            )

    def handle(self, *args, layout, file, batch_size, dry_run, rejects, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        try:
            result = import_csv(layout, file, batch_size=batch_size, dry_run=dry_run)
        except ImportFileError as error:
            raise CommandError(f"{file}: {error}") from error
        for warning in result.warnings:
            self.stderr.write(self.style.WARNING(f"warning: {warning}"))
        for rejection in result.rejections[:SHOWN_REJECTIONS]:
            self.stderr.write(f"line {rejection.line}: {rejection.reason}")
        hidden = result.rejected - SHOWN_REJECTIONS
        if hidden > 0:
            self.stderr.write(f"... and {hidden} more rejected lines (see --rejects)")
        if rejects:
            with open(rejects, "w", encoding="utf-8", newline="") as out:
                writer = csv.writer(out)
                writer.writerow(["line", "reason"])
                writer.writerows((r.line, r.reason) for r in result.rejections)
        summary = result.summary()
        if dry_run:
            summary += " (dry run: nothing was written)"
        self.stdout.write(self.style.SUCCESS(summary) if not result.rejected else summary)
        if result.rejected:
            raise CommandError(
                f"{result.rejected} rows were rejected; the other rows were imported.",
                returncode=1,
            )
