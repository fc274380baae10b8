"""`haven premiums load FILE`, `haven premiums partner NAME RECIPIENT`,
`haven premiums send PARTNER --due-by DATE --out FILE`: premium bills for payment partners."""

from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from haven.audit import access
from haven.employers.models import PaymentPartner
from haven.employers.services import (
    BillingError,
    payment_partner_add,
    premium_bills_load,
    premium_bills_send,
)
from haven.privacy.models import Recipient


class Command(BaseCommand):
    help = "Premium bills: load them from the billing system, send them to a payment partner."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        load = actions.add_parser("load", help="load bills: member_id,period,amount,due_date")
        load.add_argument("file")
        partner = actions.add_parser(
            "partner", help="name a payment partner after its entry in the privacy registry"
        )
        partner.add_argument("name")
        partner.add_argument("recipient", help="the recipient's name in the registry")
        send = actions.add_parser(
            "send", help="write the unsent bills due by a date to the partner's file"
        )
        send.add_argument("partner")
        send.add_argument("--due-by", type=date.fromisoformat, default=None)
        send.add_argument("--out", required=True, help="the CSV file to write")

    def handle(self, *args, action, **options):
        try:
            getattr(self, f"_{action}")(**options)
        except BillingError as error:
            raise CommandError(str(error)) from error

    def _load(self, file, **options):
        kept, problems = premium_bills_load(Path(file).read_text(encoding="utf-8-sig"))
        for problem in problems:
            self.stderr.write(problem)
        self.stdout.write(f"{kept} bills kept, {len(problems)} rows rejected")

    def _partner(self, name, recipient, **options):
        entry = Recipient.objects.filter(name=recipient).first()
        if entry is None:
            raise CommandError("no recipient of that name in the privacy registry")
        self.stdout.write(f"payment partner: {payment_partner_add(name=name, recipient=entry)}")

    def _send(self, partner, due_by, out, **options):
        chosen = PaymentPartner.objects.filter(name=partner).select_related("recipient").first()
        if chosen is None:
            raise CommandError("no payment partner of that name")
        text = premium_bills_send(
            partner=chosen,
            due_by=due_by or timezone.localdate(),
            actor=access.system("employers.premium-billing"),
        )
        Path(out).write_text(text, encoding="utf-8")
        self.stdout.write(f"{text.count(chr(10)) - 1} bills written to {out}")
