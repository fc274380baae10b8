"""`haven backup`: one encrypted file of the database in HAVEN_BACKUP_DIR (docs/deploy.md)."""

from django.core.management.base import BaseCommand, CommandError

from haven.backups import services
from haven.backups.stream import BackupError


class Command(BaseCommand):
    help = (
        "Write one encrypted backup of the database (SQLite or PostgreSQL) to HAVEN_BACKUP_DIR "
        "as haven-YYYYMMDD-HHMMSS.backup, encrypted with HAVEN_BACKUP_KEY. Run daily, then "
        "`haven privacy backups` to delete those past HAVEN_BACKUP_RETENTION_DAYS."
    )

    def handle(self, *args, **options):
        try:
            path, size = services.make_backup()
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"wrote {path} ({size} bytes of database, encrypted)")
