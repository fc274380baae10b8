import shutil
import tempfile
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import TransactionTestCase, override_settings

from haven.accounts.models import User
from haven.audit.models import AuditEvent, TrainingAttestation


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
