"""Run queued background tasks inside a test, with django-tasks' own database worker."""

from datetime import timedelta
from unittest import mock

from django.utils import timezone
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult


def run_queued_tasks(worker_id: str = "test-worker") -> None:
    """One batch of the worker, in this thread and this test's transaction; fail on any failed task.

    The worker closes connections it thinks are stale between tasks; inside a test's transaction
    that would close PostgreSQL's connection under the test, so that check is left out here.
    """
    worker = db_worker.Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=worker_id,
        excluded_queue_names=[],
    )
    with mock.patch.object(db_worker, "close_old_connections", lambda: None):
        worker.run()
    failed = list(DBTaskResult.objects.failed().values_list("traceback", flat=True))
    assert not failed, failed


def make_retries_due(model) -> None:
    """Make every waiting retry of `model`'s outbox due now, as if its backoff had elapsed."""
    past = timezone.now() - timedelta(seconds=1)
    model.objects.filter(status="queued").update(next_attempt_at=past)
    DBTaskResult.objects.filter(status="READY").update(run_after=past)
