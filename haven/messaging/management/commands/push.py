"""`haven push keys` and `haven push status`: the site's VAPID key for push notifications (MSG-4)."""

from django.core.management.base import BaseCommand, CommandParser

from haven.messaging import push

KEYS_RULE = (
    "Print a new VAPID private key for HAVEN_VAPID_PRIVATE_KEY. Keep it secret like SECRET_KEY; "
    "changing it later ends every browser's subscription, so make it once per site."
)


class Command(BaseCommand):
    help = "Push notifications: `keys` makes the site's VAPID key, `status` shows the one in use."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True)
        commands.add_parser("keys", help=KEYS_RULE, description=KEYS_RULE)
        commands.add_parser("status", help="Show whether push is on, and its public key.")

    def handle(self, *args, action: str, **options) -> None:
        if action == "keys":
            self.stdout.write(f"HAVEN_VAPID_PRIVATE_KEY={push.new_private_key()}")
            return
        public = push.application_server_key()
        if not public:
            self.stdout.write("Push is off: HAVEN_VAPID_PRIVATE_KEY is not set.")
        else:
            self.stdout.write(f"Push is on. Public key (applicationServerKey): {public}")
