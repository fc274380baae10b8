from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from haven.accounts.models import User
from haven.care import services
from haven.care.models import Practitioner


class Command(BaseCommand):
    help = (
        "Finding care: `link-provider USERNAME PRACTITIONER_ID --by ADMIN` links a provider's "
        "sign-in to its practice and enters the practice in the privacy registry, so members can "
        "book and share with it; `reminders` sends appointment reminders now due (only to people "
        "who take them by e-mail)."
    )

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="command", required=True)
        link = commands.add_parser("link-provider")
        link.add_argument("username")
        link.add_argument("practitioner_id", type=int)
        link.add_argument(
            "--by", required=True, help="the administrator or privacy officer doing it"
        )
        link.add_argument(
            "--office", action="store_true", help="office staff, not the practitioner"
        )
        commands.add_parser("reminders")

    def handle(self, *args, **options):
        if options["command"] == "reminders":
            sent = services.reminders_send_due()
            self.stdout.write(f"{sent} reminders sent")
            return
        try:
            user = User.objects.get(username=options["username"])
            actor = User.objects.get(username=options["by"])
            practitioner = Practitioner.objects.get(pk=options["practitioner_id"])
        except (User.DoesNotExist, Practitioner.DoesNotExist) as error:
            raise CommandError(str(error)) from error
        role = "office" if options["office"] else "practitioner"
        try:
            services.provider_account_link(
                user=user, practitioner=practitioner, actor=actor, role=role
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        except PermissionDenied as error:
            raise CommandError(
                "only an administrator or the privacy officer links practices"
            ) from error
        self.stdout.write(f"{user.username} now works for {practitioner.display_name}")
