"""`haven keys rotate`: re-wrap every data key under the current key-encryption key (MSG-3)."""

from django.core.management.base import BaseCommand, CommandParser
from django.db.models import Count

from haven.lib import crypto


class Command(BaseCommand):
    help = (
        "Manage the key-encryption keys (KEKs) that wrap each record's data key. "
        "`rotate` re-wraps every data key not yet under HAVEN_KEK_CURRENT, in batches, without "
        "re-encrypting any data; it can be stopped and run again, and once it reports nothing "
        "left the old KEK can be removed from HAVEN_KEKS."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True)
        rotate = commands.add_parser(
            "rotate", help="Re-wrap every data key under HAVEN_KEK_CURRENT."
        )
        rotate.add_argument("--batch-size", type=int, default=500)
        commands.add_parser("status", help="Count data keys by the KEK that wraps them.")

    def handle(self, *args, action: str, **options) -> None:
        if action == "rotate":
            current = crypto.current_kek_id()
            total = crypto.rewrap_all(
                batch_size=options["batch_size"],
                report=lambda label, done: self.stdout.write(f"{label}: {done} re-wrapped"),
            )
            self.stdout.write(
                self.style.SUCCESS(f"{total} data keys re-wrapped; all are under {current!r}.")
            )
        else:
            for entry in crypto.sealed_models():
                counts = (
                    entry.model.objects.values("kek_id")
                    .annotate(total=Count("pk"))
                    .order_by("kek_id")
                )
                for row in counts:
                    kek_id = row["kek_id"] or "plaintext"
                    self.stdout.write(f"{entry.model._meta.label}: {kek_id}: {row['total']}")
