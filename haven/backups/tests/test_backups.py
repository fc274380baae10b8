"""`haven backup` / `haven restore`: the chunked AES-GCM format, and real round trips of a
SQLite file database and a throwaway PostgreSQL database through the `haven` console script."""

import base64
import io
import os
import sqlite3
import struct
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import override_settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from haven.backups import stream
from haven.backups.stream import BackupError

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
CHUNK = 16
SEALED = CHUNK + stream.TAG_BYTES
# Sizes around the chunk boundaries: empty, one byte, exactly one chunk, one either side...
SIZES = st.one_of(
    st.sampled_from([0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 1]),
    st.integers(min_value=0, max_value=6 * CHUNK),
)
FAST = hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def seal(data: bytes, key: bytes = KEY, kind: str = "sqlite") -> bytes:
    out = io.BytesIO()
    stream.encrypt_stream(io.BytesIO(data), out, key, kind=kind, chunk_size=CHUNK)
    return out.getvalue()


def unseal(sealed: bytes, key: bytes = KEY) -> tuple[str, bytes]:
    out = io.BytesIO()
    kind, size = stream.decrypt_stream(io.BytesIO(sealed), out, key)
    assert size == len(out.getvalue())
    return kind, out.getvalue()


@FAST
@given(size=SIZES)
def test_round_trip_and_layout(size):
    data = os.urandom(size)
    sealed = seal(data, kind="postgresql")
    chunks = max(1, -(-size // CHUNK))
    assert len(sealed) == stream.HEADER_BYTES + size + chunks * stream.TAG_BYTES
    # A few random bytes can turn up anywhere in random-looking output; sixteen cannot.
    assert size < 16 or data not in sealed
    assert unseal(sealed) == ("postgresql", data)


def test_two_files_of_the_same_data_differ():
    data = b"x" * 100
    assert seal(data)[stream.HEADER_BYTES :] != seal(data)[stream.HEADER_BYTES :]


@FAST
@given(size=SIZES, data=st.data())
def test_any_changed_byte_is_refused(size, data):
    sealed = bytearray(seal(os.urandom(size)))
    position = data.draw(st.integers(min_value=0, max_value=len(sealed) - 1))
    sealed[position] ^= data.draw(st.integers(min_value=1, max_value=255))
    with pytest.raises(BackupError):
        unseal(bytes(sealed))


@FAST
@given(size=SIZES, data=st.data())
def test_any_cut_is_refused(size, data):
    sealed = seal(os.urandom(size))
    length = data.draw(st.integers(min_value=0, max_value=len(sealed) - 1))
    with pytest.raises(BackupError):
        unseal(sealed[:length])


@FAST
@given(size=st.integers(min_value=CHUNK + 1, max_value=6 * CHUNK))
def test_cut_at_a_chunk_boundary_is_named(size):
    sealed = seal(os.urandom(size))
    with pytest.raises(BackupError, match="cut short at chunk 0"):
        unseal(sealed[: stream.HEADER_BYTES + SEALED])


@FAST
@given(size=st.integers(min_value=2 * CHUNK, max_value=6 * CHUNK))
def test_reordered_chunks_are_refused(size):
    sealed = seal(os.urandom(size))
    header, body = sealed[: stream.HEADER_BYTES], sealed[stream.HEADER_BYTES :]
    swapped = body[SEALED : 2 * SEALED] + body[:SEALED] + body[2 * SEALED :]
    with pytest.raises(BackupError, match="chunk 0"):
        unseal(header + swapped)


def test_appended_chunk_is_refused():
    sealed = seal(os.urandom(3 * CHUNK))
    with pytest.raises(BackupError):
        unseal(sealed + sealed[stream.HEADER_BYTES : stream.HEADER_BYTES + SEALED])


@FAST
@given(size=SIZES)
def test_wrong_key_is_named_and_writes_nothing(size):
    sealed = seal(os.urandom(size))
    out = io.BytesIO()
    with pytest.raises(BackupError, match="made with another key"):
        stream.decrypt_stream(io.BytesIO(sealed), out, OTHER_KEY)
    assert out.getvalue() == b""


def test_forged_key_id_still_fails_to_decrypt():
    sealed = bytearray(seal(b"secret member data" * 3))
    sealed[10:18] = stream.key_id(OTHER_KEY)  # claims the other key
    with pytest.raises(BackupError, match="damaged"):
        unseal(bytes(sealed), OTHER_KEY)


def test_header_is_checked():
    with pytest.raises(BackupError, match="not a Haven backup"):
        unseal(b"SQLite format 3\x00" + b"\x00" * 100)
    sealed = bytearray(seal(b"data"))
    sealed[8] = 2
    with pytest.raises(BackupError, match="version 2"):
        unseal(bytes(sealed))
    sealed = bytearray(seal(b"data"))
    struct.pack_into(">I", sealed, 18, CHUNK + 1)  # a changed chunk size is in the AAD too
    with pytest.raises(BackupError):
        unseal(bytes(sealed))


def test_key_must_be_32_bytes_of_base64():
    assert stream.parse_key(base64.b64encode(KEY).decode()) == KEY
    with pytest.raises(BackupError, match="32 bytes"):
        stream.parse_key(base64.b64encode(b"short").decode())
    with pytest.raises(BackupError, match="base64"):
        stream.parse_key("not base64!")


def test_backup_refuses_without_a_key(tmp_path):
    with override_settings(HAVEN_BACKUP_KEY="", HAVEN_BACKUP_DIR=str(tmp_path)):
        with pytest.raises(CommandError, match="HAVEN_BACKUP_KEY is not set"):
            call_command("backup")
    assert list(tmp_path.iterdir()) == []


def test_restore_asks_for_yes(tmp_path):
    file = tmp_path / "haven-20260101-000000.backup"
    file.write_bytes(seal(b"whatever"))
    with override_settings(HAVEN_BACKUP_KEY=base64.b64encode(KEY).decode()):
        with pytest.raises(CommandError, match="--yes"):
            call_command("restore", str(file))


# Real round trips through the console script, each on its own database.


def haven(env: dict, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "haven.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        cwd=settings.PROJECT_DIR,
        timeout=120,
        check=False,
    )
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def environment(tmp_path: Path, database_url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HAVEN_", "PG"))}
    backups = tmp_path / "backups"
    backups.mkdir()
    env.update(
        DATABASE_URL=database_url,
        HAVEN_ENV="local",
        HAVEN_BACKUP_DIR=str(backups),
        HAVEN_BACKUP_KEY=base64.b64encode(KEY).decode(),
        DJANGO_SETTINGS_MODULE="haven.settings",
    )
    return env


INSERT = """
from django.contrib.auth import get_user_model
User = get_user_model()
for n in range(5):
    User.objects.create_user(username=f"member{n}", email=f"m{n}@example.org", password=None,
                             first_name=f"Name{n}")
"""
DELETE = "from django.contrib.auth import get_user_model; get_user_model().objects.all().delete()"


def round_trip(tmp_path: Path, env: dict, snapshot) -> None:
    """migrate, insert, backup, delete, restore (a wrong key first): every row is back."""
    haven(env, "migrate", "-v0")
    haven(env, "shell", "-c", INSERT)
    before = snapshot()
    assert before["accounts_user"][0] == 5

    out = haven(env, "backup").stdout
    (file,) = Path(env["HAVEN_BACKUP_DIR"]).iterdir()
    assert file.name.startswith("haven-") and file.name.endswith(".backup")
    assert len(file.name) == len("haven-YYYYMMDD-HHMMSS.backup")
    assert str(file) in out
    assert file.stat().st_mode & 0o777 == 0o600
    assert b"m0@example.org" not in file.read_bytes()

    haven(env, "shell", "-c", DELETE)
    deleted = snapshot()
    assert deleted["accounts_user"][0] == 0

    wrong = dict(env, HAVEN_BACKUP_KEY=base64.b64encode(OTHER_KEY).decode())
    refused = haven(wrong, "restore", str(file), "--yes", check=False)
    assert refused.returncode != 0 and "another key" in refused.stderr
    assert "nothing restored" in refused.stderr
    assert snapshot() == deleted

    haven(env, "restore", str(file), "--yes")
    after = snapshot()
    assert {t: c for t, (c, _) in after.items()} == {t: c for t, (c, _) in before.items()}
    assert after == before


def test_sqlite_backup_and_restore_bring_every_record_back(tmp_path):
    database = tmp_path / "haven.sqlite3"
    env = environment(tmp_path, f"sqlite:///{database}")

    def snapshot() -> dict[str, tuple[int, list]]:
        with sqlite3.connect(database) as db:
            tables = [
                row[0]
                for row in db.execute(
                    "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
                )
            ]
            result = {}
            for table in tables:
                rows = sorted(map(repr, db.execute(f'SELECT * FROM "{table}"')))  # noqa: S608
                result[table] = (len(rows), rows)
        return result

    round_trip(tmp_path, env, snapshot)
    assert not list(tmp_path.glob(".haven-*")), "no temporary file left beside the database"


@pytest.mark.postgres
def test_postgres_backup_and_restore_bring_every_record_back(tmp_path):
    import psycopg

    db = settings.DATABASES["default"]
    name = f"haven_backup_{uuid.uuid4().hex[:12]}"
    assert name not in {"haven", "test_haven"}
    params = {
        "host": db.get("HOST") or "127.0.0.1",
        "port": db.get("PORT") or 5432,
        "user": db.get("USER") or "postgres",
        "password": db.get("PASSWORD") or None,
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        auth = params["user"] + (f":{params['password']}" if params["password"] else "")
        env = environment(tmp_path, f"postgres://{auth}@{params['host']}:{params['port']}/{name}")

        def snapshot() -> dict[str, tuple[int, list]]:
            with psycopg.connect(dbname=name, **params) as conn:
                tables = [
                    row[0]
                    for row in conn.execute(
                        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                    )
                ]
                result = {}
                for table in tables:
                    rows = sorted(map(repr, conn.execute(f'SELECT * FROM "{table}"')))  # noqa: S608
                    result[table] = (len(rows), rows)
            return result

        round_trip(tmp_path, env, snapshot)
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
