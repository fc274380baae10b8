"""Benchmark: how late a PostgreSQL streaming replica is behind Haven's writes.

Builds two PostgreSQL servers of its own in a temporary folder, with the server programs
`pg_config --bindir` names (as the `postgres` system user when run as root, which PostgreSQL
refuses): a primary on 127.0.0.1:55432 and a streaming replica of it made with
`pg_basebackup -R` on 55433, asynchronous as docs/scaling.md describes. Haven is
migrated on the primary and loads `haven demo`; then, for --seconds, --writers threads write as
Haven does at full speed (audited reads of members' records, each an audit event on the hash
chain, and practitioners added to the directory) while a probe, every 50 ms, takes the
primary's WAL position and waits until the replica has replayed it: the replication lag.
Last, with DATABASE_REPLICA_URL set, Haven's public directory (/fhir/Practitioner, read from the
replica) is asked for a practitioner the moment it is written on the primary, until it appears.

    .venv/bin/python bench/replica.py [--seconds 30] [--writers 4] [--no-doc]
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchdoc import haven_with_demo, machine, percentile, write_section  # noqa: E402

PRIMARY_PORT, REPLICA_PORT = 55432, 55433
# The server's programs (initdb, pg_ctl, pg_basebackup), where this machine's PostgreSQL keeps them.
PG_BIN = Path(
    subprocess.run(
        ["pg_config", "--bindir"], capture_output=True, text=True, check=True
    ).stdout.strip()
)


def as_postgres(command: list[str], **options) -> subprocess.CompletedProcess:
    """PostgreSQL's programs refuse to run as root: run them as the `postgres` system user then."""
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    return subprocess.run(command, check=True, **options)


def start_servers(workdir: Path) -> tuple[Path, Path]:
    primary, replica = workdir / "primary", workdir / "replica"
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres")
    as_postgres(
        [
            str(PG_BIN / "initdb"),
            "-D",
            str(primary),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
        ],
        stdout=subprocess.DEVNULL,
    )
    with (primary / "postgresql.conf").open("a") as conf:
        conf.write(
            f"port = {PRIMARY_PORT}\nlisten_addresses = '127.0.0.1'\nwal_level = replica\n"
            "max_wal_senders = 4\nhot_standby = on\nunix_socket_directories = ''\n"
        )
    with (primary / "pg_hba.conf").open("a") as hba:
        hba.write("host replication postgres 127.0.0.1/32 trust\n")
    pg_ctl(primary, "start")
    as_postgres(
        [
            str(PG_BIN / "pg_basebackup"),
            "-h",
            "127.0.0.1",
            "-p",
            str(PRIMARY_PORT),
            "-U",
            "postgres",
            "-D",
            str(replica),
            "-R",
            "-X",
            "stream",
        ]
    )
    with (replica / "postgresql.conf").open("a") as conf:
        conf.write(f"port = {REPLICA_PORT}\n")
    pg_ctl(replica, "start")
    return primary, replica


def pg_ctl(data: Path, action: str) -> None:
    as_postgres(
        [str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(data / "server.log"), "-w", action],
        stdout=subprocess.DEVNULL,
    )


def url(port: int, name: str = "haven") -> str:
    return f"postgres://postgres@127.0.0.1:{port}/{name}"


