"""The hash chain of audit events: appending links, verifying them, signed checkpoints (AUD-6).

Appending locks the one `ChainHead` row (SELECT ... FOR UPDATE on PostgreSQL; SQLite's
BEGIN IMMEDIATE serialises writers already) inside the caller's transaction, so concurrent writers
link one at a time and a rolled-back access leaves no gap. See docs/decisions/0001-audit-chain.md.
"""

import hashlib
import hmac
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.text import slugify

from haven.audit.models import GENESIS_HASH, AuditEvent, ChainHead

HEAD_PK = 1


def _lock_head(cursor) -> tuple[int, str]:
    """The head's sequence and hash, its row locked until the transaction ends. Plain SQL: this
    runs on every audited page, and the ORM's query building costs more than the query."""
    table = connection.ops.quote_name(ChainHead._meta.db_table)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    cursor.execute(f"SELECT sequence, hash FROM {table} WHERE id = %s{lock}", [HEAD_PK])  # noqa: S608  # nosec B608  # table name from the model, values bound
    row = cursor.fetchone()
    if row is None:
        # A new (or flushed test) database: the head is made on the first write.
        try:
            with transaction.atomic():
                ChainHead.objects.create(pk=HEAD_PK)
        except IntegrityError:
            pass  # another writer made it first; the query below waits for its lock
        cursor.execute(f"SELECT sequence, hash FROM {table} WHERE id = %s{lock}", [HEAD_PK])  # noqa: S608  # nosec B608  # table name from the model, values bound
        row = cursor.fetchone()
    return row[0], row[1]


# Stand-ins for the two values only the locked head knows, so the rest of the canonical form can
# be built before the one PostgreSQL statement that links and inserts the event.
_PREV_MARK = "@@haven-audit-prev-hash@@"
_SEQUENCE_MARK = 918273645546372819

# PostgreSQL: lock the head, hash, insert the event and move the head in one statement (one
# round trip instead of three). sha256() is built into PostgreSQL 11 and later; the bytes hashed
# are exactly AuditEvent.canonical(), so `verify` and the Python path agree.
_APPEND_SQL = """
WITH head AS (
    SELECT sequence + 1 AS seq, hash AS prev FROM {head} WHERE id = %s FOR UPDATE
), linked AS (
    SELECT seq, prev,
           encode(sha256(convert_to(
               %s::text || prev || %s::text || seq::text || %s::text, 'UTF8'
           )), 'hex') AS hash
    FROM head
), inserted AS (
    INSERT INTO {event} (sequence, prev_hash, hash, {columns})
    SELECT seq, prev, hash, {placeholders} FROM linked
    RETURNING id, sequence, prev_hash, hash
), moved AS (
    UPDATE {head} SET sequence = inserted.sequence, hash = inserted.hash
    FROM inserted WHERE {head}.id = %s
)
SELECT id, sequence, prev_hash, hash FROM inserted
"""
_CHAIN_COLUMNS = ("id", "sequence", "prev_hash", "hash")


