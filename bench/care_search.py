"""Benchmark: the care finder's search over 100,000 practitioners, on SQLite and PostgreSQL (CARE-1).

Generates a synthetic directory (nobody in it is real) spread over the Connecticut ZIP table Haven
ships, with languages, specialties, new-patient status and free times for some, in a fresh database
of each kind; then requests the search page (Django's test client, the whole view and template)
with a mix of searches: distance from a ZIP code or town with and without filters, names, names
near a place, specialty lists, later pages, facilities. Prints p50 and p95 and writes them to
docs/benchmarks.md, in this benchmark's own section.

    .venv/bin/python bench/care_search.py [--practitioners N] [--searches N]
        [--databases sqlite,postgres] [--postgres-url postgres://postgres@127.0.0.1:5432]

The target (issue 6): the 95th percentile under 100 ms on this machine.
"""

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchdoc import machine, percentile, write_section  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 100

FIRST = [
    "Ana",
    "Ben",
    "Chen",
    "Dara",
    "Eli",
    "Fatima",
    "Gus",
    "Hana",
    "Ivo",
    "June",
    "Kofi",
    "Lena",
    "Marco",
    "Nadia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Tariq",
    "Uma",
    "Vera",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoe",
    "Ji-woo",
    "Luca",
    "Sofia",
    "Mateo",
]
LAST = [
    "Adler",
    "Brook",
    "Costa",
    "Diaz",
    "Eze",
    "Fox",
    "Grant",
    "Holt",
    "Ito",
    "Jansen",
    "Kim",
    "Lopez",
    "Moretti",
    "Nguyen",
    "Okafor",
    "Park",
    "Quinlan",
    "Rossi",
    "Silva",
    "Tanaka",
    "Underwood",
    "Vargas",
    "Walsh",
    "Xu",
    "Young",
    "Zielinski",
    "Garcia",
    "Bianchi",
    "Cohen",
    "Patel",
]


