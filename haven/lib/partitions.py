"""Monthly range partitions on PostgreSQL for the tables that grow with every request.

The audit trail (`audit_auditevent`, by `recorded_at`) and the web log (`security_webrequest`, by
`at`) are range-partitioned by calendar month (UTC) on PostgreSQL: one partition per month, named
`<table>_pYYYY_MM`, and a DEFAULT partition that catches any row no month partition takes, so an
insert never fails for want of a partition. `ensure_partitions` (`haven partitions`, nightly)
makes the coming months; `drop_partitions_before` lets the web-log purge drop whole months past
retention instead of deleting rows. SQLite has no partitions: every function here does nothing
there, and the tables stay ordinary tables.

PostgreSQL wants the partition key in every unique key, so in the database the primary key and
each unique constraint become unique indexes of the same names ending with the time column, e.g.
`<table>_pkey` on (id, <time column>): indexes rather than constraints, as pg_restore --clean
(`haven restore`) cannot drop a partition's inherited constraint. Django keeps `id` as the primary
key, and the identity sequence keeps ids unique. Two consequences: no foreign key may point at a
partitioned table (`partition_by_month` refuses while one does), and an aggregate grouped by the
model's pk (`.annotate(Count(...))`) fails on PostgreSQL, which groups by a primary key only:
count in a subquery instead.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.db import connection as default_connection
from django.db import transaction
from django.db.utils import OperationalError
from django.utils import timezone

# The partitioned tables and the column each is partitioned by.
PARTITIONED = {"audit_auditevent": "recorded_at", "security_webrequest": "at"}
MONTHS_AHEAD = 3
# A purge that must wait longer than this for the web log's lock leaves the month to row deletes.
DROP_LOCK_TIMEOUT = "5s"

_TEMPORARY_SUFFIX = "__partitioned"
_PLAIN_SUFFIX = "__plain"


@dataclass(frozen=True)
class Partition:
    name: str
    start: datetime | None  # None for the DEFAULT partition
    end: datetime | None


def is_postgres(connection=None) -> bool:
    return (connection or default_connection).vendor == "postgresql"


def month_start(moment: datetime | date) -> datetime:
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def next_month(start: datetime) -> datetime:
    return start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)


def partition_name(table: str, start: datetime) -> str:
    return f"{table}_p{start:%Y_%m}"


def default_partition_name(table: str) -> str:
    return f"{table}_default"


def _quote(connection, name: str) -> str:
    return connection.ops.quote_name(name)


def _exists(cursor, name: str) -> bool:
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
    return cursor.fetchone()[0]


def is_partitioned(table: str, connection=None) -> bool:
    connection = connection or default_connection
    if not is_postgres(connection):
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(%s))",
            [table],
        )
        return cursor.fetchone()[0]


def partitions(table: str, connection=None) -> list[Partition]:
    """The table's partitions with their bounds, oldest first, the DEFAULT partition last."""
    connection = connection or default_connection
    if not is_partitioned(table, connection):
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT child.relname,
                   (regexp_match(pg_get_expr(child.relpartbound, child.oid),
                                 'FROM \\(''([^'']+)''\\)'))[1]::timestamptz,
                   (regexp_match(pg_get_expr(child.relpartbound, child.oid),
                                 'TO \\(''([^'']+)''\\)'))[1]::timestamptz
            FROM pg_inherits JOIN pg_class child ON child.oid = pg_inherits.inhrelid
            WHERE pg_inherits.inhparent = to_regclass(%s)
            """,
            [table],
        )
        rows = [Partition(*row) for row in cursor.fetchall()]
    far_future = datetime.max.replace(tzinfo=UTC)
    return sorted(rows, key=lambda p: (p.start is None, p.start or far_future))


# Making partitions ----------------------------------------------------------------------------


def _create_month(cursor, connection, table: str, start: datetime) -> bool:
    """The month's partition, made if missing; rows already in the DEFAULT partition for that
    month are moved into it. True if it was made."""
    name = partition_name(table, start)
    if _exists(cursor, name):
        return False
    end = next_month(start)
    quoted, quoted_name = _quote(connection, table), _quote(connection, name)
    bounds = "FOR VALUES FROM (%s) TO (%s)"
    default = default_partition_name(table)
    column = _partition_column(cursor, table)
    moving = False
    if _exists(cursor, default):
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM {_quote(connection, default)} "  # noqa: S608  # nosec B608  # quoted names, values bound
            f"WHERE {_quote(connection, column)} >= %s AND {_quote(connection, column)} < %s)",
            [start, end],
        )
        moving = cursor.fetchone()[0]
    if not moving:
        cursor.execute(f"CREATE TABLE {quoted_name} PARTITION OF {quoted} {bounds}", [start, end])
        return True
    # PostgreSQL refuses a new partition while the DEFAULT one holds rows of its range, and the
    # audit trail's rows may not be deleted: set the DEFAULT partition aside, make a new one and
    # the month, and insert the set-aside rows again through the parent (ids and hashes kept).
    aside = f"{default}_moving"
    cursor.execute(f"ALTER TABLE {quoted} DETACH PARTITION {_quote(connection, default)}")
    cursor.execute(
        f"ALTER TABLE {_quote(connection, default)} RENAME TO {_quote(connection, aside)}"
    )
    cursor.execute(f"CREATE TABLE {_quote(connection, default)} PARTITION OF {quoted} DEFAULT")
    cursor.execute(f"CREATE TABLE {quoted_name} PARTITION OF {quoted} {bounds}", [start, end])
    cursor.execute(f"INSERT INTO {quoted} SELECT * FROM {_quote(connection, aside)}")  # noqa: S608  # nosec B608  # quoted names, values bound
    # Checks still pending on the set-aside rows (written earlier in this transaction) run now,
    # as PostgreSQL will not drop a table with pending trigger events.
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute(f"DROP TABLE {_quote(connection, aside)}")
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    return True


def _partition_column(cursor, table: str) -> str:
    cursor.execute(
        """
        SELECT attribute.attname FROM pg_partitioned_table part
        JOIN pg_attribute attribute
          ON attribute.attrelid = part.partrelid AND attribute.attnum = part.partattrs[0]
        WHERE part.partrelid = to_regclass(%s)
        """,
        [table],
    )
    return cursor.fetchone()[0]


def ensure_partitions(
    table: str, *, months_ahead: int = MONTHS_AHEAD, now: datetime | None = None, connection=None
) -> list[str]:
    """This month's and the next `months_ahead` months' partitions, and the DEFAULT partition;
    returns the names of those it made (none on a second run)."""
    connection = connection or default_connection
    if not is_partitioned(table, connection):
        return []
    made = []
    start = month_start(now or timezone.now())
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        default = default_partition_name(table)
        if not _exists(cursor, default):
            cursor.execute(
                f"CREATE TABLE {_quote(connection, default)} "
                f"PARTITION OF {_quote(connection, table)} DEFAULT"
            )
            made.append(default)
        for _month in range(months_ahead + 1):
            if _create_month(cursor, connection, table, start):
                made.append(partition_name(table, start))
            start = next_month(start)
    return made


# Dropping whole months ------------------------------------------------------------------------


def drop_partitions_before(table: str, cutoff: datetime, connection=None) -> int:
    """Drop the month partitions that end on or before `cutoff`; returns the rows they held.
    A month whose lock cannot be had quickly is left for the caller's row deletes."""
    connection = connection or default_connection
    dropped_rows = 0
    for partition in partitions(table, connection):
        if partition.end is None or partition.end > cutoff:
            continue
        try:
            with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = '{DROP_LOCK_TIMEOUT}'")
                cursor.execute(f"SELECT count(*) FROM {_quote(connection, partition.name)}")  # noqa: S608  # nosec B608  # quoted names, values bound
                rows = cursor.fetchone()[0]
                cursor.execute(f"DROP TABLE {_quote(connection, partition.name)}")
        except OperationalError:
            continue  # busy: the rows are deleted in batches instead, and the month dropped later
        dropped_rows += rows
    return dropped_rows


