"""`haven mail purge_portal`, `requeue_stale`, `prune_outbox`, `rescan`: the outbox and portal's jobs."""

from django.core.management.base import BaseCommand

from haven.mail import services


class Command(BaseCommand):
    help = (
        "purge_portal: delete secure e-mail portal messages older than HAVEN_PORTAL_MESSAGE_DAYS "
        "(run daily). requeue_stale: send again e-mail left in 'sending' by a worker that stopped "
        "(run every few minutes; the same Message-ID lets a receiver recognise a repeat). "
        "prune_outbox: forget sent, failed, diverted and suppressed e-mail older than "
        "HAVEN_MAIL_KEEP_DAYS (run daily). rescan: screen portal messages that waited while "
        "the virus scanner was down (the background task does this too)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "job", choices=["purge_portal", "requeue_stale", "prune_outbox", "rescan"]
        )

    def handle(self, *args, job: str, **options):
        if job == "purge_portal":
            counts = services.portal_purge_expired()
            self.stdout.write(
                f"deleted {counts['messages']} portal messages, {counts['conversations']} "
                f"conversations, {counts['recipients']} recipients"
            )
        elif job == "rescan":
            waiting = services.portal_quarantine_rescan()
            self.stdout.write(f"{waiting} portal messages still wait for the scanner")
        elif job == "prune_outbox":
            count = services.outbox_prune()
            self.stdout.write(f"forgot {count} finished e-mails")
        else:
            count = services.outbox_requeue_stale()
            self.stdout.write(f"queued {count} e-mails again")
