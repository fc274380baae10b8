"""`haven security purge`: erase web-log lines past their retention (run nightly)."""

from django.core.management.base import BaseCommand

from haven.security.services import purge_web_log


class Command(BaseCommand):
    help = "Security housekeeping."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="action", required=True)
        commands.add_parser("purge", help="erase web-log lines past HAVEN_WEBLOG_RETENTION_DAYS")

    def handle(self, *args, action, **options):
        erased = purge_web_log()
        self.stdout.write(f"{erased} web-log lines erased.")
