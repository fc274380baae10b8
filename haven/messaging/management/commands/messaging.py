"""`haven messaging purge`, `rescan` and `requeue_notifications`: the message center's periodic jobs."""

from django.core.management.base import BaseCommand, CommandParser

from haven.messaging import services

PURGE_RULE = (
    "Delete conversations, with their messages and attachments, that were closed more than "
    "HAVEN_MESSAGE_RETENTION_DAYS days ago, except those under legal hold. Open conversations "
    "are never purged. Runs in batches and can be re-run."
)
RESCAN_RULE = (
    "Screen attachments and messages that wait in quarantine because the scanner was down; "
    "clean files become downloadable, infected ones are destroyed."
)

REQUEUE_RULE = (
    "Send again text and push notifications left in 'sending' by a worker that stopped; the "
    "SMS gateway gets the same Idempotency-Key and the push service the same topic, so one "
    "already taken is not shown twice."
)


class Command(BaseCommand):
    help = (
        "Periodic jobs of the secure message center: purge (MSG-5), rescan (MSG-6) and "
        "requeue_notifications (MSG-4)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True)
        purge = commands.add_parser("purge", help=PURGE_RULE, description=PURGE_RULE)
        purge.add_argument("--batch-size", type=int, default=200)
        purge.add_argument(
            "--dry-run", action="store_true", help="Only count what would be deleted."
        )
        commands.add_parser("rescan", help=RESCAN_RULE, description=RESCAN_RULE)
        commands.add_parser("requeue_notifications", help=REQUEUE_RULE, description=REQUEUE_RULE)

    def handle(self, *args, action: str, **options) -> None:
        if action == "purge":
            if options["dry_run"]:
                count = services.past_retention().count()
                self.stdout.write(f"{count} conversations are past retention.")
                return
            count = services.messages_purge(batch_size=options["batch_size"])
            self.stdout.write(self.style.SUCCESS(f"{count} conversations purged."))
        elif action == "requeue_notifications":
            count = services.notifications_requeue_stale()
            self.stdout.write(f"{count} text and push notifications queued again.")
        else:
            waiting = services.quarantine_rescan()
            self.stdout.write(f"{waiting} items still wait for the scanner.")
