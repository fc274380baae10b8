"""A test base for e-mail: a throwaway PKI, settings that point at a test server, and the worker."""

import shutil
import tempfile
from pathlib import Path

from django.core.cache import cache
from django.test import override_settings
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from haven.mail.tests.smtp_servers import RunningServer, test_pki
from haven.testing.people import HavenTestCase


def run_outbox() -> None:
    """One batch of django-tasks' own database worker, in this thread and this test's database."""
    Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    ).run()
    failed = list(DBTaskResult.objects.failed().values_list("traceback", flat=True))
    assert not failed, failed


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

    def setUp(self):
        super().setUp()
        cache.clear()
