"""Benchmark: a suppressed statistical report over 1,000,000 members on PostgreSQL (LOG-3).

Fills a fresh PostgreSQL database with 1,000,000 synthetic members in 20 groups of 4 plans over
six states (nobody in it is real), 30% of them with a Haven account, then runs the staff report
(members with an account by age band and state, and by age band and plan) five times each; the
figure is the median time of the whole report: the grouped query, suppression and its record.
Prints the figures and writes them to docs/benchmarks.md, in this benchmark's own section.

    .venv/bin/python bench/analytics_report.py [--members N]
        [--postgres-url postgres://postgres@127.0.0.1:5432]

The target (issue 9): under five seconds on PostgreSQL on this machine.
"""

import argparse
import os
import platform
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchdoc import ROOT, machine, write_section  # noqa: E402

TARGET_SECONDS = 5
STATES = ["CT", "NY", "MA", "RI", "NJ", "VT"]


def fill(members: int) -> None:
    from django.db import connection

    from haven.plans.models import EmployerGroup, Plan

    plans = [
        Plan.objects.create(code=f"BENCH-{n}", name=f"Bench plan {n}", carrier="Bench", year=2026)
        for n in range(4)
    ]
    groups = [
        EmployerGroup.objects.create(group_number=f"G-{n}", name=f"Group {n}", plan=plans[n % 4])
        for n in range(20)
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO plans_member (member_id, group_id, relationship, first_name, last_name,
                gender, date_of_birth, address_line, city, region, postal_code, phone,
                coverage_start)
            SELECT 'B' || g, %(first_group)s + g %% 20, 'self', 'Bench', 'Member',
                CASE WHEN g %% 2 = 0 THEN 'F' ELSE 'M' END,
                date '1930-01-01' + (g::bigint * 7919 %% 34000)::int, '', '', (%(states)s::text[])[g %% 6 + 1],
                lpad((g * 31 %% 99999)::text, 5, '0'), '', date '2020-01-01'
            FROM generate_series(1, %(members)s) AS g
            """,
            {"first_group": groups[0].pk, "states": STATES, "members": members},
        )
        cursor.execute(
            """
            INSERT INTO accounts_user (password, is_superuser, username, first_name, last_name,
                email, is_staff, is_active, date_joined, kind, staff_role, member_id,
                preferred_name, phone, language)
            SELECT '!', false, 'u' || id, '', '', '', false, true, now(), 'member', '', id,
                '', '', ''
            FROM plans_member WHERE id % 10 < 3
            """
        )
        cursor.execute("ANALYZE")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--postgres-url", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--no-doc", action="store_true", help="print only; leave docs alone")
    args = parser.parse_args()

    import psycopg

    server = args.postgres_url.rstrip("/")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS haven_bench_analytics")
        admin.execute("CREATE DATABASE haven_bench_analytics")
    os.environ["DATABASE_URL"] = f"{server}/haven_bench_analytics"
    os.environ["HAVEN_ENV"] = "test"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haven.settings")
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()
    from django.core.management import call_command

    from haven.analytics.services import member_report

    call_command("migrate", verbosity=0)
    began = time.perf_counter()
    fill(args.members)
    print(f"{args.members:,} members in {time.perf_counter() - began:.0f} s", flush=True)

    load = os.getloadavg()[0]
    as_of = date(2026, 11, 25)
    results = {}
    for column in ("region", "plan"):
        timings = []
        for _run in range(5):
            start = time.perf_counter()
            report = member_report("portal", column, as_of)
            timings.append(time.perf_counter() - start)
        results[column] = (statistics.median(timings), max(timings), report)
        print(f"portal by age band and {column}: median {results[column][0]:.2f} s", flush=True)

    worst = max(median for median, _longest, _report in results.values())
    verdict = "within" if worst <= TARGET_SECONDS else "over"
    counted = results["region"][2].base.extended[-1][-1]
    lines = [
        f"## Statistical report over {args.members:,} members, PostgreSQL "
        "(bench/analytics_report.py)",
        "",
        f"Run on {date.today().isoformat()}, {machine()}; Python {platform.python_version()}; "  # noqa: DTZ011
        f"load average at the start {load:.1f} (the machine is shared: other work running beside "
        "the benchmark slows it down).",
        f"{counted:,} synthetic members covered on the day, 30% with an account; the report is "
        "the staff page's: one grouped query (age band computed in SQL from the birth date), "
        "primary and complementary suppression of both tables, and the record of the run. "
        "Five runs each; the median and the slowest.",
        "",
        "| report | median (s) | slowest (s) | cells hidden |",
        "|---|---:|---:|---:|",
    ]
    for column, (median, longest, report) in results.items():
        lines.append(
            f"| members with an account by age band and {column} | {median:.2f} | "
            f"{longest:.2f} | {len(report.measured.hidden)} |"
        )
    lines += ["", f"{worst:.2f} s: {verdict} the five-second target."]
    if not args.no_doc:
        write_section("analytics_report", lines)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
