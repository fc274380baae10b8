"""`haven backup` and `haven restore`: the configured database to one encrypted file and back.

SQLite: the sqlite3 online backup API copies a consistent snapshot to a private temporary file,
which is encrypted into HAVEN_BACKUP_DIR; restore decrypts and checks the whole file first, then
replaces the database file atomically. PostgreSQL: `pg_dump --format=custom` streams into the
encryption; restore decrypts to a private temporary file, then `pg_restore --clean --if-exists
--no-owner --single-transaction` into the configured database. The password goes to the clients
in PGPASSWORD, never on the command line. Nothing is restored unless every chunk decrypts.
"""

import os
import shutil
import sqlite3
import subprocess  # noqa: S404  (pg_dump and pg_restore, fixed argument lists)  # nosec B404
import tempfile
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import connections

from haven.backups import stream
from haven.backups.stream import BackupError


def backup_key() -> bytes:
    value = getattr(settings, "HAVEN_BACKUP_KEY", "") or ""
    if not value:
        raise BackupError(
            "HAVEN_BACKUP_KEY is not set: backups are encrypted, so give it 32 random bytes in "
            "base64 (python -c 'import os,base64; print(base64.b64encode(os.urandom(32)).decode())')"
            " and keep a copy of the key away from the backups"
        )
    return stream.parse_key(value)


def backup_dir() -> Path:
    value = getattr(settings, "HAVEN_BACKUP_DIR", "") or ""
    if not value:
        raise BackupError("HAVEN_BACKUP_DIR is not set: where should the backup go?")
    path = Path(value)
    if not path.is_dir():
        raise BackupError(f"HAVEN_BACKUP_DIR={value} is not a directory")
    return path


def _database() -> tuple[str, dict]:
    db = settings.DATABASES["default"]
    engine = db["ENGINE"]
    if engine == "django.db.backends.sqlite3":
        return "sqlite", db
    if engine == "django.db.backends.postgresql":
        return "postgresql", db
    raise BackupError(f"no backup for database engine {engine}")


def _client(name: str) -> str:
    """The PostgreSQL client program's full path (Debian: postgresql-client, same major version
    as the server or newer)."""
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed (Debian: apt install postgresql-client)")
    return path


def _pg_args_env(db: dict) -> tuple[list[str], dict[str, str]]:
    args = []
    if db.get("HOST"):
        args += ["--host", str(db["HOST"])]
    if db.get("PORT"):
        args += ["--port", str(db["PORT"])]
    if db.get("USER"):
        args += ["--username", str(db["USER"])]
    env = dict(os.environ)
    env.pop("PGPASSWORD", None)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    sslmode = (db.get("OPTIONS") or {}).get("sslmode")
    if sslmode:
        env["PGSSLMODE"] = str(sslmode)
    return [*args, "--no-password", "--dbname", str(db["NAME"])], env


@contextmanager
def _private_file(directory: Path | None = None, suffix: str = ""):
    """A new file only this user can read (0600), removed afterwards unless kept."""
    fd, name = tempfile.mkstemp(dir=directory, prefix=".haven-", suffix=suffix)
    os.fchmod(fd, 0o600)
    os.close(fd)
    path = Path(name)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def backup_name(now: datetime | None = None) -> str:
    return f"haven-{(now or datetime.now(UTC)):%Y%m%d-%H%M%S}.backup"


def make_backup(*, chunk_size: int = stream.DEFAULT_CHUNK) -> tuple[Path, int]:
    """Write one encrypted backup of the default database; returns (path, plaintext bytes)."""
    key = backup_key()
    directory = backup_dir()
    kind, db = _database()
    final = directory / backup_name()
    if final.exists():
        raise BackupError(f"{final} already exists: one backup per second at most")
    with _private_file(directory, ".partial") as partial:
        with partial.open("wb") as target:
            if kind == "sqlite":
                size = _sqlite_backup(db, target, key, chunk_size)
            else:
                size = _postgres_backup(db, target, key, chunk_size)
            target.flush()
            os.fsync(target.fileno())
        os.replace(partial, final)
    return final, size


