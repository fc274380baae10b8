"""Payment partners receive premium bills only: member ID, amount and due date, each a disclosure
recorded by the privacy center through the accessor (DIS-4)."""

import csv
import io
import tempfile
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command

from haven.audit import access
from haven.audit.models import EventType
from haven.audit.policy import Purpose, Resource
from haven.employers.models import PaymentPartner, PremiumBill
from haven.employers.services import (
    BillingError,
    payment_partner_add,
    premium_bills_load,
    premium_bills_send,
)
from haven.plans.tests.fixtures import set_up_plan_and_claims
from haven.privacy.models import Disclosure, Recipient
from haven.privacy.services import NotRegistered
from haven.testing.people import HavenTestCase

BILLS = (
    "member_id,period,amount,due_date\n"
    "M-ALICE,2026-06,412.50,2026-06-01\n"
    "M-ELENA,2026-06,298.00,2026-06-01\n"
    "M-OSCAR,2026-07,301.00,2026-07-01\n"
    "M-NOBODY,2026-06,10.00,2026-06-01\n"
    "M-ALICE,2026-06-15,10.00,2026-06-01\n"
    "M-ELENA,2026-07,-5,2026-07-01\n"
)


class PremiumTests(HavenTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        set_up_plan_and_claims(cls)
        cls.recipient = Recipient.objects.create(
            name="Keystone Payment Services",
            category="service_provider",
            country="US",
            purposes=["payment"],
            added_by=cls.privacy_officer,
        )
        cls.partner = payment_partner_add(name="Keystone", recipient=cls.recipient)

    def send(self, due_by=date(2026, 6, 30)):
        return premium_bills_send(
            partner=self.partner,
            due_by=due_by,
            actor=access.system("employers.premium-billing"),
        )

    def test_bills_are_loaded_row_by_row_and_loading_again_changes_nothing(self):
        kept, problems = premium_bills_load(BILLS)
        self.assertEqual(kept, 3)
        self.assertEqual(
            problems,
            [
                "line 5: no member has this member ID",
                "line 6: period is not a month (YYYY-MM)",
                "line 7: the amount is negative or has more than two decimals",
            ],
        )
        self.assertEqual(premium_bills_load(BILLS)[0], 3)
        self.assertEqual(PremiumBill.objects.count(), 3)

    @pytest.mark.promise("DIS-4")
    def test_the_payment_partner_receives_member_id_amount_and_due_date_only(self):
        premium_bills_load(BILLS)
        text = self.send()
        rows = list(csv.reader(io.StringIO(text)))
        self.assertEqual(rows[0], ["member_id", "amount", "due_date"])
        self.assertEqual(
            rows[1:], [["M-ALICE", "412.50", "2026-06-01"], ["M-ELENA", "298.00", "2026-06-01"]]
        )
        for secret in ("Alice", "Rivera", "Hartford", "06103", "A-1", "E11.9", "Riverside"):
            self.assertNotIn(secret, text)

        disclosures = Disclosure.objects.filter(recipient=self.recipient).select_related(
            "audit_event"
        )
        self.assertEqual(disclosures.count(), 2)
        for disclosure in disclosures:
            event = disclosure.audit_event
            self.assertEqual(disclosure.purpose, "payment")
            self.assertEqual(event.type, EventType.DISCLOSURE)
            self.assertEqual(event.purpose, Purpose.PAYMENT)
            self.assertEqual(event.recipient, "Keystone Payment Services")
            self.assertEqual(event.entity, {Resource.PREMIUMS: ["member_id", "amount", "due_date"]})
        # Alice's accounting of disclosures names the partner.
        alice = access.history_for(self.alice_member, disclosures_only=True)
        self.assertEqual([event.recipient for event in alice], ["Keystone Payment Services"])
        # Each bill is sent once; Oscar's (due in July) waits.
        self.assertEqual(self.send().strip(), "member_id,amount,due_date")
        self.assertEqual(
            list(
                PremiumBill.objects.filter(partner__isnull=True).values_list(
                    "member__member_id", flat=True
                )
            ),
            ["M-OSCAR"],
        )

    @pytest.mark.promise("DIS-4")
    def test_only_a_registered_recipient_allowed_payment_data_can_be_a_payment_partner(self):
        operations = Recipient.objects.create(
            name="Analytics Co",
            category="service_provider",
            country="US",
            purposes=["operations"],
            added_by=self.privacy_officer,
        )
        with self.assertRaises(BillingError):
            payment_partner_add(name="Analytics", recipient=operations)
        self.assertFalse(PaymentPartner.objects.filter(name="Analytics").exists())

    @pytest.mark.promise("DIS-4")
    def test_a_partner_removed_from_the_registry_receives_nothing(self):
        premium_bills_load(BILLS)
        Recipient.objects.filter(pk=self.recipient.pk).update(active=False)
        with self.assertRaises(NotRegistered):
            self.send()
        self.assertFalse(Disclosure.objects.exists())
        self.assertFalse(PremiumBill.objects.filter(partner__isnull=False).exists())

    def test_the_premiums_command_loads_and_writes_the_partners_file(self):
        folder = self.enterContext(tempfile.TemporaryDirectory())
        bills = f"{folder}/bills.csv"
        out = f"{folder}/keystone.csv"
        with open(bills, "w", encoding="utf-8") as file:
            file.write(BILLS)
        call_command("premiums", "load", bills, stdout=io.StringIO(), stderr=io.StringIO())
        call_command(
            "premiums",
            "send",
            "Keystone",
            "--due-by",
            "2026-07-31",
            "--out",
            out,
            stdout=io.StringIO(),
        )
        with open(out, encoding="utf-8") as file:
            self.assertEqual(len(file.read().splitlines()), 4)
        self.assertEqual(
            PremiumBill.objects.get(member=self.oscar_member).amount, Decimal("301.00")
        )