def _append_in_one_statement(event: AuditEvent) -> bool:
    """The PostgreSQL path of `append`; False when it cannot be used (no head row yet, or a
    stand-in inside the event's text), and the caller takes the general path."""
    event.sequence, event.prev_hash = _SEQUENCE_MARK, _PREV_MARK
    event.recorded_at = event.recorded_at or timezone.now()
    event.flagged = bool(event.flags)
    canonical = event.canonical().decode()
    if canonical.count(_PREV_MARK) != 1 or canonical.count(str(_SEQUENCE_MARK)) != 1:
        return False  # the event's own text holds a stand-in: the Python path hashes it
    before, rest = canonical.split(_PREV_MARK)
    middle, after = rest.split(str(_SEQUENCE_MARK))
    fields = [f for f in AuditEvent._meta.concrete_fields if f.column not in _CHAIN_COLUMNS]
    ops = connection.ops
    sql = _APPEND_SQL.format(
        head=ops.quote_name(ChainHead._meta.db_table),
        event=ops.quote_name(AuditEvent._meta.db_table),
        columns=", ".join(ops.quote_name(f.column) for f in fields),
        # Typed, as INSERT ... SELECT does not take the types from the columns (no length: a
        # value too long is refused by the column, as on the Python path).
        placeholders=", ".join(
            f"%s::{re.sub(r'[(].*[)]', '', f.db_type(connection))}" for f in fields
        ),
    )
    values = [f.get_db_prep_save(getattr(event, f.attname), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, [HEAD_PK, before, middle, after, *values, HEAD_PK])
        row = cursor.fetchone()
    if row is None:
        return False
    event.pk, event.sequence, event.prev_hash, event.hash = row
    event._state.adding, event._state.db = False, connection.alias
    return True


def append(event: AuditEvent) -> AuditEvent:
    """Link and save a new event. Must run inside the transaction of the access it records."""
    if not connection.in_atomic_block:
        raise RuntimeError("audit events are written inside the transaction of their access")
    if connection.vendor == "postgresql" and _append_in_one_statement(event):
        return event
    table = connection.ops.quote_name(ChainHead._meta.db_table)
    with connection.cursor() as cursor:
        sequence, previous = _lock_head(cursor)
        event.sequence = sequence + 1
        event.prev_hash = previous
        event.recorded_at = event.recorded_at or timezone.now()
        event.flagged = bool(event.flags)
        event.hash = event.compute_hash()
        event.save(force_insert=True)
        cursor.execute(
            f"UPDATE {table} SET sequence = %s, hash = %s WHERE id = %s",  # noqa: S608  # nosec B608  # table name from the model, values bound
            [event.sequence, event.hash, HEAD_PK],
        )
    return event


# Signed checkpoints -------------------------------------------------------------------------


def checkpoint_key() -> bytes:
    key = getattr(settings, "HAVEN_AUDIT_CHECKPOINT_KEY", "")
    if key:
        return key.encode()
    # Derived, so the key is not the secret itself; whoever can rewrite the database cannot sign.
    return hashlib.sha256(f"haven-audit-checkpoint:{settings.SECRET_KEY}".encode()).digest()


def checkpoint_dir() -> Path:
    """HAVEN_AUDIT_CHECKPOINT_DIR, or a folder of var/ for this database (a test process gets one
    of its own), so checkpoints of one database are never held against another."""
    configured = getattr(settings, "HAVEN_AUDIT_CHECKPOINT_DIR", None)
    if configured:
        return Path(configured)
    if settings.TESTING:
        return Path(tempfile.gettempdir()) / f"haven-audit-checkpoints-{os.getpid()}"
    database = settings.DATABASES["default"]
    name = f"{database.get('HOST') or 'local'}-{Path(str(database['NAME'])).name}"
    return Path(settings.PROJECT_DIR) / "var" / "audit-checkpoints" / slugify(name)


def _signed_body(sequence: int, chain_hash: str, created_at: str) -> bytes:
    body = {"sequence": sequence, "hash": chain_hash, "created_at": created_at}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def _signature(body: bytes) -> str:
    return hmac.new(checkpoint_key(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Checkpoint:
    sequence: int
    hash: str
    created_at: str
    signature: str
    path: Path

    @property
    def signature_valid(self) -> bool:
        expected = _signature(_signed_body(self.sequence, self.hash, self.created_at))
        return hmac.compare_digest(expected, self.signature)


def write_checkpoint() -> Checkpoint | None:
    """Sign the chain head and write it to a file outside the database; None if the chain is empty."""
    head = ChainHead.objects.filter(pk=HEAD_PK).first()
    if head is None or head.sequence == 0:
        return None
    created_at = datetime.now(UTC).isoformat(timespec="microseconds")
    body = _signed_body(head.sequence, head.hash, created_at)
    folder = checkpoint_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stamp = created_at.replace(":", "").replace("-", "").replace("+0000", "Z")
    path = folder / f"checkpoint-{head.sequence:012d}-{stamp}.json"
    document = json.loads(body) | {"signature": _signature(body)}
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(document, indent=1), encoding="utf-8")
    os.replace(temporary, path)
    return Checkpoint(head.sequence, head.hash, created_at, document["signature"], path)


def read_checkpoints() -> list[Checkpoint]:
    folder = checkpoint_dir()
    if not folder.is_dir():
        return []
    checkpoints = []
    for path in sorted(folder.glob("checkpoint-*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            checkpoints.append(
                Checkpoint(
                    int(data["sequence"]),
                    str(data["hash"]),
                    str(data["created_at"]),
                    str(data["signature"]),
                    path,
                )
            )
        except (ValueError, KeyError, TypeError):
            checkpoints.append(Checkpoint(-1, "", "", "", path))
    return checkpoints


# Verification -------------------------------------------------------------------------------


@dataclass
class Verification:
    records: int = 0
    checkpoints: int = 0
    problem: str = ""
    broken_at: int | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problem

    def summary(self) -> str:
        if self.intact:
            return f"verified {self.records} records, chain intact"
        return f"chain broken at record {self.broken_at}: {self.problem}"


def verify() -> Verification:
    """Walk the whole chain in order; then hold it against the head row and signed checkpoints."""
    result = Verification()
    checkpoints = read_checkpoints()
    wanted = {checkpoint.sequence for checkpoint in checkpoints}
    hashes_at: dict[int, str] = {}
    expected_sequence = 1
    previous = GENESIS_HASH
    for event in AuditEvent.objects.order_by("sequence").iterator(chunk_size=2000):
        if event.sequence != expected_sequence:
            result.broken_at = expected_sequence
            result.problem = (
                f"record {expected_sequence} is missing (the next one is {event.sequence})"
            )
            return result
        if event.prev_hash != previous:
            result.broken_at = event.sequence
            result.problem = "it does not link to the record before it"
            return result
        if event.compute_hash() != event.hash or event.flagged != bool(event.flags):
            result.broken_at = event.sequence
            result.problem = "its content was changed after it was written"
            return result
        if event.sequence in wanted:
            hashes_at[event.sequence] = event.hash
        previous = event.hash
        expected_sequence += 1
        result.records += 1

    head = ChainHead.objects.filter(pk=HEAD_PK).first()
    head_sequence = head.sequence if head else 0
    if head_sequence != result.records or (head and head.hash != previous):
        result.broken_at = result.records + 1
        result.problem = (
            f"the chain ends at record {result.records} but its head says {head_sequence}: "
            "records at the end were removed or the head was changed"
        )
        return result

    for checkpoint in checkpoints:
        if not checkpoint.signature_valid:
            result.broken_at = checkpoint.sequence
            result.problem = f"checkpoint {checkpoint.path.name} has a bad signature"
            return result
        if checkpoint.sequence > result.records:
            result.broken_at = result.records + 1
            result.problem = (
                f"signed checkpoint {checkpoint.created_at} vouches for {checkpoint.sequence} "
                f"records but only {result.records} remain"
            )
            return result
        if hashes_at.get(checkpoint.sequence) != checkpoint.hash:
            result.broken_at = checkpoint.sequence
            result.problem = (
                f"it differs from the signed checkpoint of {checkpoint.created_at}: "
                "the trail was rewritten"
            )
            return result
        result.checkpoints += 1
    if not checkpoints and result.records:
        result.warnings.append("no signed checkpoint yet: run `haven audit checkpoint`")
    return result
