"""Benchmark: a member's access archive with years of data, built by the worker (RIG-1).

Builds the test people in a fresh database (SQLite by default, or PostgreSQL), then gives Alice
10,000 secure messages (sealed as the message center seals them, in 200 conversations), 1,000
appointments when the care app is installed, and 100,000 audit records about her (written
through the audit chain as the accessor writes them). Then she asks for a copy of her data and
the database worker builds it: the time from the request to a ready archive is the figure.
Prints it and writes it to docs/benchmarks.md, in this benchmark's own section.

    .venv/bin/python bench/privacy_export.py [--messages N] [--audit N] [--appointments N]
        [--postgres-url postgres://postgres@127.0.0.1:5432]

The target (issue 5): the archive within a minute on this machine.
"""

import argparse
import os
import platform
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchdoc import fresh_database, machine, write_section  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 60
PER_CONVERSATION = 50


def add_messages(people, count: int) -> int:
    from haven.privacy.tests.helpers import conversation_with

    made = 0
    while made < count:
        batch = min(PER_CONVERSATION, count - made)
        conversation_with(
            people.alice_member,
            people.alice,
            [f"Message {made + n}: how is the knee today? " * 3 for n in range(batch)],
            subject=f"Follow-up {made // PER_CONVERSATION}",
        )
        made += batch
    return made


def add_appointments(people, count: int) -> int:
    """Appointments through the care app's own models, if it is installed."""
    from django.apps import apps
    from django.utils import timezone

    if not count or not apps.is_installed("haven.care"):
        return 0
    Practitioner = apps.get_model("care", "Practitioner")
    Service = apps.get_model("care", "Service")
    Slot = apps.get_model("care", "Slot")
    Appointment = apps.get_model("care", "Appointment")
    doctor = Practitioner.objects.create(
        first_name="Ana",
        last_name="Bench",
        specialty=Practitioner._meta.get_field("specialty").choices[0][0],
        address_line="1 Main St",
        city="Hartford",
        postal_code="06103",
        latitude=41.76,
        longitude=-72.67,
    )
    service = Service.objects.create(
        practitioner=doctor, visit_type=Service._meta.get_field("visit_type").choices[0][0]
    )
    start = timezone.now() - timedelta(days=count)
    slots = Slot.objects.bulk_create(
        Slot(
            practitioner=doctor,
            service=service,
            starts_at=start + timedelta(days=n),
            ends_at=start + timedelta(days=n, minutes=30),
        )
        for n in range(count)
    )
    appointments = []
    for slot in slots:
        appointment = Appointment(
            slot=slot,
            practitioner=doctor,
            service=service,
            member=people.alice_member,
            booked_by=people.alice,
            status="confirmed",
        )
        appointment.start_envelope()
        appointment.seal_reason("Knee follow-up")
        appointments.append(appointment)
    Appointment.objects.bulk_create(appointments, batch_size=500)
    return count


def add_audit_records(people, count: int) -> int:
    """Records about Alice, linked and hashed exactly as haven.audit.chain.append links them,
    but inserted in batches (appending one by one would make the fill, not the export, slow)."""
    from django.db import transaction
    from django.utils import timezone

    from haven.audit import chain
    from haven.audit.models import AuditEvent, ChainHead

    staff = [people.nurse, people.representative, people.staff["claims"]]
    start = timezone.now() - timedelta(days=5 * 365)
    step = timedelta(days=5 * 365) / count
    written = 0
    while written < count:
        with transaction.atomic():
            head = chain._locked_head()
            sequence, previous = head.sequence, head.hash
            batch = []
            for n in range(written, min(count, written + 5000)):
                actor = staff[n % len(staff)]
                sequence += 1
                event = AuditEvent(
                    sequence=sequence,
                    prev_hash=previous,
                    recorded_at=start + step * n,
                    type="access",
                    subtype="read",
                    action="R",
                    outcome="allowed",
                    purpose="treatment",
                    actor=actor,
                    actor_label=f"{actor.get_full_name()} ({actor.username})",
                    actor_kind="staff",
                    actor_role=actor.staff_role,
                    member=people.alice_member,
                    entity={"demographics": ["first_name", "last_name"]},
                    source="bench",
                    flagged=False,
                )
                event.hash = previous = event.compute_hash()
                batch.append(event)
            AuditEvent.objects.bulk_create(batch, batch_size=1000)
            ChainHead.objects.filter(pk=chain.HEAD_PK).update(sequence=sequence, hash=previous)
        written += len(batch)
    verification = chain.verify()
    if not verification.intact:
        raise SystemExit(f"the benchmark's audit chain does not verify: {verification.summary()}")
    return written


