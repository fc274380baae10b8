"""Background work of finding care, run by `haven db_worker` (django-tasks, database backend)."""

from django_tasks import task

from haven.care import services


@task()
def send_reminder(reminder_id: int) -> str:
    """Send one appointment reminder at its time, if the appointment still stands and the person
    takes appointment reminders by e-mail (CARE-2)."""
    return services.reminder_send(reminder_id=reminder_id)


@task()
def send_due_reminders() -> int:
    """Catch up on reminders whose own task did not run (the worker was down, say)."""
    return services.reminders_send_due()
