"""Benchmark: import a 100,000-member roster and 1,000,000 claims on SQLite and PostgreSQL.

Generates synthetic CSV files (nobody in them is real), imports them with `haven import` into a
fresh database of each kind, imports the claims a second time (nothing may change), prints the
figures and writes them to docs/benchmarks.md, in this benchmark's own section.

    .venv/bin/python bench/import_roster_claims.py [--members N] [--claims N]
        [--databases sqlite,postgres] [--postgres-url postgres://postgres@127.0.0.1:5432]

The target (issue 7): both imports together in under five minutes on each database.
"""

import argparse
import csv
import os
import platform
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchdoc import machine, write_section  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
HAVEN = ROOT / ".venv" / "bin" / "haven"
LIMIT_SECONDS = 300

FIRST = ["Ana", "Ben", "Chen", "Dara", "Eli", "Fatima", "Gus", "Hana", "Ivo", "June", "Kofi"]
LAST = ["Adler", "Brook", "Costa", "Diaz", "Eze", "Fox", "Grant", "Holt", "Ito", "Jansen"]
CATEGORIES = ["primary_care", "specialist", "lab", "imaging", "urgent_care", "generic_drugs"]
DIAGNOSES = ["Z00.00", "I10", "E11.9", "J06.9", "M54.5", "R51.9"]
PROCEDURES = ["99213", "99214", "80053", "71046", "J1100"]
STATUSES = ["received", "in_review", "approved", "paid", "paid", "paid", "denied"]


def npi(serial: int) -> str:
    """A valid-looking NPI: nine digits and the Luhn check over 80840 + them."""
    body = f"1{serial:08d}"[:9]
    digits = [int(d) for d in "80840" + body]
    total = 0
    for position, digit in enumerate(reversed(digits)):
        if position % 2 == 0:
            digit = digit * 2 - 9 if digit * 2 > 9 else digit * 2
        total += digit
    return body + str((10 - total % 10) % 10)


