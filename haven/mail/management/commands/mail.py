"""`haven mail purge_portal` and `haven mail requeue_stale`: the outbox and portal's periodic jobs."""

from django.core.management.base import BaseCommand

from haven.mail import services


class Command(BaseCommand):
    help = (
        "purge_portal: delete secure e-mail portal messages older than HAVEN_PORTAL_MESSAGE_DAYS "
        "(run daily). requeue_stale: send again e-mail left in 'sending' by a worker that stopped "
        "(run every few minutes; the same Message-ID lets a receiver recognise a repeat)."
    )

    def add_arguments(self, parser):
        parser.add_argument("job", choices=["purge_portal", "requeue_stale"])

    def handle(self, *args, job: str, **options):
        if job == "purge_portal":
            counts = services.portal_purge_expired()
            self.stdout.write(
                f"deleted {counts['messages']} portal messages, {counts['conversations']} "
                f"conversations, {counts['recipients']} recipients"
            )
        else:
            count = services.outbox_requeue_stale()
            self.stdout.write(f"queued {count} e-mails again")