# Turning a table into a partitioned one (migrations) -------------------------------------------


def referencing_foreign_keys(cursor, table: str) -> list[tuple[str, str]]:
    """(table, constraint) of every foreign key that points at `table`."""
    cursor.execute(
        """
        SELECT conrelid::regclass::text, conname FROM pg_constraint
        WHERE contype = 'f' AND confrelid = to_regclass(%s)
        """,
        [table],
    )
    return cursor.fetchall()


def _table_shape(cursor, table: str) -> dict:
    """What a rebuilt table must get back: constraints, indexes, triggers, grants, sequence."""
    cursor.execute(
        """
        SELECT conname, contype, pg_get_constraintdef(oid),
               ARRAY(SELECT attname FROM unnest(conkey) WITH ORDINALITY key(num, position)
                     JOIN pg_attribute ON attrelid = conrelid AND attnum = key.num
                     ORDER BY key.position)
        FROM pg_constraint WHERE conrelid = to_regclass(%s) AND contype IN ('p', 'u', 'f')
        ORDER BY conname
        """,
        [table],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        """
        SELECT index.relname, pg_get_indexdef(index.oid), pg_index.indisunique,
               ARRAY(SELECT attname FROM unnest(pg_index.indkey) WITH ORDINALITY key(num, position)
                     JOIN pg_attribute ON attrelid = pg_index.indrelid AND attnum = key.num
                     ORDER BY key.position)
        FROM pg_index JOIN pg_class index ON index.oid = pg_index.indexrelid
        WHERE pg_index.indrelid = to_regclass(%s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = pg_index.indexrelid
                          AND conrelid = pg_index.indrelid)
        ORDER BY index.relname
        """,
        [table],
    )
    indexes = cursor.fetchall()
    cursor.execute(
        "SELECT pg_get_triggerdef(oid) FROM pg_trigger "
        "WHERE tgrelid = to_regclass(%s) AND NOT tgisinternal AND tgparentid = 0 ORDER BY tgname",
        [table],
    )
    triggers = [row[0] for row in cursor.fetchall()]
    cursor.execute(
        """
        SELECT CASE WHEN acl.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(role.rolname) END,
               acl.privilege_type
        FROM pg_class, aclexplode(pg_class.relacl) acl
        LEFT JOIN pg_roles role ON role.oid = acl.grantee
        WHERE pg_class.oid = to_regclass(%s) AND acl.grantee <> pg_class.relowner
        """,
        [table],
    )
    grants = cursor.fetchall()
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
    sequence = cursor.fetchone()[0]
    last_value = None
    if sequence:
        cursor.execute(f"SELECT last_value, is_called FROM {sequence}")  # noqa: S608  # nosec B608  # quoted names, values bound
        last_value = cursor.fetchone()
    return {
        "constraints": constraints,
        "indexes": indexes,
        "triggers": triggers,
        "grants": grants,
        "last_value": last_value,
    }