def write_doc(args, database: str, load: float, result: dict) -> None:
    verdict = "within" if result["seconds"] <= TARGET_SECONDS else "over"
    lines = [
        "## A member's access archive (bench/privacy_export.py)",
        "",
        f"Run on {date.today().isoformat()}, {machine()}; Python {platform.python_version()}; "  # noqa: DTZ011
        f"{database}; load average at the start {load:.1f} (the machine is shared: other work "
        "running beside the benchmark slows it down).",
        f"Alice has {result['messages']:,} secure messages (encrypted, one data key each, in "
        f"{result['conversations']:,} conversations), {result['appointments']:,} appointments "
        f"and {result['audit']:,} audit records about her. She asks for a copy of her data; the "
        "database worker (django-tasks) builds the archive: one audited export, every message "
        "decrypted, JSON of everything, a FHIR R4 Bundle (Patient and Coverage validated with "
        "fhir.resources), a readable HTML summary, zipped and sealed under its own data key.",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| request to ready archive (s) | {result['seconds']:.1f} |",
        f"| archive size (MB, zipped) | {result['size'] / 1e6:.1f} |",
        f"| messages in the archive | {result['counts']['messages']:,} |",
        f"| appointments in the archive | {result['counts']['appointments']:,} |",
        f"| access records in the archive | {result['counts']['access_history']:,} |",
        "",
        f"{result['seconds']:.1f} s: {verdict} the one-minute target.",
    ]
    if not result["appointments"]:
        lines.append(
            "No appointments: the care app (haven.care) was not installed when this ran, so "
            "there was no appointment model to fill."
        )
    write_section("privacy_export", lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--appointments", type=int, default=1_000)
    parser.add_argument("--audit", type=int, default=100_000)
    parser.add_argument(
        "--postgres-url", default="", help="run on a fresh PostgreSQL database at this server"
    )
    parser.add_argument("--no-doc", action="store_true", help="print only; leave docs alone")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="haven-bench-export-"))
    os.environ["HAVEN_ENV"] = "test"
    database = fresh_database("haven_bench_export", args.postgres_url, workdir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haven.settings")
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test.utils import setup_test_environment
    from django_tasks_db.management.commands.db_worker import Worker

    from haven.privacy import services
    from haven.privacy.models import Archive
    from haven.testing.people import HavenTestCase

    setup_test_environment()
    # The benchmark's chain is its own: checkpoints of a local Haven must not be held against it.
    settings.HAVEN_AUDIT_CHECKPOINT_DIR = workdir / "audit-checkpoints"
    call_command("migrate", verbosity=0)
    people = HavenTestCase
    people.setUpTestData()
    began = time.perf_counter()
    messages = add_messages(people, args.messages)
    print(f"{messages} messages in {time.perf_counter() - began:.0f} s", flush=True)
    appointments = add_appointments(people, args.appointments)
    print(f"{appointments} appointments in {time.perf_counter() - began:.0f} s", flush=True)
    audit = add_audit_records(people, args.audit)
    print(f"{audit} audit records in {time.perf_counter() - began:.0f} s", flush=True)

    load = os.getloadavg()[0]
    start = time.perf_counter()
    request = services.rights_request_create(
        kind="access", requester=people.alice, member=people.alice_member, identity="password"
    )
    Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="bench-worker",
        excluded_queue_names=[],
    ).run()
    seconds = time.perf_counter() - start
    archive = Archive.objects.get(request=request)
    if archive.status != Archive.Status.READY:
        raise SystemExit(f"the archive was not built: {archive.status} {archive.step}")
    result = {
        "seconds": seconds,
        "size": archive.size,
        "counts": archive.counts,
        "messages": messages,
        "conversations": (messages + PER_CONVERSATION - 1) // PER_CONVERSATION,
        "appointments": appointments,
        "audit": audit,
    }
    print(
        f"archive ready in {seconds:.1f} s ({archive.size / 1e6:.1f} MB): "
        f"{archive.counts['messages']} messages, {archive.counts['appointments']} appointments, "
        f"{archive.counts['access_history']} access records; target {TARGET_SECONDS} s"
    )
    if not args.no_doc:
        write_doc(args, database, load, result)
    return 0 if seconds <= TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
