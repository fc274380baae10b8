"""A test base for e-mail: a throwaway PKI, settings that point at a test server, and the worker."""

import shutil
import tempfile
from pathlib import Path

from django.test import override_settings

from haven.mail.tests.smtp_servers import RunningServer, test_pki
from haven.testing.people import HavenTestCase
from haven.testing.tasks import run_queued_tasks


def run_outbox() -> None:
    """Run every queued task once, in this thread and this test's database."""
    run_queued_tasks("test-worker")


def relay(server: RunningServer, pki, *, tls: str = "starttls", **more):
    """Settings for relay delivery through this test server."""
    return override_settings(
        HAVEN_SMTP_HOST="localhost",
        HAVEN_SMTP_PORT=server.port,
        HAVEN_SMTP_TLS=tls,
        HAVEN_SMTP_CA_FILE=pki.ca_file,
        HAVEN_SMTP_TIMEOUT=5,
        HAVEN_MAIL_DELIVERY="relay",
        **more,
    )


class MailTestCase(HavenTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pki_dir = Path(tempfile.mkdtemp(prefix="haven-mail-pki-"))
        cls.pki = test_pki(cls.pki_dir)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.pki_dir, ignore_errors=True)
        super().tearDownClass()