def wait_for_replay(replica, lsn: str, timeout: float = 30.0) -> float:
    """Seconds until the replica has replayed the primary's WAL up to `lsn`."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        row = replica.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [lsn]).fetchone()
        if row[0]:
            return time.perf_counter() - started
        time.sleep(0.0005)
    raise RuntimeError(f"the replica did not replay {lsn} within {timeout} s")


def writer(stop: threading.Event, counts: list[int], number: int) -> None:
    from django.db import connection

    from haven.audit import access
    from haven.audit.policy import Purpose, Resource
    from haven.care.models import Practitioner
    from haven.plans.models import Member

    members = list(Member.objects.all()[:50])
    template = Practitioner.objects.first()
    who = access.system(f"bench-replica-{number}")
    done = 0
    try:
        while not stop.is_set():
            member = members[done % len(members)]
            access.read(
                member=member, resource=Resource.COVERAGE, purpose=Purpose.OPERATIONS, actor=who
            )
            if done % 5 == 0:
                copy = Practitioner.objects.get(pk=template.pk)
                copy.pk = copy.id = None
                copy.recipient = None
                copy.last_name = f"Replica{number}x{done}"
                copy.save()
            done += 1
    finally:
        counts[number] = done
        connection.close()


def lag_under_load(seconds: int, writers: int) -> dict:
    import psycopg

    stop = threading.Event()
    counts = [0] * writers
    threads = [
        threading.Thread(target=writer, args=(stop, counts, number)) for number in range(writers)
    ]
    lags = []
    with (
        psycopg.connect(url(PRIMARY_PORT), autocommit=True) as primary,
        psycopg.connect(url(REPLICA_PORT), autocommit=True) as replica,
    ):
        wal_before = primary.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
        for thread in threads:
            thread.start()
        started = time.perf_counter()
        while time.perf_counter() - started < seconds:
            lsn = primary.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
            lags.append(wait_for_replay(replica, str(lsn)) * 1000)
            time.sleep(0.05)
        stop.set()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        wal_bytes = primary.execute(
            "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s::pg_lsn)", [str(wal_before)]
        ).fetchone()[0]
    return {
        "lags": lags,
        "operations": sum(counts),
        "elapsed": elapsed,
        "wal_mb_s": float(wal_bytes) / elapsed / 1024 / 1024,
    }


def directory_staleness(tries: int) -> tuple[list[float], list[float]]:
    """Milliseconds from a practitioner's commit on the primary until Haven's public directory,
    which reads from the replica, lists them; and one directory request's own time."""
    from django.test import Client

    from haven.care.models import Practitioner

    client = Client()
    template = Practitioner.objects.first()
    alone = []
    for _ in range(tries):
        started = time.perf_counter()
        client.get(f"/fhir/Practitioner?name={template.last_name}")
        alone.append((time.perf_counter() - started) * 1000)
    seen = []
    for number in range(tries):
        name = f"Fresh{number}Replica"
        copy = Practitioner.objects.get(pk=template.pk)
        copy.pk = copy.id = None
        copy.recipient = None
        copy.last_name = name
        copy.save()
        written = time.perf_counter()
        while True:
            page = client.get(f"/fhir/Practitioner?name={name}")
            if page.status_code == 200 and name.encode() in page.content:
                seen.append((time.perf_counter() - written) * 1000)
                break
            if time.perf_counter() - written > 30:
                raise RuntimeError("the directory never showed the new practitioner")
        time.sleep(0.1)
    return seen, alone


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--tries", type=int, default=50)
    parser.add_argument("--no-doc", action="store_true", help="print only; leave docs alone")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="haven-replica-"))
    primary, replica = start_servers(workdir)
    try:
        import psycopg

        with psycopg.connect(url(PRIMARY_PORT, "postgres"), autocommit=True) as admin:
            admin.execute("CREATE DATABASE haven")
        env = {
            **os.environ,
            "DATABASE_URL": url(PRIMARY_PORT),
            "DATABASE_REPLICA_URL": url(REPLICA_PORT),
            "HAVEN_AUDIT_CHECKPOINT_DIR": str(workdir / "checkpoints"),
        }
        haven_with_demo(env)
        load = os.getloadavg()
        measured = lag_under_load(args.seconds, args.writers)
        staleness, alone = directory_staleness(args.tries)
    finally:
        pg_ctl(replica, "stop")
        pg_ctl(primary, "stop")
        shutil.rmtree(workdir, ignore_errors=True)

    lags = measured["lags"]
    rate = measured["operations"] / measured["elapsed"]
    figures = (
        f"replication lag over {len(lags)} probes: p50 {statistics.median(lags):.2f} ms, "
        f"p95 {percentile(lags, 0.95):.2f} ms, p99 {percentile(lags, 0.99):.2f} ms, "
        f"max {max(lags):.2f} ms, under {rate:.0f} Haven writes/s from {args.writers} threads "
        f"({measured['wal_mb_s']:.2f} MB of WAL/s)"
    )
    directory = (
        f"directory read from the replica shows a new practitioner after p50 "
        f"{statistics.median(staleness):.1f} ms, p95 {percentile(staleness, 0.95):.1f} ms, "
        f"max {max(staleness):.1f} ms ({len(staleness)} tries, idle primary), where one "
        f"directory request alone takes p50 {statistics.median(alone):.1f} ms"
    )
    print(figures)
    print(directory)
    if args.no_doc:
        return 0
    write_section(
        "replica",
        [
            "## Read replica: how late it is (bench/replica.py)",
            "",
            f"Run on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()}; load average before "
            f"{', '.join(f'{x:.2f}' for x in load)}. Two PostgreSQL 15 servers of the script's "
            "own on this machine: a primary and an asynchronous streaming replica "
            "(`pg_basebackup -R`, defaults otherwise), Haven migrated with `haven demo` on the "
            "primary and DATABASE_REPLICA_URL pointing at the replica. Both servers, the writers "
            "and the probe share the 2 cores, and replication crosses loopback, not a network: "
            "a replica on another machine adds the network's round trip.",
            "",
            f"- Under write load ({args.seconds} s; each write an audited read of a member's "
            "coverage through `haven.audit.access`, that is an audit event on the hash chain, and "
            "every fifth also a practitioner added to the directory): " + figures + ".",
            "- End to end through Haven: " + directory + ". The probe asks the public FHIR "
            "directory (`/fhir/Practitioner?name=`, marked `reads_from_replica()`) right after "
            "the commit and again until the new name is listed.",
            "",
            "What may read from the replica is only what tolerates this lateness (docs/scaling.md): "
            "the public directory, the library, statistics; never a page after its own form, "
            "sign-in state or the audit trail.",
        ],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
