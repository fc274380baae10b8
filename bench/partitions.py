"""Benchmark: monthly partitions on PostgreSQL, the web-log purge and the audit insert.

In a fresh PostgreSQL database migrated as Haven runs (both tables partitioned by month):

1. The web-log purge past retention. The web log is filled with N lines past retention spread
   over four whole months, some more in the month the cutoff falls in, and lines still within
   retention; `purge_web_log` runs (whole months dropped, the partial month deleted in batches).
   Then the same table is turned back into an ordinary one (`haven.lib.partitions.unpartition`),
   filled with the same lines, and the same `purge_web_log` deletes them all in batches of 5,000,
   as it did before partitioning. Time, lines erased and the table's size afterwards.
2. The audit insert: `chain.append` of one event per transaction (the way every audited access
   writes), in alternating blocks on the partitioned and the ordinary table.

    .venv/bin/python bench/partitions.py [--lines N] [--events M]
        [--postgres-url postgres://postgres@127.0.0.1:5432] [--no-doc]

PostgreSQL only: SQLite has no partitions.
"""

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchdoc import ROOT, fresh_database, machine, percentile, write_section  # noqa: E402

WEBLOG, AUDIT = "security_webrequest", "audit_auditevent"
OLD_MONTHS = 4
BLOCKS = 8


