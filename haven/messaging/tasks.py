"""Background work for the message center."""

from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from haven.messaging import services
from haven.messaging.models import Broadcast


@task()
def rescan_quarantined() -> int:
    """Screen files and messages that waited for the scanner; try again later if it is still down."""
    waiting = services.quarantine_rescan()
    if waiting:
        rescan_quarantined.using(run_after=timezone.now() + timedelta(minutes=15)).enqueue()
    return waiting


@task()
def deliver_broadcast(broadcast_pk: int) -> int:
    """Write every member's copy of a plan message posted to a large audience (MSG-1)."""
    broadcast = Broadcast.objects.select_related("sender").get(pk=broadcast_pk)
    return services.broadcast_deliver(broadcast=broadcast)


@task()
def send_outgoing_text(text_id: int) -> str:
    """Send one text notification from the SMS outbox; failures are retried with backoff."""
    return services.outgoing_text_send(text_id=text_id)


@task()
def send_outgoing_push(push_id: int) -> str:
    """Send one push notification from the push outbox; failures are retried with backoff."""
    return services.outgoing_push_send(push_id=push_id)
