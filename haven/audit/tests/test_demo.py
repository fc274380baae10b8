import shutil
import tempfile
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import TransactionTestCase, override_settings

from haven.accounts.models import User
from haven.audit.models import AuditEvent, TrainingAttestation
from haven.caregivers.models import Grant, Scope
from haven.caregivers.services import grant_for
from haven.producers.models import Producer


class DemoTests(TransactionTestCase):
    """`haven demo` runs its own transaction and the accessor's records commit after it, so this
    needs real transactions."""

    def setUp(self):
        folder = tempfile.mkdtemp(prefix="haven-demo-checkpoints-")
        self.addCleanup(shutil.rmtree, folder, True)
        override = override_settings(HAVEN_AUDIT_CHECKPOINT_DIR=folder)
        override.enable()
        self.addCleanup(override.disable)

    @pytest.mark.promise("AUD-6")
    def test_the_demo_trail_verifies_and_loading_the_demo_again_changes_nothing(self):
        call_command("demo", stdout=StringIO())
        staff = User.objects.filter(kind=User.Kind.STAFF)
        self.assertEqual(
            TrainingAttestation.objects.current().values("staff").distinct().count(), staff.count()
        )
        events = AuditEvent.objects.count()
        self.assertGreater(events, 5)
        self.assertTrue(AuditEvent.objects.filter(flagged=True).exists())
        call_command("demo", stdout=StringIO())
        self.assertEqual(AuditEvent.objects.count(), events)
        self.assertEqual(TrainingAttestation.objects.count(), staff.count())
        call_command("audit", "checkpoint", stdout=StringIO())
        out = StringIO()
        call_command("audit", "verify", stdout=out)
        self.assertIn(f"verified {events} records, chain intact", out.getvalue())

    @pytest.mark.promise("ACC-8")
    @pytest.mark.promise("ACC-9")
    def test_the_demo_has_the_grants_producers_and_sign_ins_the_readme_lists(self):
        out = StringIO()
        call_command("demo", stdout=out)
        grants = list(Grant.objects.order_by("pk").values_list("pk", "member_id", "grantee_id"))
        producers = list(Producer.objects.order_by("pk").values_list("pk", "status"))
        call_command("demo", stdout=StringIO())
        self.assertEqual(
            list(Grant.objects.order_by("pk").values_list("pk", "member_id", "grantee_id")),
            grants,
        )
        self.assertEqual(
            list(Producer.objects.order_by("pk").values_list("pk", "status")), producers
        )

        maria = User.objects.get(username="maria")
        elena = User.objects.get(username="elena").member
        self.assertIsNotNone(grant_for(maria, elena, Scope.MESSAGES))
        self.assertIsNone(grant_for(maria, elena, Scope.CLAIMS))
        alice = User.objects.get(username="alice")
        minors = Grant.objects.current().filter(grantee=alice, kind=Grant.Kind.GUARDIAN)
        self.assertEqual(
            sorted(minors.values_list("member__first_name", flat=True)), ["Carla", "Diego"]
        )
        self.assertEqual(len(grants), 3)

        by_user = {p.user.username: p for p in Producer.objects.select_related("user")}
        self.assertEqual(by_user["rosa"].status, Producer.Status.APPROVED)
        self.assertEqual(by_user["northwind"].kind, Producer.Kind.AGENCY)
        self.assertEqual(by_user["northwind"].status, Producer.Status.APPROVED)
        self.assertEqual(by_user["tomas"].status, Producer.Status.PENDING)

        # Every sign-in printed exists with the demo password, and the README lists each.
        printed = [
            line.split()[0] for line in out.getvalue().splitlines()[1:] if line.startswith("  ")
        ]
        readme = (settings.PROJECT_DIR / "README.md").read_text()
        for username in printed:
            user = User.objects.get(username=username)
            self.assertTrue(user.check_password("haven-demo-2026"), username)
            self.assertIn(f"| {username} |", readme)
        self.assertGreaterEqual(len(printed), 18)
