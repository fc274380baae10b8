"""Background work of the privacy center, run by `haven db_worker` (django-tasks, database backend).

Each is enqueued in the transaction that creates its cause (a request, a publication, an incident).
"""

from django_tasks import task

from haven.privacy import retention, services


@task()
def build_archive(archive_id: int) -> str:
    """Gather everything Haven holds about the member into their access archive (RIG-1)."""
    return services.archive_build(archive_id=archive_id)


@task()
def run_notice_campaign(campaign_id: int, user_ids: list[int] | None = None) -> int:
    """Tell every account holder of a notice version, by e-mail or in the portal (NOT-4)."""
    return services.notice_campaign_run(campaign_id=campaign_id, user_ids=user_ids)


@task()
def notify_incident(incident_id: int) -> int:
    """Notify each member an incident affected, by their channels and in the portal (RIG-6)."""
    return services.incident_notify_run(incident_id=incident_id)


@task()
def retention_run() -> int:
    """The nightly retention run (LOG-5), as `haven privacy retention`; returns the erased count."""
    return sum(entry.erased for entry in retention.run())