def _sqlite_backup(db: dict, target, key: bytes, chunk_size: int) -> int:
    with tempfile.TemporaryDirectory(prefix="haven-backup-") as scratch:
        snapshot = Path(scratch) / "snapshot.sqlite3"
        source = sqlite3.connect(db["NAME"])
        try:
            dest = sqlite3.connect(snapshot)
            try:
                source.backup(dest)
            finally:
                dest.close()
        finally:
            source.close()
        with snapshot.open("rb") as plain:
            return stream.encrypt_stream(plain, target, key, kind="sqlite", chunk_size=chunk_size)


def _postgres_backup(db: dict, target, key: bytes, chunk_size: int) -> int:
    args, env = _pg_args_env(db)
    process = subprocess.Popen(  # noqa: S603  # nosec B603  # pg_dump, fixed arguments, no shell
        [_client("pg_dump"), "--format=custom", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        size = stream.encrypt_stream(
            process.stdout, target, key, kind="postgresql", chunk_size=chunk_size
        )
    finally:
        process.stdout.close()
        errors = process.stderr.read().decode(errors="replace").strip()
        process.wait()
    if process.returncode != 0:
        raise BackupError(f"pg_dump failed ({process.returncode}): {errors}")
    return size


def restore_backup(path: Path) -> tuple[str, int]:
    """Replace the default database with the backup at `path`; returns (kind, plaintext bytes).

    The whole file is decrypted and checked before the database is touched.
    """
    key = backup_key()
    kind, db = _database()
    with path.open("rb") as source:
        _header, file_kind, _key_id, _chunk = stream.read_header(source)
    if file_kind != kind:
        raise BackupError(f"this is a {file_kind} backup; the configured database is {kind}")
    if kind == "sqlite":
        return kind, _sqlite_restore(db, path, key)
    return kind, _postgres_restore(db, path, key)


def _sqlite_restore(db: dict, path: Path, key: bytes) -> int:
    database = Path(db["NAME"])
    with _private_file(database.parent, ".restoring") as restored:
        with path.open("rb") as source, restored.open("wb") as target:
            _kind, size = stream.decrypt_stream(source, target, key)
            target.flush()
            os.fsync(target.fileno())
        check = sqlite3.connect(restored)
        try:
            result = check.execute("PRAGMA integrity_check").fetchone()[0]
        except sqlite3.DatabaseError as error:
            raise BackupError(
                f"the decrypted backup is not a sound SQLite database: {error}"
            ) from error
        finally:
            check.close()
        if result != "ok":
            raise BackupError(f"the decrypted backup failed SQLite's integrity check: {result}")
        connections.close_all()
        if database.exists():
            # Fold the old write-ahead log in and drop it, so it cannot be replayed onto the
            # restored file.
            old = sqlite3.connect(database)
            try:
                old.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                old.close()
            for suffix in ("-wal", "-shm"):
                Path(f"{database}{suffix}").unlink(missing_ok=True)
        os.replace(restored, database)
    return size


def _postgres_restore(db: dict, path: Path, key: bytes) -> int:
    pg_restore = _client("pg_restore")
    with tempfile.TemporaryDirectory(prefix="haven-restore-") as scratch:
        dump = Path(scratch) / "haven.dump"
        with path.open("rb") as source, dump.open("wb") as target:
            os.fchmod(target.fileno(), 0o600)
            _kind, size = stream.decrypt_stream(source, target, key)
        args, env = _pg_args_env(db)
        connections.close_all()
        result = subprocess.run(  # noqa: S603  # nosec B603  # pg_restore, fixed arguments, no shell
            [
                pg_restore,
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "--exit-on-error",
                *args,
                str(dump),
            ],
            capture_output=True,
            env=env,
            check=False,
        )
    if result.returncode != 0:
        raise BackupError(
            f"pg_restore failed ({result.returncode}); the database is as it was: "
            + result.stderr.decode(errors="replace").strip()
        )
    return size