def fill_web_log(now, lines: int) -> dict[str, int]:
    """Lines spread evenly over four whole months past retention, a tenth as many in the cutoff's
    month before the cutoff, and a tenth within retention. Returns how many of each."""
    from django.conf import settings
    from django.db import connection

    from haven.lib import partitions

    cutoff = now - timedelta(days=settings.HAVEN_WEBLOG_RETENTION_DAYS)
    cutoff_month = partitions.month_start(cutoff)
    start = cutoff_month
    months = []
    for _month in range(OLD_MONTHS):
        start = partitions.month_start(start - timedelta(days=1))
        months.append(start)
    spans = [(month, partitions.next_month(month), lines // OLD_MONTHS) for month in months]
    spans.append((cutoff_month, cutoff, lines // 10))
    spans.append((cutoff + timedelta(hours=1), now, lines // 10))
    for month in [*months, cutoff_month]:
        partitions.ensure_partitions(WEBLOG, months_ahead=0, now=month)
    with connection.cursor() as cursor:
        for begin, end, count in spans:
            cursor.execute(
                f"""
                INSERT INTO {WEBLOG} (at, host, address, browser, operating_system, method, path,
                                      status, referrer)
                SELECT %s::timestamptz + (g * (%s::timestamptz - %s::timestamptz) / %s),
                       'haven.example', '192.0.2.1', 'Chrome', 'Linux', 'GET',
                       '/care/practitioners/<int:pk>/', 200, ''
                FROM generate_series(0, %s - 1) g
                """,  # noqa: S608
                [begin, end, begin, count, count],
            )
        cursor.execute(f"ANALYZE {WEBLOG}")
    past = sum(count for _b, _e, count in spans[:-1])
    return {"past": past, "kept": spans[-1][2]}


def table_size(table: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(pg_total_relation_size(inhrelid)), 0) FROM pg_inherits "
            "WHERE inhparent = to_regclass(%s)",
            [table],
        )
        partitioned = cursor.fetchone()[0]
        cursor.execute("SELECT pg_total_relation_size(to_regclass(%s))", [table])
        return int(partitioned) + int(cursor.fetchone()[0])


def purge_once(now, lines: int) -> dict:
    """The purge, its two parts timed apart: the months dropped (what `purge_web_log` does first),
    then `purge_web_log` itself, which finds only the batches left to delete."""
    from django.conf import settings

    from haven.lib import partitions
    from haven.security.models import WebRequest
    from haven.security.services import purge_web_log

    counts = fill_web_log(now, lines)
    size_before = table_size(WEBLOG)
    cutoff = now - timedelta(days=settings.HAVEN_WEBLOG_RETENTION_DAYS)
    start = time.perf_counter()
    dropped = partitions.drop_partitions_before(WEBLOG, cutoff)
    drop_seconds = time.perf_counter() - start
    deleted = purge_web_log(now=now)
    seconds = time.perf_counter() - start
    erased = dropped + deleted
    if erased != counts["past"] or WebRequest.objects.count() != counts["kept"]:
        raise SystemExit(f"the purge erased {erased} of {counts['past']} lines")
    return {
        "seconds": seconds,
        "drop_seconds": drop_seconds,
        "dropped": dropped,
        "deleted": deleted,
        "erased": erased,
        "kept": counts["kept"],
        "before_mb": size_before / 2**20,
        "after_mb": table_size(WEBLOG) / 2**20,
    }


def purge_comparison(lines: int) -> dict[str, dict]:
    from django.db import connection
    from django.utils import timezone

    from haven.lib import partitions

    now = timezone.now()
    results = {"partitioned": purge_once(now, lines)}
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {WEBLOG}")
    partitions.unpartition(connection, WEBLOG, "at")
    results["ordinary"] = purge_once(now, lines)
    partitions.partition_by_month(connection, WEBLOG, "at")
    return results


def audit_inserts(events: int) -> dict[str, dict]:
    """Milliseconds per append with its commit, in alternating blocks on each shape."""
    from django.db import connection, transaction

    from haven.audit import chain
    from haven.audit.models import Action, AuditEvent, EventType, Outcome
    from haven.lib import partitions

    timings: dict[str, list[float]] = {"partitioned": [], "ordinary": []}
    for block in range(BLOCKS):
        shape = "partitioned" if block % 2 == 0 else "ordinary"
        if shape == "partitioned":
            partitions.partition_by_month(connection, AUDIT, "recorded_at")
        else:
            partitions.unpartition(connection, AUDIT, "recorded_at")
        for number in range(events // (BLOCKS // 2) + 20):
            start = time.perf_counter()
            with transaction.atomic(durable=True):
                chain.append(
                    AuditEvent(
                        type=EventType.ACCESS,
                        subtype="read",
                        action=Action.READ,
                        outcome=Outcome.ALLOWED,
                        system_actor="bench",
                    )
                )
            if number >= 20:  # the first appends after a rebuild warm the caches
                timings[shape].append((time.perf_counter() - start) * 1000)
    partitions.partition_by_month(connection, AUDIT, "recorded_at")
    result = chain.verify()
    if not result.intact:
        raise SystemExit(result.summary())
    return {
        shape: {
            "p50": statistics.median(values),
            "p90": percentile(values, 0.90),
            "count": len(values),
            "records": result.records,
        }
        for shape, values in timings.items()
    }


def write_doc(args, load: float, purge: dict, inserts: dict) -> None:
    part, plain = purge["partitioned"], purge["ordinary"]
    lines = [
        "## Monthly partitions, PostgreSQL: web-log purge and audit insert (bench/partitions.py)",
        "",
        f"Run on {date.today().isoformat()}, {machine()}; Python {platform.python_version()}; "  # noqa: DTZ011
        f"PostgreSQL; load average at the start {load:.1f} (the machine is shared: other work "
        "running beside the benchmark slows it down).",
        "",
        f"Web-log purge past retention (90 days): {part['erased']:,} lines past it (four whole "
        "months and part of the month the cutoff falls in), "
        f"{part['kept']:,} kept. Partitioned: the four months are dropped and the partial "
        "month is deleted in batches of 5,000. Ordinary table (as before partitioning): every "
        "line deleted in batches of 5,000. Same function (`purge_web_log`), same lines.",
        "",
        "| web log | purge (s) | of which months dropped (s) | lines dropped | lines deleted "
        "in batches | size before (MiB) | size after (MiB) |",
        "|---|---:|---:|---:|---:|---:|---:|",
        f"| partitioned by month | {part['seconds']:.2f} | {part['drop_seconds']:.2f} | "
        f"{part['dropped']:,} | {part['deleted']:,} | {part['before_mb']:.0f} | "
        f"{part['after_mb']:.0f} |",
        f"| ordinary table | {plain['seconds']:.2f} | {plain['drop_seconds']:.2f} | "
        f"{plain['dropped']:,} | {plain['deleted']:,} | {plain['before_mb']:.0f} | "
        f"{plain['after_mb']:.0f} |",
        "",
        f"The whole purge took {plain['seconds'] / part['seconds']:.1f} times less time "
        f"partitioned; the {part['dropped']:,} lines of the four whole months went in "
        f"{part['drop_seconds']:.2f} s (their rows counted for the retention record, then "
        "each partition dropped), and the rest is the partial month deleted in batches as "
        "before. Dropping gives the disk back at once; the deleted lines of the ordinary table "
        "stay in its files until VACUUM reuses them (its size after is unchanged).",
        "",
        f"Audit insert: `chain.append` of one event per transaction with its commit, "
        f"{inserts['partitioned']['count']} on each shape in {BLOCKS} alternating blocks:",
        "",
        "| audit trail | append p50 (ms) | append p90 (ms) |",
        "|---|---:|---:|",
        f"| partitioned by month | {inserts['partitioned']['p50']:.2f} | "
        f"{inserts['partitioned']['p90']:.2f} |",
        f"| ordinary table | {inserts['ordinary']['p50']:.2f} | {inserts['ordinary']['p90']:.2f} |",
        "",
        f"The chain ({inserts['partitioned']['records']} records, rebuilt {BLOCKS + 1} times "
        "between shapes) verified intact afterwards.",
    ]
    write_section("partitions", lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--postgres-url", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--no-doc", action="store_true", help="print only; leave docs alone")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="haven-bench-partitions-"))
    os.environ["HAVEN_ENV"] = "test"
    fresh_database("haven_bench_partitions", args.postgres_url, workdir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haven.settings")
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    load = os.getloadavg()[0]
    purge = purge_comparison(args.lines)
    for shape, figures in purge.items():
        print(
            f"purge {shape}: {figures['seconds']:.2f} s, {figures['erased']} erased, "
            f"{figures['before_mb']:.0f} -> {figures['after_mb']:.0f} MiB"
        )
    inserts = audit_inserts(args.events)
    for shape, figures in inserts.items():
        print(f"audit append {shape}: p50 {figures['p50']:.2f} ms, p90 {figures['p90']:.2f} ms")
    if not args.no_doc:
        write_doc(args, load, purge, inserts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
