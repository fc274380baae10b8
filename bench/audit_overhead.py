"""Benchmark: a member-record page with auditing on and off, in one run (AUD-3).

Builds the test people in a fresh database (SQLite by default, or PostgreSQL), gives the nurse a
care assignment and the member a handful of documents, then requests the staff record page
(/records/<pk>/?purpose=treatment) with Django's test client, alternating request by request
between auditing on (as Haven always runs) and HAVEN_AUDIT_ENABLED off, a switch only this
benchmark uses (production refuses it). With auditing off the policy and training checks still
run; what is switched off is the audit record: the flags, the chain-head lock, the hash and the
insert. Prints the figures and writes them to docs/benchmarks.md, in this benchmark's own section.

    .venv/bin/python bench/audit_overhead.py [--requests N]
        [--postgres-url postgres://postgres@127.0.0.1:5432]

The target (issue 3): the audited page within 15% of the same page without auditing.
"""

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchdoc import ROOT, fresh_database, machine, percentile, write_section  # noqa: E402

TARGET = 0.15
DOCUMENTS = 6


def prepare(people):
    """The nurse signed in on a client, assigned to Alice, who has a few documents."""
    from django.test import Client

    from haven.records.models import CareAssignment, Category, HealthDocument

    CareAssignment.objects.create(staff=people.nurse, member=people.alice_member)
    categories = [Category.VISIT_SUMMARY, Category.LAB_RESULT, Category.MENTAL_HEALTH]
    for number in range(DOCUMENTS):
        HealthDocument.objects.create(
            member=people.alice_member,
            title=f"Document {number}",
            category=categories[number % len(categories)],
            content="Routine follow-up. " * 20,
            created_by=people.nurse,
        )
    client = Client()
    people.sign_in(people, people.nurse, client)
    return client


def run(people, client, requests: int) -> dict[bool, dict]:
    """The same page, alternating on and off request by request, so the shared machine's noise
    falls on both alike."""
    from django.db import connection
    from django.test import override_settings
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    url = reverse("records:member", kwargs={"pk": people.alice_member.pk}) + "?purpose=treatment"
    timings: dict[bool, list[float]] = {True: [], False: []}
    queries: dict[bool, int] = {}

    def fetch(enabled: bool) -> float:
        with override_settings(HAVEN_AUDIT_ENABLED=enabled):
            start = time.perf_counter()
            response = client.get(url)
            elapsed = time.perf_counter() - start
        if response.status_code != 200 or b"Document 0" not in response.content:
            raise SystemExit(f"the record page failed: {response.status_code}")
        return elapsed

    for enabled in (True, False):
        for _ in range(10):  # warm up templates, connections and caches
            fetch(enabled)
        with CaptureQueriesContext(connection) as captured:
            fetch(enabled)
        queries[enabled] = len(captured)
    for number in range(requests):
        order = (True, False) if number % 2 else (False, True)
        for enabled in order:
            timings[enabled].append(fetch(enabled) * 1000)
    return {
        enabled: {
            "p50": statistics.median(values),
            "p90": percentile(values, 0.90),
            "mean": statistics.fmean(values),
            "queries": queries[enabled],
        }
        for enabled, values in timings.items()
    }


def parts(people, rounds: int = 60) -> dict[str, float]:
    """The audit record's two parts alone, median ms: the flags' query, and the chain write
    (head lock, insert, head update) with its commit."""
    from django.db import transaction
    from django.utils import timezone

    from haven.audit import chain
    from haven.audit.flags import flags_for
    from haven.audit.models import AuditEvent

    template = AuditEvent.objects.order_by("-sequence").first()
    flag_times, write_times = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        flags_for(
            staff=people.nurse,
            member=people.alice_member,
            purpose="treatment",
            allowed=True,
            at=timezone.now(),
        )
        flag_times.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        with transaction.atomic(durable=True):
            template.pk = None
            template.recorded_at = None
            chain.append(template)
        write_times.append((time.perf_counter() - start) * 1000)
    return {"flags": statistics.median(flag_times), "write": statistics.median(write_times)}


