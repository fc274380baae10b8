"""`haven privacy notices` and `haven privacy archives`: the privacy center's periodic jobs."""

from django.core.management.base import BaseCommand

from haven.privacy import services


class Command(BaseCommand):
    help = (
        "notices: tell every account holder not yet told of the notice in effect or the one "
        "coming (so a revision reaches everyone within 60 days) and remind anyone not told in "
        "three years (run daily). archives: delete access archives whose download link expired "
        "(run hourly)."
    )

    def add_arguments(self, parser):
        parser.add_argument("job", choices=["notices", "archives"])

    def handle(self, *args, job: str, **options):
        if job == "notices":
            counts = services.notices_remind()
            self.stdout.write(
                f"told {counts['new']} of the current notice, reminded {counts['reminded']}"
            )
        else:
            self.stdout.write(f"expired {services.archives_expire()} archives")
