"""Background work for the message center."""

from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from haven.messaging import services


@task()
def rescan_quarantined() -> int:
    """Screen files and messages that waited for the scanner; try again later if it is still down."""
    waiting = services.quarantine_rescan()
    if waiting:
        rescan_quarantined.using(run_after=timezone.now() + timedelta(minutes=15)).enqueue()
    return waiting