def write_doc(
    args, database: str, load: float, on: dict, off: dict, records: int, pieces: dict
) -> None:
    ratio = on["p50"] / off["p50"] - 1
    verdict = "within" if ratio <= TARGET else "over"
    # One section per database, so a run on SQLite and one on PostgreSQL stand side by side.
    key = "postgresql" if database == "PostgreSQL" else "sqlite"
    lines = [
        f"## Audit overhead on a member-record page, {database.split(' ')[0]} "
        "(bench/audit_overhead.py)",
        "",
        f"Run on {date.today().isoformat()}, {machine()}; Python {platform.python_version()}; "  # noqa: DTZ011
        f"{database}; load average at the start {load:.1f} (the machine is shared: other work "
        "running beside the benchmark slows it down).",
        f"{args.requests} requests in each mode of the staff record page "
        f"(`/records/<pk>/?purpose=treatment`: demographics, contact, coverage and {DOCUMENTS} "
        "documents) as a nurse with a care assignment, with Django's test client; the two modes "
        "alternate request by request. Auditing off keeps the policy and training checks and "
        "leaves out the audit record: the flags (relationship, family and co-workers, volume, "
        "hours), the chain-head lock, the hash and the insert.",
        "",
        "| measure | auditing on | auditing off | on against off |",
        "|---|---:|---:|---:|",
        f"| page p50 (ms) | {on['p50']:.1f} | {off['p50']:.1f} | {ratio:+.0%} |",
        f"| page p90 (ms) | {on['p90']:.1f} | {off['p90']:.1f} | "
        f"{on['p90'] / off['p90'] - 1:+.0%} |",
        f"| page mean (ms) | {on['mean']:.1f} | {off['mean']:.1f} | "
        f"{on['mean'] / off['mean'] - 1:+.0%} |",
        f"| queries per page | {on['queries']} | {off['queries']} | "
        f"{on['queries'] - off['queries']:+d} |",
        "",
        f"Median overhead of the audit record: {on['p50'] - off['p50']:.1f} ms per page, "
        f"{ratio:+.0%}: {verdict} the 15% target. Measured alone in the same run: the flags' "
        f"query {pieces['flags']:.1f} ms, the chain write (the head locked, the record inserted and "
        f"the head moved on, in one statement on PostgreSQL) with "
        f"its commit {pieces['write']:.1f} ms; the commit is the disk flush that makes the record "
        "durable before the page is sent, and it is most of the cost. The chain written during "
        f"the run ({records} records) verified intact afterwards.",
    ]
    write_section(f"audit_overhead:{key}", lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument(
        "--postgres-url", default="", help="run on a fresh PostgreSQL database at this server"
    )
    parser.add_argument("--no-doc", action="store_true", help="print only; leave docs alone")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="haven-bench-audit-"))
    os.environ["HAVEN_ENV"] = "test"
    database = fresh_database("haven_bench_audit", args.postgres_url, workdir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haven.settings")
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()
    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    from haven.audit import chain
    from haven.audit.tests.training import train_all_staff
    from haven.testing.people import HavenTestCase

    setup_test_environment()
    call_command("migrate", verbosity=0)
    HavenTestCase.setUpTestData()
    train_all_staff(HavenTestCase)
    client = prepare(HavenTestCase)

    load = os.getloadavg()[0]
    results = run(HavenTestCase, client, args.requests)
    on, off = results[True], results[False]
    pieces = parts(HavenTestCase)
    verified = chain.verify()
    if not verified.intact:
        raise SystemExit(verified.summary())
    for name, figures in (("on", on), ("off", off)):
        print(
            f"auditing {name}: p50 {figures['p50']:.1f} ms, p90 {figures['p90']:.1f} ms, "
            f"mean {figures['mean']:.1f} ms, {figures['queries']} queries"
        )
    print(f"overhead at the median: {on['p50'] / off['p50'] - 1:+.1%} (target: within 15%)")
    print(f"alone: flags {pieces['flags']:.1f} ms, chain write and commit {pieces['write']:.1f} ms")
    print(verified.summary())
    if not args.no_doc:
        write_doc(args, database, load, on, off, verified.records, pieces)
    return 0


if __name__ == "__main__":
    sys.exit(main())