def _rebuild(connection, table: str, column: str, *, partitioned: bool) -> None:
    """Rebuild `table` as a partitioned table (or back into a plain one) with its rows, ids,
    sequence position, constraints, indexes, triggers and grants. Holds the table locked."""
    q = connection.ops.quote_name
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {q(table)} IN ACCESS EXCLUSIVE MODE")
        references = referencing_foreign_keys(cursor, table)
        if references:
            raise RuntimeError(
                f"{table} cannot be rebuilt while foreign keys point at it: {references}"
            )
        shape = _table_shape(cursor, table)
        rebuilt = table + (_TEMPORARY_SUFFIX if partitioned else _PLAIN_SUFFIX)
        like = (
            f"CREATE TABLE {q(rebuilt)} (LIKE {q(table)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
            "INCLUDING IDENTITY INCLUDING STORAGE INCLUDING COMMENTS)"
        )
        cursor.execute(like + (f" PARTITION BY RANGE ({q(column)})" if partitioned else ""))
        if partitioned:
            cursor.execute(
                f"SELECT DISTINCT date_trunc('month', {q(column)} AT TIME ZONE 'UTC') "  # noqa: S608  # nosec B608  # quoted names, values bound
                f"FROM {q(table)}"
            )
            months = {month_start(row[0]) for row in cursor.fetchall()}
            start = month_start(timezone.now())
            for _month in range(MONTHS_AHEAD + 1):
                months.add(start)
                start = next_month(start)
            for start in sorted(months):
                cursor.execute(
                    f"CREATE TABLE {q(partition_name(table, start))} PARTITION OF {q(rebuilt)} "
                    "FOR VALUES FROM (%s) TO (%s)",
                    [start, next_month(start)],
                )
            cursor.execute(
                f"CREATE TABLE {q(default_partition_name(table))} PARTITION OF {q(rebuilt)} DEFAULT"
            )
        cursor.execute(f"INSERT INTO {q(rebuilt)} SELECT * FROM {q(table)}")  # noqa: S608  # nosec B608  # quoted names, values bound
        cursor.execute(f"DROP TABLE {q(table)}")
        cursor.execute(f"ALTER TABLE {q(rebuilt)} RENAME TO {q(table)}")
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        sequence = cursor.fetchone()[0]
        if sequence:
            cursor.execute(f"ALTER SEQUENCE {sequence} RENAME TO {q(table + '_id_seq')}")
            if shape["last_value"]:
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s, %s)",
                    [table, *shape["last_value"]],
                )
        for name, kind, definition, columns in shape["constraints"]:
            if kind == "f":
                cursor.execute(f"ALTER TABLE {q(table)} ADD CONSTRAINT {q(name)} {definition}")
            elif partitioned:
                # The primary key and unique constraints become unique indexes of the same name
                # that end with the partition key: indexes, not constraints, because pg_restore
                # --clean (haven restore) cannot drop a partition's inherited constraint.
                keyed = ", ".join(q(c) for c in [*(c for c in columns if c != column), column])
                cursor.execute(f"CREATE UNIQUE INDEX {q(name)} ON {q(table)} ({keyed})")
            else:
                cursor.execute(f"ALTER TABLE {q(table)} ADD CONSTRAINT {q(name)} {definition}")
        for name, definition, unique, columns in shape["indexes"]:
            keyed = [c for c in columns if c != column]
            if not partitioned and unique and keyed and column in columns:
                # Back to the primary key or unique constraint it was made from.
                kind_sql = "PRIMARY KEY" if name.endswith("_pkey") else "UNIQUE"
                cursor.execute(
                    f"ALTER TABLE {q(table)} ADD CONSTRAINT {q(name)} "
                    f"{kind_sql} ({', '.join(q(c) for c in keyed)})"
                )
                continue
            # A partitioned table's index is defined ON ONLY the parent; a plain one has no ONLY.
            cursor.execute(definition.replace(" ON ONLY ", " ON ", 1))
        for statement in shape["triggers"]:
            cursor.execute(statement)
        for grantee, privilege in shape["grants"]:
            cursor.execute(f"GRANT {privilege} ON {q(table)} TO {grantee}")


def partition_by_month(connection, table: str, column: str) -> None:
    """Turn an ordinary table into one range-partitioned by month on `column` (PostgreSQL)."""
    if is_postgres(connection) and not is_partitioned(table, connection):
        _rebuild(connection, table, column, partitioned=True)


def unpartition(connection, table: str, column: str) -> None:
    """The reverse: an ordinary table again, with its rows (PostgreSQL)."""
    if is_partitioned(table, connection):
        _rebuild(connection, table, column, partitioned=False)
