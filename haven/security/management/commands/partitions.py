"""`haven partitions`: this month's and the coming months' partitions of the audit trail and the
web log on PostgreSQL (run nightly; see haven/lib/partitions.py)."""

from django.core.management.base import BaseCommand

from haven.lib import partitions


class Command(BaseCommand):
    help = (
        "Make this month's and the next months' partitions of the audit trail and the web log "
        "(PostgreSQL; rows no month takes land in each table's DEFAULT partition, so a missed "
        "run loses nothing). Safe to run again: it makes only what is missing. --list shows them."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--months-ahead",
            type=int,
            default=partitions.MONTHS_AHEAD,
            help=f"months after this one to prepare (default {partitions.MONTHS_AHEAD})",
        )
        parser.add_argument(
            "--list", dest="show", action="store_true", help="list the partitions, make none"
        )

    def handle(self, *args, months_ahead, show, **options):
        if not partitions.is_postgres():
            self.stdout.write("SQLite: the audit trail and the web log are not partitioned.")
            return
        for table in partitions.PARTITIONED:
            if show:
                self.stdout.write(table)
                for partition in partitions.partitions(table):
                    bounds = (
                        f"{partition.start:%Y-%m-%d} to {partition.end:%Y-%m-%d}"
                        if partition.start
                        else "DEFAULT"
                    )
                    self.stdout.write(f"  {partition.name}  {bounds}")
                continue
            made = partitions.ensure_partitions(table, months_ahead=months_ahead)
            self.stdout.write(f"{table}: made {', '.join(made)}" if made else f"{table}: ready")
