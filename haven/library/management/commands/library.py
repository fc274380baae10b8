from django.core.management.base import BaseCommand

from haven.library import services


class Command(BaseCommand):
    help = (
        "Health programmes: `send` delivers the reminders and questionnaires now due (run it from "
        "cron, e.g. every 15 minutes); e-mail goes only to members who accepted it in the privacy "
        "center; `enqueue` hands the same work to the task worker instead."
    )

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="command", required=True)
        commands.add_parser("send")
        commands.add_parser("enqueue")

    def handle(self, *args, **options):
        if options["command"] == "enqueue":
            from haven.library.tasks import send_due_deliveries

            result = send_due_deliveries.enqueue()
            self.stdout.write(f"queued as task {result.id}")
            return
        sent = services.send_due()
        self.stdout.write(f"{sent} reminders and questionnaires delivered")
