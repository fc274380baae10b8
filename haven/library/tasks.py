"""Background work of the health programmes, run by `haven db_worker` (django-tasks)."""

from django_tasks import task

from haven.library import services


@task()
def send_due_deliveries() -> int:
    """Send the reminders and questionnaires now due, only by the channels members accepted."""
    return services.send_due()
