"""The jobs that keep the notice's retention periods true (NOT-6): each reads its period from
`haven.privacy.facts`, the same function the notice states it from.

- `consents_purge`: a consent record is history once a later choice (same person, subject and
  scope) replaces it; it is deleted when that later choice is older than
  `facts.consent_retention_days()`. The choice in force is never deleted: it is the proof of what
  the person agreed to. On PostgreSQL the append-only trigger lets only this purge delete, and
  only such rows (migration 0003).
- `backups_prune`: backup files in `facts.backup_dir()` older than
  `facts.backup_retention_days()` are deleted.

The audit trail is append-only and never shortened: the notice states its period as a minimum.
"""

from datetime import datetime, timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from haven.privacy import facts
from haven.privacy.models import ConsentRecord


def consent_cutoff(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(days=facts.consent_retention_days())


def consents_past_retention(now: datetime | None = None):
    """Records replaced by a later choice of the same person that is itself past retention."""
    cutoff = consent_cutoff(now)
    later = ConsentRecord.objects.filter(
        subject=OuterRef("subject"),
        scope=OuterRef("scope"),
        pk__gt=OuterRef("pk"),
        recorded_at__gte=OuterRef("recorded_at"),
        recorded_at__lt=cutoff,
    )
    by_user = ConsentRecord.objects.filter(user__isnull=False).filter(
        Exists(later.filter(user=OuterRef("user")))
    )
    by_visitor = ConsentRecord.objects.filter(user__isnull=True).filter(
        Exists(later.filter(user__isnull=True, visitor=OuterRef("visitor")))
    )
    return by_user | by_visitor


def consents_purge(now: datetime | None = None, batch_size: int = 1000) -> int:
    """Delete consent records past retention, oldest first, in batches; returns how many."""
    cutoff = consent_cutoff(now)
    deleted = 0
    while True:
        ids = list(
            consents_past_retention(now).order_by("pk").values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return deleted
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT set_config('haven.consent_purge_before', %s, true)",
                        [cutoff.isoformat()],
                    )
            # A queryset delete: ConsentRecord.delete(), which refuses, is for single records.
            deleted += ConsentRecord.objects.filter(pk__in=ids).delete()[0]


def backups_prune(now: datetime | None = None) -> list[str]:
    """Delete backup files older than the retention the notice states; returns their names."""
    directory = facts.backup_dir()
    if not directory:
        raise ImproperlyConfigured("HAVEN_BACKUP_DIR is not set: where are the backups?")
    cutoff = (now or timezone.now()).timestamp() - facts.backup_retention_days() * 86400
    removed = []
    for path in sorted(Path(directory).iterdir()):
        if path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink()
            removed.append(path.name)
    return removed