def write_plans(path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(
            [
                "plan_code",
                "plan_name",
                "carrier",
                "year",
                "deductible_individual",
                "deductible_family",
                "out_of_pocket_max_individual",
                "out_of_pocket_max_family",
                "category",
                "in_network_copay",
                "in_network_coinsurance",
            ]
        )
        for category in CATEGORIES:
            writer.writerow(
                ["BENCH-PPO", "Bench PPO", "Bench Carrier", 2026, 1000, 2000, 4000, 8000]
                + [category, 25, 20]
            )


def write_roster(path: Path, members: int, rng: random.Random) -> list[str]:
    """Subscribers with 0 to 3 dependants each, until `members` rows; returns the member IDs."""
    ids: list[str] = []
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(
            [
                "member_id",
                "subscriber_id",
                "relationship",
                "first_name",
                "last_name",
                "gender",
                "date_of_birth",
                "group_number",
                "group_name",
                "plan_code",
                "address_line",
                "city",
                "region",
                "postal_code",
                "phone",
                "coverage_start",
            ]
        )
        group = 0
        while len(ids) < members:
            if len(ids) % 500 == 0:
                group += 1
            subscriber = f"B{len(ids) + 1:09d}"
            last = rng.choice(LAST)
            family = [(subscriber, "", "self", 1960 + rng.randrange(40))]
            for kind in rng.choices(["spouse", "child", "child"], k=rng.randrange(4)):
                family.append(
                    (
                        f"B{len(ids) + len(family) + 1:09d}",
                        subscriber,
                        kind,
                        1970 + rng.randrange(50),
                    )
                )
            for member_id, subscriber_id, relationship, year in family[: members - len(ids)]:
                born = date(year, 1, 1) + timedelta(days=rng.randrange(365))
                writer.writerow(
                    [
                        member_id,
                        subscriber_id,
                        relationship,
                        rng.choice(FIRST),
                        last,
                        rng.choice("FMXU"),
                        born.isoformat(),
                        f"BG-{group:04d}",
                        f"Bench employer {group}",
                        "BENCH-PPO",
                        f"{rng.randrange(1, 999)} Synthetic Street",
                        "Hartford",
                        "CT",
                        f"06{rng.randrange(100, 999)}",
                        f"860-555-{rng.randrange(10000):04d}",
                        "2026-01-01",
                    ]
                )
                ids.append(member_id)
    return ids


def write_claims(path: Path, claims: int, member_ids: list[str], rng: random.Random) -> None:
    start = date(2026, 1, 1)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(
            [
                "claim_number",
                "member_id",
                "service_start",
                "service_end",
                "received_on",
                "provider_name",
                "provider_npi",
                "in_network",
                "service_category",
                "status",
                "status_date",
                "billed_amount",
                "allowed_amount",
                "plan_paid",
                "member_responsibility",
                "deductible_applied",
                "diagnosis_codes",
                "procedure_codes",
            ]
        )
        npis = [npi(serial) for serial in range(1, 2001)]
        for serial in range(1, claims + 1):
            served = start + timedelta(days=rng.randrange(300))
            status = rng.choice(STATUSES)
            billed = rng.randrange(5000, 500000) / 100
            allowed = 0.0 if status == "denied" else round(billed * 0.7, 2)
            owed = round(allowed * 0.2, 2)
            paid = round(allowed - owed, 2)
            writer.writerow(
                [
                    f"BC{serial:010d}",
                    rng.choice(member_ids),
                    served.isoformat(),
                    served.isoformat(),
                    (served + timedelta(days=2)).isoformat(),
                    f"Synthetic Clinic {serial % 2000}",
                    npis[serial % 2000],
                    "Y" if rng.random() < 0.9 else "N",
                    rng.choice(CATEGORIES),
                    status,
                    (served + timedelta(days=10)).isoformat(),
                    f"{billed:.2f}",
                    f"{allowed:.2f}",
                    f"{paid:.2f}",
                    f"{owed:.2f}",
                    f"{min(owed, 50):.2f}",
                    ";".join(rng.sample(DIAGNOSES, rng.randrange(1, 3))),
                    rng.choice(PROCEDURES),
                ]
            )


@dataclass
class Step:
    seconds: float  # wall clock
    cpu: float  # user + system time of the import process (the database server's not included)
    load: float  # the machine's one-minute load average when the step began
    summary: str


def run(env: dict[str, str], *args: str) -> Step:
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.monotonic()
    done = subprocess.run(
        [str(HAVEN), *args], env=env, capture_output=True, text=True, check=False, cwd=ROOT
    )
    seconds = time.monotonic() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"haven {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    return Step(seconds, cpu, load, counts(summary))


def counts(summary: str) -> str:
    match = re.search(r"(\d+) created, (\d+) updated, (\d+) unchanged, (\d+) rejected", summary)
    if not match:
        return summary
    return "{} created, {} updated, {} unchanged, {} rejected".format(
        *(f"{int(n):,}" for n in match.groups())
    )


def bench_database(kind: str, url: str, files: dict[str, Path]) -> dict[str, Any]:
    env = {**os.environ, "DATABASE_URL": url, "HAVEN_ENV": "local", "DEBUG": "false"}
    run(env, "migrate", "--no-input", "-v", "0")
    run(env, "import", "plans", str(files["plans"]))
    steps = {
        "roster": run(env, "import", "roster", str(files["roster"])),
        "claims": run(env, "import", "claims", str(files["claims"])),
        "again": run(env, "import", "claims", str(files["claims"])),
    }
    figures = {
        "database": kind,
        "steps": steps,
        "total": steps["roster"].seconds + steps["claims"].seconds,
        "total_cpu": steps["roster"].cpu + steps["claims"].cpu,
    }
    print(
        f"{kind}: "
        + "; ".join(
            f"{name} {step.seconds:.1f} s wall, {step.cpu:.1f} s CPU, load {step.load:.1f} "
            f"({step.summary})"
            for name, step in steps.items()
        ),
        flush=True,
    )
    return figures


def write_doc(members: int, claims: int, results: list[dict[str, Any]]) -> None:
    lines = [
        "## Import: roster and claims (bench/import_roster_claims.py)",
        "",
        f"Run on {date.today().isoformat()}, {machine()}; Python {platform.python_version()}.",  # noqa: DTZ011
        f"Synthetic files: {members:,} roster members, {claims:,} claims, one plan; each import is "
        "`haven import ...` in its own process on a fresh database. Target: roster and claims "
        f"together under {LIMIT_SECONDS // 60} minutes. Wall-clock time, the CPU time of the "
        "import process (user + system; the PostgreSQL server's own work is not in it) and the "
        "machine's one-minute load average when the step began: the machine is shared, and a load "
        "above 2 on its 2 cores means the import waited for the processor.",
        "",
        "| database | step | wall | CPU | load | rows |",
        "|---|---|---:|---:|---:|---|",
    ]
    for figures in results:
        for name, label in (
            ("roster", "roster"),
            ("claims", "claims"),
            ("again", "claims imported again"),
        ):
            step = figures["steps"][name]
            lines.append(
                f"| {figures['database']} | {label} | {step.seconds:.1f} s | {step.cpu:.1f} s "
                f"| {step.load:.1f} | {step.summary} |"
            )
        verdict = "within" if figures["total"] < LIMIT_SECONDS else "**over**"
        lines.append(
            f"| {figures['database']} | **roster + claims** | **{figures['total']:.1f} s** "
            f"| {figures['total_cpu']:.1f} s | | {verdict} the five-minute target (wall) |"
        )
    lines += [
        "",
        "The claims import also writes one status-history row per claim and moves the "
        "deductible and out-of-pocket accumulators of the member-years each claim touches, in "
        "the same transaction as each batch. Importing the claims again must report every row "
        "unchanged.",
    ]
    write_section("import_roster_claims", lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--claims", type=int, default=1_000_000)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--postgres-url", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--no-doc", action="store_true", help="print only; leave docs alone")
    options = parser.parse_args()
    rng = random.Random(7)  # the same synthetic files every run
    with tempfile.TemporaryDirectory(prefix="haven-bench-") as folder:
        work = Path(folder)
        files = {name: work / f"{name}.csv" for name in ("plans", "roster", "claims")}
        began = time.monotonic()
        write_plans(files["plans"])
        member_ids = write_roster(files["roster"], options.members, rng)
        write_claims(files["claims"], options.claims, member_ids, rng)
        print(f"generated the files in {time.monotonic() - began:.1f} s", flush=True)
        results = []
        for kind in options.databases.split(","):
            if kind == "sqlite":
                url = f"sqlite:///{work / 'bench.sqlite3'}"
            elif kind == "postgres":
                name = f"haven_bench_import_{os.getpid()}"
                subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)
                url = f"{options.postgres_url}/{name}"
            else:
                sys.exit(f"unknown database {kind!r}: use sqlite or postgres")
            try:
                results.append(bench_database(kind, url, files))
            finally:
                if kind == "postgres":
                    subprocess.run(
                        ["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", name],
                        check=False,
                    )
    if not options.no_doc:
        write_doc(options.members, options.claims, results)
    if any(figures["total"] >= LIMIT_SECONDS for figures in results):
        sys.exit("over the five-minute target")


if __name__ == "__main__":
    main()
