"""RIG-3, RIG-4, DIS-5, DIS-6: the recipients registry, the accounting of disclosures from the
audit trail, disclosures required by law with their legal basis, and no path to anyone else."""

import ast
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from haven.audit.models import AuditEvent, EventType
from haven.audit.tests.training import train_all_staff
from haven.privacy import services
from haven.privacy.models import Disclosure, DisclosurePurpose, RecipientCategory
from haven.privacy.tests.helpers import recipient
from haven.testing.people import HavenTestCase

HAVEN = Path(settings.BASE_DIR)


class RegistryTests(HavenTestCase):
    @pytest.mark.promise("RIG-3")
    def test_the_officer_maintains_the_registry_and_anyone_sees_it_with_countries(self):
        officer = self.sign_in(self.privacy_officer, self.client_class())
        officer.post(
            reverse("privacy:staff_recipients"),
            {
                "name": "Haven Health Services BV",
                "category": "affiliate",
                "country": "be",
                "address": "Antwerp",
                "description": "Claims abroad",
                "purposes": ["operations", "payment"],
                "active": "on",
            },
        )
        page = self.client.get(reverse("privacy:recipients"))
        self.assertContains(page, "Haven Health Services BV")
        self.assertContains(page, "<td>BE</td>", html=False)
        self.assertContains(page, "1 recipient is outside US")
        self.assertContains(page, "Health care operations, Payment")

    @pytest.mark.promise("RIG-3")
    def test_only_the_privacy_officer_changes_the_registry(self):
        with self.assertRaises(PermissionDenied):
            services.recipient_save(
                recipient=None,
                actor=self.representative,
                name="X",
                category="affiliate",
                country="US",
                purposes=["payment"],
            )


