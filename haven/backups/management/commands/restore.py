"""`haven restore FILE --yes`: replace the database with an encrypted backup (docs/deploy.md)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from haven.backups import services
from haven.backups.stream import BackupError


class Command(BaseCommand):
    help = (
        "Replace the configured database with the backup FILE made by `haven backup`. Stop "
        "Haven and its workers first. The whole file is decrypted and checked before the "
        "database is touched; a wrong key or a changed or cut file restores nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="a haven-YYYYMMDD-HHMMSS.backup file")
        parser.add_argument(
            "--yes",
            action="store_true",
            help="confirm: everything now in the database is replaced by the backup",
        )

    def handle(self, *args, file: Path, yes: bool = False, **options):
        if not file.is_file():
            raise CommandError(f"{file}: no such file")
        if not yes:
            raise CommandError(
                "restore replaces everything in the database with the backup: "
                "run again with --yes to confirm"
            )
        try:
            kind, size = services.restore_backup(file)
        except BackupError as error:
            raise CommandError(f"{error}; nothing restored") from error
        self.stdout.write(f"restored {file} into the {kind} database ({size} bytes)")
