"""Benchmark: e-mail per second through the outbox to a local SMTP server over STARTTLS.

Starts aiosmtpd on loopback with STARTTLS required and a throwaway certificate, writes N e-mails
to the outbox (each in its own transaction, with its send task, as a real cause would), then runs
django-tasks' database worker until the outbox is empty. Every e-mail opens its own verified TLS
session, as Haven sends them. Prints the figures and writes them to docs/benchmarks.md, in this
benchmark's own section.

    .venv/bin/python bench/outbox_throughput.py [--emails N] [--database-url URL]

A fresh SQLite file is used unless --database-url names another (empty) database.
"""

import argparse
import os
import platform
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchdoc import machine, write_section  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def write_doc(emails: int, database: str, results: dict[str, float]) -> None:
    lines = [
        "## Outbox: e-mail sent per second over TLS (bench/outbox_throughput.py)",
        "",
        f"Run on {date.today().isoformat()}, {machine()}; Python {platform.python_version()}; "  # noqa: DTZ011
        f"database: {database}; load average at the start {results['load']:.1f} (the machine is "
        "shared: other work running beside the benchmark slows it down).",
        f"{emails:,} e-mails written to the outbox (one transaction each, with its send task), then "
        "sent by one django-tasks database worker to aiosmtpd on loopback with STARTTLS required "
        "and a verified certificate; one TLS session per e-mail, as Haven sends them.",
        "",
        "| step | seconds | e-mails per second |",
        "|---|---:|---:|",
        f"| write to the outbox | {results['enqueue_seconds']:.2f} | {results['enqueue_rate']:.0f} |",
        f"| send over TLS (worker) | {results['send_seconds']:.2f} | {results['send_rate']:.1f} |",
        f"| end to end | {results['total_seconds']:.2f} | {results['total_rate']:.1f} |",
        f"| the TLS session alone, no database | | {results['raw_rate']:.1f} |",
        "",
        f"Received by the server from the worker: {results['received']:,}; all over TLS: "
        f"{'yes' if results['all_tls'] else 'no'}. The difference between the worker and the bare "
        "session is the database work per e-mail: four commits (the worker's claim, our claim, the "
        "result, the worker's result), each a disk sync on SQLite, and their queries.",
    ]
    write_section("outbox_throughput", lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--emails", type=int, default=200)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--no-doc", action="store_true", help="print only; leave docs alone")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="haven-bench-outbox-"))
    os.environ["HAVEN_ENV"] = "test"
    os.environ["DATABASE_URL"] = args.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haven.settings")
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import transaction
    from django.test import override_settings
    from django_tasks_db.management.commands.db_worker import Worker

    from haven.mail.models import Category, OutgoingEmail
    from haven.mail.services import build_message, sender_address, template_email_enqueue
    from haven.mail.tests.smtp_servers import smtp_server, test_pki
    from haven.mail.transport import send_through_relay

    call_command("migrate", verbosity=0)
    pki = test_pki(workdir / "pki")
    database = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]

    with (
        smtp_server(pki=pki, tls="starttls") as server,
        override_settings(
            HAVEN_SMTP_HOST="localhost",
            HAVEN_SMTP_PORT=server.port,
            HAVEN_SMTP_TLS="starttls",
            HAVEN_SMTP_CA_FILE=pki.ca_file,
            HAVEN_MAIL_DELIVERY="relay",
        ),
    ):
        load = os.getloadavg()[0]
        started = time.perf_counter()
        for number in range(args.emails):
            with transaction.atomic():
                template_email_enqueue(
                    template="account_registered",
                    category=Category.REGISTRATION,
                    to_address=f"member{number}@bench.test",
                    link_path="/accounts/login/",
                    reason="benchmark",
                    idempotency_key=f"bench-{number}",
                )
        enqueued = time.perf_counter()
        Worker(
            queue_names=["*"],
            interval=0,
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id="bench",
            excluded_queue_names=[],
        ).run()
        finished = time.perf_counter()
        received = len(server.received)
        all_tls = all(message.over_tls for message in server.received)

        # The SMTP conversation alone (no database), to show what the outbox adds.
        message = build_message(OutgoingEmail.objects.first())
        raw_count = min(args.emails, 50)
        raw_started = time.perf_counter()
        for _number in range(raw_count):
            send_through_relay(message, envelope_from=sender_address(), recipient="raw@bench.test")
        raw_seconds = time.perf_counter() - raw_started

    sent = OutgoingEmail.objects.filter(status=OutgoingEmail.Status.SENT).count()
    if sent != args.emails or received != args.emails:
        print(f"only {sent} sent and {received} received of {args.emails}", file=sys.stderr)
        return 1
    results = {
        "enqueue_seconds": enqueued - started,
        "enqueue_rate": args.emails / (enqueued - started),
        "send_seconds": finished - enqueued,
        "send_rate": args.emails / (finished - enqueued),
        "total_seconds": finished - started,
        "total_rate": args.emails / (finished - started),
        "received": received,
        "all_tls": all_tls,
        "load": load,
        "raw_rate": raw_count / raw_seconds,
    }
    print(
        f"{args.emails} e-mails on {database}: outbox {results['enqueue_rate']:.0f}/s, "
        f"sent over TLS {results['send_rate']:.1f}/s, end to end {results['total_rate']:.1f}/s "
        f"({received} received, all over TLS: {all_tls})"
    )
    if not args.no_doc:
        write_doc(args.emails, database, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