class DisclosureTests(HavenTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        train_all_staff(cls)
        cls.agency = recipient(
            cls.privacy_officer,
            "Connecticut Insurance Department",
            category=RecipientCategory.OVERSIGHT,
            purposes=(DisclosurePurpose.REQUIRED_BY_LAW,),
            address="153 Market Street, Hartford",
        )
        cls.processor = recipient(cls.privacy_officer, "Northwind Claims")

    @pytest.mark.promise("DIS-5")
    @pytest.mark.promise("RIG-4")
    def test_a_disclosure_required_by_law_is_recorded_with_its_basis_and_shows_in_the_accounting(
        self,
    ):
        officer = self.sign_in(self.privacy_officer, self.client_class())
        officer.post(
            reverse("privacy:staff_disclosure"),
            {
                "member_id": "M-ALICE",
                "recipient": self.agency.pk,
                "purpose": "required_by_law",
                "resources": ["demographics", "claims"],
                "description": "Claims of 2025 for a market conduct examination",
                "legal_basis": "Conn. Gen. Stat. 38a-15, examination order 2026-114",
            },
        )
        disclosure = Disclosure.objects.get()
        self.assertEqual(disclosure.audit_event.type, EventType.DISCLOSURE)
        self.assertEqual(disclosure.audit_event.recipient, "Connecticut Insurance Department")
        self.sign_in(self.alice)
        page = self.client.get(reverse("privacy:accounting"))
        self.assertContains(page, "Connecticut Insurance Department")
        self.assertContains(page, "153 Market Street, Hartford")
        self.assertContains(page, "Claims of 2025 for a market conduct examination")
        self.assertContains(page, "Required by law")
        self.assertContains(page, "examination order 2026-114")

    @pytest.mark.promise("DIS-5")
    def test_a_disclosure_required_by_law_needs_the_officer_and_a_legal_basis(self):
        with self.assertRaises(ValidationError):
            services.disclosure_record(
                member=self.alice_member,
                recipient=self.agency,
                purpose="required_by_law",
                resources=["demographics"],
                description="Roster",
                legal_basis=" ",
                actor=self.privacy_officer,
            )
        with self.assertRaises(PermissionDenied):
            services.disclosure_record(
                member=self.alice_member,
                recipient=self.agency,
                purpose="required_by_law",
                resources=["demographics"],
                description="Roster",
                legal_basis="A statute",
                actor=self.staff["compliance"],
            )
        self.assertFalse(AuditEvent.objects.filter(type=EventType.DISCLOSURE).exists())

    @pytest.mark.promise("RIG-4")
    def test_the_accounting_covers_six_years_and_only_the_members_own_disclosures(self):
        made = services.disclosure_record(
            member=self.bruno_member,
            recipient=self.agency,
            purpose="required_by_law",
            resources=["demographics"],
            description="Roster entry",
            legal_basis="Audit order",
            actor=self.privacy_officer,
        )
        self.sign_in(self.alice)
        self.assertNotContains(self.client.get(reverse("privacy:accounting")), "Roster entry")
        self.assertEqual(len(services.accounting_for(self.bruno_member)), 1)
        later = made.disclosed_at.replace(year=made.disclosed_at.year + 7)
        self.assertEqual(services.accounting_for(self.bruno_member, now=later), [])

    @pytest.mark.promise("DIS-6")
    def test_the_recorder_refuses_anyone_outside_the_registry_or_a_purpose_not_allowed(self):
        attempts = [
            {"recipient": "Acme Data Brokers"},
            {"recipient": self.processor, "purpose": "operations"},
            {"recipient": self.processor, "purpose": "sale"},
        ]
        for attempt in attempts:
            with self.assertRaises(services.NotRegistered):
                services.disclosure_record(
                    member=self.alice_member,
                    resources=["demographics"],
                    description="Roster",
                    actor=self.privacy_officer,
                    **({"purpose": "payment"} | attempt),
                )
        self.processor.active = False
        self.processor.save()
        with self.assertRaises(services.NotRegistered):
            services.disclosure_record(
                member=self.alice_member,
                recipient=self.processor,
                purpose="payment",
                resources=["demographics"],
                description="Roster",
                actor=self.privacy_officer,
            )
        self.assertFalse(AuditEvent.objects.filter(type=EventType.DISCLOSURE).exists())

    @pytest.mark.promise("DIS-6")
    def test_there_is_no_purpose_for_selling_or_renting_data(self):
        words = " ".join(f"{value} {label}" for value, label in DisclosurePurpose.choices).lower()
        for word in ("sell", "sale", "rent", "broker", "advertis", "market"):
            self.assertNotIn(word, words)

    @pytest.mark.promise("DIS-6")
    def test_no_code_path_sends_personal_data_to_a_recipient_outside_a_registry(self):
        """Scan every module of Haven for writers of disclosures: the accessor's disclose() and
        Disclosure rows. Only the recorder (privacy.services, which demands the officer's
        registry) and the FHIR API (to the app the member authorised, the member's own registry
        of apps) may write one; any new writer fails this test."""
        allowed = {
            "privacy/services.py": "recipient.name",
            "fhir/views.py": "authorisation.app.name",
        }
        found = {}
        for path in HAVEN.rglob("*.py"):
            parts = path.relative_to(HAVEN).parts
            if "tests" in parts or "migrations" in parts or parts[0] == ".venv":
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            name = str(path.relative_to(HAVEN))
            for node in ast.walk(tree):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                    continue
                if node.func.attr == "disclose":
                    recipient = next(
                        (ast.unparse(k.value) for k in node.keywords if k.arg == "recipient"), ""
                    )
                    found.setdefault(name, set()).add(recipient)
                elif node.func.attr in ("create", "bulk_create", "get_or_create") and (
                    "Disclosure" in ast.unparse(node.func.value)
                ):
                    found.setdefault(name, set()).add("Disclosure row")
        self.assertLessEqual(set(found), set(allowed), "a new writer of disclosures")
        for name, recipients in found.items():
            self.assertLessEqual(recipients - {"Disclosure row"}, {allowed[name]}, name)
        self.assertIn("privacy/services.py", found)