def generate(count: int, rng: random.Random) -> float:
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from haven.care import geo
    from haven.care.models import (
        LANGUAGE_BITS,
        BookingMode,
        Facility,
        Practitioner,
        PractitionerName,
        Service,
        Slot,
        Specialty,
        VisitType,
        languages_mask,
    )
    from haven.care.services import name_index_rows

    started = time.perf_counter()
    zips = list(geo.zip_table().items())
    specialties = Specialty.values
    batch = []
    for _ in range(count):
        zip_code, (city, lat, lon) = rng.choice(zips)
        spoken = {"en"} if rng.random() < 0.9 else set()
        for _ in range(rng.choice([0, 0, 1, 1, 2])):
            spoken.add(rng.choice(LANGUAGE_BITS))
        batch.append(
            Practitioner(
                first_name=rng.choice(FIRST),
                last_name=rng.choice(LAST),
                credentials="MD",
                specialty=rng.choice(specialties),
                accepting_new_patients=rng.random() < 0.7,
                address_line=f"{rng.randint(1, 999)} Main Street",
                city=city,
                postal_code=zip_code,
                latitude=lat + rng.gauss(0, 0.03),
                longitude=lon + rng.gauss(0, 0.04),
                languages=languages_mask(spoken or {"es"}),
            )
        )
        if len(batch) == 5000:
            Practitioner.objects.bulk_create(batch)
            batch = []
    Practitioner.objects.bulk_create(batch)
    words = []
    for practitioner in Practitioner.objects.only("pk", "first_name", "last_name").iterator():
        # The name index exactly as services.practitioner_save writes it.
        words += name_index_rows(practitioner)
        if len(words) >= 20000:
            PractitionerName.objects.bulk_create(words)
            words = []
    PractitionerName.objects.bulk_create(words)
    Facility.objects.bulk_create(
        Facility(
            name=f"{rng.choice(LAST)} {kind.title()} {n}",
            kind=kind,
            address_line="1 Main Street",
            city=city,
            postal_code=zip_code,
            latitude=lat + rng.gauss(0, 0.02),
            longitude=lon + rng.gauss(0, 0.03),
            search_name=f"{kind} {n}",
            languages=1,
        )
        for n, (kind, (zip_code, (city, lat, lon))) in enumerate(
            (rng.choice(["hospital", "clinic", "lab", "pharmacy"]), rng.choice(zips))
            for _ in range(500)
        )
    )
    # Free times for one practitioner in fifty, so result pages show "next free time".
    ids = list(Practitioner.objects.values_list("pk", flat=True)[::50])
    services = Service.objects.bulk_create(
        Service(practitioner_id=pk, visit_type=VisitType.NEW_PATIENT, booking=BookingMode.DIRECT)
        for pk in ids
    )
    start = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    Slot.objects.bulk_create(
        Slot(
            practitioner_id=service.practitioner_id,
            service=service,
            starts_at=start + timedelta(hours=hour),
            ends_at=start + timedelta(hours=hour, minutes=30),
        )
        for service in services
        for hour in range(0, 200, 10)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return time.perf_counter() - started


def searches(count: int, rng: random.Random) -> list[tuple[str, dict]]:
    from haven.care import geo
    from haven.care.models import Specialty

    zips = list(geo.zip_table())
    towns = sorted({city for city, _lat, _lon in geo.zip_table().values()})
    kinds = [
        (
            "near a ZIP code",
            lambda: {"near": rng.choice(zips), "radius": rng.choice([5, 10, 25, 50])},
        ),
        (
            "near a town, one specialty",
            lambda: {"near": rng.choice(towns), "specialty": rng.choice(Specialty.values)},
        ),
        (
            "near a ZIP code, one language",
            lambda: {
                "near": rng.choice(zips),
                "language": rng.choice(["es", "it", "pt", "ko", "pl"]),
            },
        ),
        (
            "specialty, language, new patients, near",
            lambda: {
                "near": rng.choice(zips),
                "specialty": rng.choice(Specialty.values),
                "language": "es",
                "accepting": "on",
            },
        ),
        ("a name", lambda: {"q": rng.choice(LAST)}),
        (
            "a full name near a ZIP code",
            lambda: {
                "q": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                "near": rng.choice(zips),
                "radius": 50,
            },
        ),
        (
            "one specialty, by name",
            lambda: {"specialty": rng.choice(Specialty.values), "page": rng.randint(1, 5)},
        ),
        (
            "a later page near a ZIP code",
            lambda: {"near": rng.choice(zips), "page": rng.randint(2, 6)},
        ),
        ("facilities near a town", lambda: {"kind": "facilities", "near": rng.choice(towns)}),
    ]
    return [(kinds[n % len(kinds)][0], kinds[n % len(kinds)][1]()) for n in range(count)]


def worker(args) -> None:
    """Runs in its own process, on the database named by DATABASE_URL."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haven.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)
    rng = random.Random(6)
    generated = generate(args.practitioners, rng)
    client = Client()
    plan = searches(args.searches, rng)
    for _kind, query in plan[:20]:  # warm the caches and the connection
        client.get("/care/", query)
    times, cpu, by_kind = [], [], {}
    for kind, query in plan:
        wall, used = time.perf_counter(), time.process_time()
        response = client.get("/care/", query)
        elapsed = (time.perf_counter() - wall) * 1000
        cpu.append((time.process_time() - used) * 1000)
        assert response.status_code == 200, (response.status_code, query)
        times.append(elapsed)
        by_kind.setdefault(kind, []).append(elapsed)
    print(
        json.dumps(
            {
                "generated_seconds": generated,
                "p50": statistics.median(times),
                "p95": percentile(times, 0.95),
                "max": max(times),
                "cpu_p50": statistics.median(cpu),
                "cpu_p95": percentile(cpu, 0.95),
                "kinds": {
                    kind: [statistics.median(v), percentile(v, 0.95)] for kind, v in by_kind.items()
                },
                "count": len(times),
            }
        )
    )


def run_on(database: str, args) -> dict:
    env = dict(os.environ, HAVEN_ENV="test", DATABASE_URL=database)
    command = [
        sys.executable,
        __file__,
        "--worker",
        "--practitioners",
        str(args.practitioners),
        "--searches",
        str(args.searches),
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def write_doc(args, load: float, results: dict[str, dict]) -> None:
    lines = [
        "## Care finder: search over 100,000 practitioners (bench/care_search.py)",
        "",
        f"Run on {date.today().isoformat()}, {machine()}; Python {platform.python_version()}; "  # noqa: DTZ011
        f"load average at the start {load:.1f} (the machine is shared: other work running beside the "
        "benchmark slows it down, and the wall-clock figures with it).",
        f"{args.practitioners:,} synthetic practitioners spread over the shipped Connecticut ZIP table "
        "(languages, specialties, new-patient status; free times for one in fifty) and 500 facilities, "
        f"in a fresh database of each kind; then {args.searches} requests of the search page through "
        "Django's test client (view, queries and template), a mix of nine kinds of search in turn. "
        f"Target: p95 under {TARGET_MS} ms.",
        "",
        "| database | p50 (ms) | p95 (ms) | max (ms) | CPU p50 (ms) | CPU p95 (ms) | target met |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for name, figures in results.items():
        met = "yes" if figures["p95"] < TARGET_MS else "no"
        lines.append(
            f"| {name} | {figures['p50']:.1f} | {figures['p95']:.1f} | {figures['max']:.1f} | "
            f"{figures['cpu_p50']:.1f} | {figures['cpu_p95']:.1f} | {met} |"
        )
    lines += [
        "",
        "By kind of search (median / p95, ms):",
        "",
        "| search | " + " | ".join(results) + " |",
        "|---|" + "---:|" * len(results),
    ]
    kinds = next(iter(results.values()))["kinds"]
    for kind in kinds:
        cells = [
            f"{results[name]['kinds'][kind][0]:.1f} / {results[name]['kinds'][kind][1]:.1f}"
            for name in results
        ]
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "CPU is the benchmark process's own time per request (the database's too on SQLite, which "
        "runs in the process); the gap to the wall-clock figures is time spent waiting for a core "
        "on the shared machine, and on PostgreSQL the server's work.",
    ]
    write_section("care_search", lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--practitioners", type=int, default=100_000)
    parser.add_argument("--searches", type=int, default=270)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--postgres-url", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-doc", action="store_true", help="print only; leave docs alone")
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return 0
    load = os.getloadavg()[0]
    results = {}
    for database in args.databases.split(","):
        if database == "sqlite":
            folder = Path(tempfile.mkdtemp(prefix="haven-bench-care-"))
            results["SQLite"] = run_on(f"sqlite:///{folder / 'bench.sqlite3'}", args)
        elif database == "postgres":
            name = f"haven_bench_care_{os.getpid()}"
            host = args.postgres_url.rstrip("/")
            subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)
            try:
                results["PostgreSQL"] = run_on(f"{host}/{name}", args)
            finally:
                subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", name], check=False)
        figures = results[list(results)[-1]]
        print(
            f"{list(results)[-1]}: p50 {figures['p50']:.1f} ms, p95 {figures['p95']:.1f} ms "
            f"(CPU p95 {figures['cpu_p95']:.1f} ms); directory built in {figures['generated_seconds']:.0f} s"
        )
    if not args.no_doc:
        write_doc(args, load, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
