"""Background work for e-mail, run by `haven db_worker` (django-tasks, database backend)."""

from datetime import timedelta

from django_tasks import task

from haven.mail import services


@task()
def send_outgoing_email(email_id: int) -> str:
    """Send one e-mail from the outbox; failures are retried with backoff by the service."""
    return services.outgoing_email_send(email_id=email_id)


@task()
def purge_portal_messages() -> dict[str, int]:
    """Portal messages live HAVEN_PORTAL_MESSAGE_DAYS days, then they are deleted (MAIL-3)."""
    return services.portal_purge_expired()


@task()
def rescan_portal_quarantine() -> int:
    """Screen portal messages that waited for the scanner; try again later while it is down."""
    waiting = services.portal_quarantine_rescan()
    if waiting:
        services.schedule_portal_rescan(timedelta(minutes=15))
    return waiting
