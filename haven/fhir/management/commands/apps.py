"""`haven apps register`: an operator registers and approves a third-party app (DIS-8)."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from haven.fhir.services import app_register


class Command(BaseCommand):
    help = (
        "Register a third-party app for the FHIR API: it may ask members only for the scopes "
        "given here, and only redirect to these exact https addresses."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        register = sub.add_parser(
            "register", help="register and approve an app; prints its client ID"
        )
        register.add_argument("--name", required=True)
        register.add_argument(
            "--redirect-uri", action="append", required=True, dest="redirect_uris"
        )
        register.add_argument(
            "--scopes", required=True, help='space-separated, e.g. "launch/patient patient/*.rs"'
        )
        register.add_argument("--developer", default="")
        register.add_argument("--privacy-policy-url", default="")
        register.add_argument("--privacy-practices", default="")
        register.add_argument("--confidential", action="store_true", help="issue a client secret")

    def handle(self, *args, **options):
        try:
            app, secret = app_register(
                name=options["name"],
                redirect_uris=options["redirect_uris"],
                scopes=options["scopes"].split(),
                developer=options["developer"],
                privacy_policy_url=options["privacy_policy_url"],
                privacy_practices=options["privacy_practices"],
                confidential=options["confidential"],
                actor=None,
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(app.application.client_id)
        if secret:
            self.stdout.write(f"client secret (shown once): {secret}")
