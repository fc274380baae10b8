"""Benchmark: Haven under load: members, staff and API clients with locust against gunicorn.

Creates a fresh PostgreSQL database (haven_bench_load), migrates it, loads `haven demo` and a
synthetic population (nobody in it is real): a few thousand members with claims, conversations
in the message center (encrypted as always), care assignments, and 2,000 practitioners copied
from the demo's under synthetic names.
Then serves Haven with gunicorn (2 workers x 4 threads on this 2-core machine) and runs locust
headless four times with the same users (bench/locustfile.py), in the order on, off, off, on:
"on" as Haven always runs, "off" on a copy of the same database with Haven's privacy machinery
off: no audit record (HAVEN_AUDIT_ENABLED=False), messages stored and read in plain text
(HAVEN_MESSAGE_ENCRYPTION=False, the copy's envelopes decrypted beforehand) and no access checks
(training, purpose, role, grant: this script's own WSGI module opens every field asked for).
Production refuses the two settings; the third exists only here. Prints throughput and
p50/p95/p99 per page and writes docs/benchmarks.md (section "load").

    .venv/bin/python bench/load.py [--users 50] [--spawn-rate 10] [--run-time 60s]
        [--members 3000] [--postgres-url postgres://postgres@127.0.0.1:5432] [--no-doc]

Settings used (the closest to production this machine allows without a TLS terminator):
HAVEN_ENV=local with DEBUG=0, HAVEN_HTTPS=0 (plain HTTP on 127.0.0.1), its own SECRET_KEY,
HAVEN_LOOKUP_KEY and HAVEN_KEKS (messages encrypted with a configured KEK as in production),
DB_CONN_MAX_AGE=60, REDIS_URL (cache and cached_db sessions) when Redis answers, LOG_LEVEL=WARNING.
The target (issue 9): p95 under 200 ms at 50 concurrent users.
"""

import argparse
import base64
import csv
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchdoc import ROOT, haven_with_demo, machine, write_section  # noqa: E402

TARGET_P95_MS = 200
DATABASE = "haven_bench_load"
PLAIN_DATABASE = "haven_bench_load_plain"
ORDER = (True, False, False, True)  # machinery on, off, off, on
PORT = 8765
BIN = Path(sys.executable).parent
MEMBER_ACCOUNTS = 60
STAFF_ACCOUNTS = 20
CONVERSATIONS_EACH = 5
CLAIMS_EACH = 12
PRACTITIONERS = 2000
# The pages reported, in this order (locust's request names).
PAGES = [
    "home (member)",
    "messages inbox",
    "message conversation",
    "plan",
    "claims",
    "staff workspace",
    "staff message queue",
    "member record (staff, audited)",
    "FHIR metadata",
    "FHIR provider directory",
    "sign in (member)",
    "sign in (staff)",
    "two-factor",
]
SETTINGS_MODULE = """
import os
from haven.settings import *  # noqa: F401,F403
HAVEN_AUDIT_ENABLED = os.environ.get("HAVEN_BENCH_MACHINERY", "1") == "1"
HAVEN_MESSAGE_ENCRYPTION = HAVEN_AUDIT_ENABLED
"""
# The baseline's access decision: every field asked for is opened, with no training, purpose,
# role or grant check. Only this benchmark's server loads it.
WSGI_MODULE = """
import os
from haven.wsgi import application  # noqa: F401
if os.environ.get("HAVEN_BENCH_MACHINERY", "1") == "0":
    from haven.audit import access, policy

    def _decide_without_checks(who, member, resources, fields, purpose, *_rest, **_named):
        decision = access._Decision(purpose=purpose or policy.Purpose.SELF, permit=policy.SELF)
        decision.fields = access._requested_fields(resources, fields)
        return decision

    access._decide = _decide_without_checks
"""


def environment(args, workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "HAVEN_ENV": "local",
            "DEBUG": "0",
            "HAVEN_HTTPS": "0",
            "SECRET_KEY": "bench-load-" + "k" * 50,
            "HAVEN_LOOKUP_KEY": "bench-load-lookup-key",
            "HAVEN_KEKS": "bench1:" + base64.b64encode(b"b" * 32).decode(),
            "HAVEN_KEK_CURRENT": "bench1",
            "DATABASE_URL": f"{args.postgres_url.rstrip('/')}/{DATABASE}",
            "DB_CONN_MAX_AGE": "60",
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": f"{workdir}{os.pathsep}{ROOT}",
        }
    )
    if args.redis_url:
        env["REDIS_URL"] = args.redis_url
    return env


def redis_answers(url: str) -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_timeout=1).ping())
    except Exception:  # noqa: BLE001 - no Redis simply means the local cache
        return False


def fresh_database(args, name: str = DATABASE, template: str = "") -> None:
    import psycopg

    with psycopg.connect(f"{args.postgres_url.rstrip('/')}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))


def audit_events(args, name: str) -> int:
    import psycopg

    from haven.audit.models import AuditEvent

    with psycopg.connect(f"{args.postgres_url.rstrip('/')}/{name}") as conn:
        return conn.execute(f"SELECT count(*) FROM {AuditEvent._meta.db_table}").fetchone()[0]  # noqa: S608


def decrypt_copy(args, env: dict[str, str]) -> int:
    """The baseline's data: the same rows, the messages' envelopes opened and stored in plain text
    as HAVEN_MESSAGE_ENCRYPTION=False writes them (an empty KEK id)."""
    script = (
        "import django; django.setup()\n"
        "from haven.lib import crypto\n"
        "from haven.messaging.models import Sealed\n"
        "total = 0\n"
        "for entry in crypto.sealed_models():\n"
        "    model = entry.model\n"
        "    if not issubclass(model, Sealed):\n"
        "        continue\n"
        "    names = [f.name[:-7] for f in model._meta.fields if f.name.endswith('_sealed')]\n"
        "    for row in model.objects.exclude(kek_id=crypto.PLAINTEXT_KEK_ID).iterator():\n"
        "        plain = {name: row.unseal(name) for name in names}\n"
        "        for name, value in plain.items():\n"
        "            setattr(row, name + '_sealed', value)\n"
        "        row.kek_id, row.wrapped_key = crypto.PLAINTEXT_KEK_ID, b''\n"
        "        row.save(update_fields=[n + '_sealed' for n in names] + ['kek_id', 'wrapped_key'])\n"
        "        total += 1\n"
        "print(total)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={
            **env,
            "DATABASE_URL": f"{args.postgres_url.rstrip('/')}/{PLAIN_DATABASE}",
            "DJANGO_SETTINGS_MODULE": "haven.settings",
        },
        check=True,
        capture_output=True,
        text=True,
    )
    return int(done.stdout.split()[-1])


def populate(members: int, rng: random.Random) -> dict:
    """Synthetic members, claims, conversations and assignments; the locust accounts."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection
    from django.utils import timezone
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from haven.accounts.demo import DEMO_PASSWORD
    from haven.accounts.models import User
    from haven.audit.models import TrainingAttestation
    from haven.messaging import services
    from haven.messaging.services import Mailbox
    from haven.plans.models import Claim, ClaimStatus, EmployerGroup, Member
    from haven.records.models import CareAssignment

    groups = list(EmployerGroup.objects.all())
    today = timezone.localdate()
    password = make_password(DEMO_PASSWORD)
    first = ["Ana", "Ben", "Chiara", "Dev", "Eva", "Femi", "Gia", "Hugo", "Ines", "Jon"]
    last = ["Rossi", "Smith", "Garcia", "Okafor", "Nguyen", "Cohen", "Silva", "Brown", "Khan"]
    roster = Member.objects.bulk_create(
        [
            Member(
                member_id=f"BL{number:07d}",
                group=groups[number % len(groups)],
                relationship="self",
                first_name=rng.choice(first),
                last_name=rng.choice(last),
                gender=rng.choice("FM"),
                date_of_birth=date(1940, 1, 1) + timedelta(days=rng.randrange(29000)),
                postal_code=f"06{rng.randrange(1000):03d}",
                city="Hartford",
                region="CT",
                coverage_start=date(2022, 1, 1),
            )
            for number in range(members)
        ],
        batch_size=1000,
    )
    claims = []
    for member in roster:
        for number in range(rng.randrange(4, CLAIMS_EACH + 1)):
            start = today - timedelta(days=rng.randrange(700))
            billed = rng.randrange(80, 4000)
            allowed = billed * 6 // 10
            share = allowed // 5
            claims.append(
                Claim(
                    claim_number=f"{member.member_id}-{number}",
                    member=member,
                    service_start=start,
                    service_end=start,
                    received_on=start + timedelta(days=3),
                    provider_name="Hartford Family Medicine",
                    status=rng.choice([ClaimStatus.PAID, ClaimStatus.APPROVED, ClaimStatus.DENIED]),
                    status_on=start + timedelta(days=20),
                    billed_amount=billed,
                    allowed_amount=allowed,
                    plan_paid=allowed - share,
                    member_responsibility=share,
                    deductible_applied=share // 2,
                    diagnosis_codes=["E11.9"],
                    procedure_codes=["99213"],
                )
            )
    Claim.objects.bulk_create(claims, batch_size=2000)
    # Three in ten members have an account, as in analytics_report.py.
    User.objects.bulk_create(
        [
            User(username=f"bl{m.pk}", kind=User.Kind.MEMBER, member=m, password=password)
            for m in roster[MEMBER_ACCOUNTS:]
            if m.pk % 10 < 3
        ],
        batch_size=1000,
    )
    accounts = []
    for number, member in enumerate(roster[:MEMBER_ACCOUNTS]):
        user = User.objects.create(
            username=f"bench-member-{number}",
            kind=User.Kind.MEMBER,
            member=member,
            password=password,
            first_name=member.first_name,
        )
        conversations = [
            services.conversation_start(
                mailbox=Mailbox(member=member),
                topic="care_question",
                subject=f"Question {n} about my prescription",
                body="My readings were higher this week. Should I change the dose? " * 3,
                files=[],
                idempotency_key=uuid.uuid4(),
                actor=user,
            ).pk
            for n in range(CONVERSATIONS_EACH)
        ]
        accounts.append({"username": user.username, "conversations": conversations})
    compliance = User.objects.get(username="connor")
    now = timezone.now()
    staff = []
    for number in range(STAFF_ACCOUNTS):
        user = User.objects.create(
            username=f"bench-nurse-{number}",
            kind=User.Kind.STAFF,
            staff_role=User.StaffRole.CARE_TEAM,
            password=password,
            first_name="Nurse",
            last_name=str(number),
        )
        device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
        TrainingAttestation.objects.create(
            staff=user,
            course="HIPAA privacy and security (annual)",
            completed_at=now - timedelta(days=30),
            expires_at=now + timedelta(days=300),
            recorded_by=compliance,
        )
        assigned = rng.sample(roster, 15)
        CareAssignment.objects.bulk_create(
            [CareAssignment(staff=user, member=m, kind=CareAssignment.Kind.CARE) for m in assigned]
        )
        staff.append(
            {"username": user.username, "totp_key": device.key, "members": [m.pk for m in assigned]}
        )
    # The directory: copies of the demo's practitioners under synthetic names.
    from haven.care.models import Practitioner

    templates = list(Practitioner.objects.all())
    copies = []
    for number in range(PRACTITIONERS):
        copy = Practitioner.objects.get(pk=templates[number % len(templates)].pk)
        copy.pk = copy.id = None
        copy.recipient = None
        copy.first_name, copy.last_name = rng.choice(first), f"{rng.choice(last)}son{number}"
        copies.append(copy)
    Practitioner.objects.bulk_create(copies, batch_size=1000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"password": DEMO_PASSWORD, "members": accounts, "staff": staff}


def prepare(args, env: dict[str, str]) -> dict:
    """Migrate and load the demo in subprocesses, then fill the rest in this process."""
    haven_with_demo(env)
    return populate(args.members, random.Random(9))


def serve(env: dict[str, str], machinery: bool, database_url: str) -> subprocess.Popen:
    server_env = {
        **env,
        "DJANGO_SETTINGS_MODULE": "haven_bench_settings",
        "HAVEN_BENCH_MACHINERY": "1" if machinery else "0",
        "DATABASE_URL": database_url,
    }
    process = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "haven_bench_wsgi",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--workers",
            "2",
            "--threads",
            "4",
            "--worker-class",
            "gthread",
            # Longer than a user's longest wait (3 s), as a TLS terminator in front holds its
            # clients' connections: with gunicorn's 2 s a connection is closed while the client
            # sends its next request on it, and locust counts a connection reset.
            "--keep-alive",
            "5",
            "--log-level",
            "warning",
        ],
        env=server_env,
        cwd=ROOT,
    )
    for _ in range(100):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/fhir/metadata", timeout=2):  # noqa: S310
                break
        except OSError:
            time.sleep(0.3)
    else:
        process.terminate()
        raise SystemExit("gunicorn did not answer")
    # Warm both workers (imports, templates, connections) before measuring.
    for _ in range(20):
        for path in ("/fhir/metadata", "/accounts/login/", "/fhir/Practitioner?name=son"):
            with urllib.request.urlopen(f"http://127.0.0.1:{PORT}{path}", timeout=10):  # noqa: S310
                pass
    return process


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def locust(args, env: dict[str, str], accounts_file: Path, prefix: Path) -> dict[str, dict]:
    subprocess.run(
        [
            str(BIN / "locust"),
            "-f",
            str(ROOT / "bench" / "locustfile.py"),
            "--headless",
            "-u",
            str(args.users),
            "-r",
            str(args.spawn_rate),
            "--run-time",
            f"{args.warmup + args.run_time}s",
            "--host",
            f"http://127.0.0.1:{PORT}",
            "--csv",
            str(prefix),
            "--only-summary",
            "--loglevel",
            "WARNING",
        ],
        env={
            **env,
            "HAVEN_LOAD_ACCOUNTS": str(accounts_file),
            "HAVEN_LOAD_WARMUP": str(args.warmup),
            "HAVEN_LOAD_WARMUP_FILE": f"{prefix}_warmup.json",
        },
        check=False,  # locust exits 1 when any request failed; the figures say so
    )

    def number(text: str) -> float:
        try:
            return float(text)
        except ValueError:  # "N/A" for a page not requested after the warm-up
            return 0.0

    results = {}
    with open(f"{prefix}_stats.csv", encoding="utf-8") as stats:
        for row in csv.DictReader(stats):
            results[row["Name"]] = {
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "rps": number(row["Requests/s"]),
                "p50": number(row["50%"]),
                "p95": number(row["95%"]),
                "p99": number(row["99%"]),
                "mean": number(row["Average Response Time"]),
            }
    with open(f"{prefix}_failures.csv", encoding="utf-8") as failures:
        results["_errors"] = [
            f"{row['Occurrences']} x {row['Method']} {row['Name']}: {row['Error']}"
            for row in csv.DictReader(failures)
        ]
    warmup = Path(f"{prefix}_warmup.json")
    results["_warmup"] = json.loads(warmup.read_text()) if warmup.exists() else {}
    return results


def ratio_of(on: dict, off: dict) -> float:
    return on.get("p50", 0) / off["p50"] if off.get("p50") else 0.0


def combined(results: list[dict[str, dict]]) -> dict[str, dict]:
    """The runs of one mode as one: requests and failures added, rates and percentiles averaged
    (locust reports each run's percentiles, not the times behind them)."""
    names = {name for result in results for name in result}
    merged = {}
    for name in names:
        rows = [result[name] for result in results if name in result]
        merged[name] = {
            key: sum(row[key] for row in rows)
            if key in ("requests", "failures")
            else sum(row[key] for row in rows) / len(rows)
            for key in rows[0]
        }
    return merged


def private_pages(on: dict, off: dict) -> list[str]:
    """The pages that read members' data (not sign-in or the public API), measured in both."""
    return [name for name in PAGES[:8] if name in on and name in off]


def private_ratio(on: dict, off: dict) -> float:
    """Mean p50 on the pages that read members' data, machinery on against off."""
    pages = private_pages(on, off)
    mean_off = sum(off[name]["p50"] for name in pages) / len(pages)
    return sum(on[name]["p50"] for name in pages) / len(pages) / mean_off if mean_off else 0.0


def table(on: dict[str, dict], off: dict[str, dict]) -> list[str]:
    lines = [
        "| page | requests | failures | req/s | p50 ms | p95 ms | p99 ms "
        "| p50 machinery off | p95 machinery off | p50 ratio on/off |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in [*PAGES, "Aggregated"]:
        if name not in on or not on[name]["requests"]:
            continue
        a, b = on[name], off.get(name, {})
        lines.append(
            f"| {name} | {a['requests']} | {a['failures']} | {a['rps']:.1f} | {a['p50']:.0f} | "
            f"{a['p95']:.0f} | {a['p99']:.0f} | {b.get('p50', 0):.0f} | {b.get('p95', 0):.0f} | "
            f"{ratio_of(a, b):.2f} |"
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-rate", type=int, default=10)
    parser.add_argument("--run-time", type=int, default=60, help="seconds measured")
    parser.add_argument(
        "--warmup", type=int, default=20, help="seconds first, while users start and sign in"
    )
    parser.add_argument("--members", type=int, default=3000)
    parser.add_argument("--postgres-url", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/11")
    parser.add_argument("--no-doc", action="store_true", help="print only; leave docs alone")
    args = parser.parse_args()
    if args.redis_url and not redis_answers(args.redis_url):
        print(f"Redis does not answer at {args.redis_url}: local memory cache instead")
        args.redis_url = ""

    workdir = Path(tempfile.mkdtemp(prefix="haven-load-"))
    (workdir / "haven_bench_settings.py").write_text(SETTINGS_MODULE, encoding="utf-8")
    (workdir / "haven_bench_wsgi.py").write_text(WSGI_MODULE, encoding="utf-8")
    env = environment(args, workdir)
    started = time.perf_counter()
    fresh_database(args)
    accounts = prepare(args, env)
    accounts_file = workdir / "accounts.json"
    accounts_file.write_text(json.dumps(accounts), encoding="utf-8")
    from django.db import connection

    from haven.care.models import Practitioner
    from haven.messaging.models import Conversation
    from haven.plans.models import Claim, Member

    sizes = {
        "members": Member.objects.count(),
        "claims": Claim.objects.count(),
        "conversations": Conversation.objects.count(),
        "practitioners": Practitioner.objects.count(),
    }
    connection.close()
    fresh_database(args, PLAIN_DATABASE, template=DATABASE)
    sizes["decrypted"] = decrypt_copy(args, env)
    print(f"prepared in {time.perf_counter() - started:.0f} s: {sizes}")

    # Four runs in the order on, off, off, on, so that the machine's drift over the benchmark
    # (other work starting or stopping, caches warming) weighs on both modes alike.
    runs: dict[str, list[dict]] = {"on": [], "off": []}
    loads = []
    for number, machinery in enumerate(ORDER, 1):
        label = "on" if machinery else "off"
        database = DATABASE if machinery else PLAIN_DATABASE
        if args.redis_url:
            import redis

            redis.Redis.from_url(args.redis_url).flushdb()  # our own database number only
        server = serve(env, machinery, f"{args.postgres_url.rstrip('/')}/{database}")
        try:
            before = os.getloadavg()
            events_before = audit_events(args, database)
            result = locust(args, env, accounts_file, workdir / f"run-{number}-{label}")
            loads.append((label, before, os.getloadavg()))
            result["_audit_events"] = audit_events(args, database) - events_before
            result["_errors"] = [f"run {number} ({label}): {error}" for error in result["_errors"]]
            runs[label].append(result)
        finally:
            stop(server)
    # The ratio of each pair of neighbouring runs (1 with 2, 4 with 3), to show how much the
    # pair-to-pair figure moves.
    pair_ratios = [
        private_ratio(runs["on"][0], runs["off"][0]),
        private_ratio(runs["on"][1], runs["off"][1]),
    ]
    events_on = sum(run.pop("_audit_events") for run in runs["on"])
    events_off = sum(run.pop("_audit_events") for run in runs["off"])
    warm_on = runs["on"][0].pop("_warmup")
    errors = [error for run in runs["on"] + runs["off"] for error in run.pop("_errors")]
    for run in runs["on"] + runs["off"]:
        run.pop("_warmup", None)
    on, off = combined(runs["on"]), combined(runs["off"])

    for line in table(on, off):
        print(line)
    total_on, total_off = on["Aggregated"], off["Aggregated"]
    pages_on = [on[name]["p95"] for name in PAGES[:10] if name in on]
    worst = max(pages_on)
    over = [
        f"{name} {on[name]['p95']:.0f} ms"
        for name in PAGES[:10]
        if name in on and on[name]["p95"] >= TARGET_P95_MS
    ]
    if total_on["p95"] >= TARGET_P95_MS:
        met = "not met"
    elif over:
        met = "met overall, not on every page (" + ", ".join(over) + ")"
    else:
        met = "met on every page"
    record_on = on.get("member record (staff, audited)", {})
    record_off = off.get("member record (staff, audited)", {})
    ratio = ratio_of(record_on, record_off)
    private = private_pages(on, off)
    mean_on = sum(on[name]["p50"] for name in private) / len(private)
    mean_off = sum(off[name]["p50"] for name in private) / len(private)
    overall = mean_on / mean_off if mean_off else 0.0
    # The public API reads no member's data: its ratio is what the two runs differ by anyway.
    control = [name for name in ("FHIR metadata", "FHIR provider directory") if name in on]
    control_on = sum(on[name]["p50"] for name in control) / max(len(control), 1)
    control_off = sum(off.get(name, {}).get("p50", 0) for name in control) / max(len(control), 1)
    control_ratio = control_on / control_off if control_off else 0.0
    print(
        f"throughput {total_on['rps']:.1f} req/s (machinery on), {total_off['rps']:.1f} (off); "
        f"p95 {total_on['p95']:.0f} ms overall, worst page {worst:.0f} ms: target {met}; "
        f"pages with members' data p50 on/off {overall:.2f} (staff record {ratio:.2f}; "
        f"public API, no member data, {control_ratio:.2f}); "
        f"audit events {events_on} / {events_off}; pairs {pair_ratios[0]:.2f}, {pair_ratios[1]:.2f}"
    )
    if args.no_doc:
        return 0
    lines = [
        "## Load: members, staff and API clients (locust against gunicorn and PostgreSQL)",
        "",
        f"Run on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()}; "
        "load average (1, 5, 15 min) before / after each run: "
        + "; ".join(
            f"{number} ({label}) {', '.join(f'{x:.2f}' for x in before)} / "
            f"{', '.join(f'{x:.2f}' for x in after)}"
            for number, (label, before, after) in enumerate(loads, 1)
        )
        + ". The machine is shared: other work "
        "ran beside it, and locust itself shares the 2 cores with gunicorn and PostgreSQL.",
        "",
        f"`bench/load.py`: a fresh PostgreSQL database with `haven demo` and {sizes['members']} "
        f"members, {sizes['claims']} claims, {sizes['conversations']} encrypted conversations "
        f"({sizes['decrypted']} envelopes opened in the baseline's copy), "
        f"{sizes['practitioners']} practitioners (all synthetic); gunicorn 2 workers x 4 threads "
        "(gthread, keep-alive 5 s) on 127.0.0.1; locust in the same machine, "
        f"`-u {args.users} -r {args.spawn_rate} --run-time {args.warmup + args.run_time}s`, "
        f"the figures below over the last {args.run_time} s: the first {args.warmup} s, while "
        "users start and sign in, are measured apart (below the table). Four runs, in the "
        "order machinery on, off, off, on, so that drift over the benchmark weighs on both "
        "alike; each mode's figures below join its two runs (requests added, rates and "
        "percentiles the mean of the two runs', as locust reports them per run). Each user waits "
        "1 to 3 s between requests: 7 members to 2 staff (care team, signed in with a TOTP code "
        "computed from their device) to 1 public API client. Settings: HAVEN_ENV=local with "
        "DEBUG=0, HAVEN_HTTPS=0 (no TLS terminator here), configured SECRET_KEY, HAVEN_LOOKUP_KEY "
        "and HAVEN_KEKS, DB_CONN_MAX_AGE=60"
        + (", REDIS_URL (cache, cached_db sessions)" if args.redis_url else ", no Redis")
        + ". Times are locust's, in ms, rounded as locust rounds them.",
        "",
        *table(on, off),
        "",
        f"Throughput: {total_on['rps']:.1f} requests/s with the privacy machinery on, "
        f"{total_off['rps']:.1f} with it off (the users wait between requests, so throughput follows the user count; "
        "the latencies are the measure).",
        "",
        f"Target (p95 under {TARGET_P95_MS} ms at {args.users} users, steady state): **{met}** "
        f"(overall p95 {total_on['p95']:.0f} ms; worst page p95 {worst:.0f} ms). Failed "
        "requests: " + ("; ".join(errors) if errors else "none") + ".",
        "",
        f"The warm-up ({args.warmup} s: {args.users} users started at {args.spawn_rate}/s, each "
        "signing in once, with Argon2 password hashing, which is slow on purpose): "
        + "; ".join(
            f"{key} p50 {value['p50']:.0f} ms, p95 {value['p95']:.0f} ms ({value['requests']})"
            for key, value in warm_on.items()
            if key.startswith("POST") or key == "Aggregated"
        )
        + ". While 50 Argon2 hashes run on 2 cores, every other page waits behind them: "
        "sign-in bursts, not steady traffic, are what this machine handles worst.",
        "",
        'Privacy machinery against the same pages without it (the "off" columns): the second '
        "and third runs serve a copy of the same database, taken before the first run, with the audit "
        "record off (HAVEN_AUDIT_ENABLED=False: no flags, chain lock, hash or insert), the "
        "messages' envelopes opened and stored in plain text (HAVEN_MESSAGE_ENCRYPTION=False: "
        "no key unwrapping or AES-GCM), and no access decision (the benchmark's own WSGI module "
        "opens every field asked for: no training, purpose, role, grant or sensitive-category "
        "check). Production refuses the first two settings; the third exists only in this "
        "script. Sign-in, CSRF, sessions and the idle timeout stay on in both runs. "
        f"On the {len(private)} pages that read members' data, the mean p50 is "
        f"{mean_on:.0f} ms on and {mean_off:.0f} ms off: **ratio {overall:.2f}**; the audited "
        f"staff record page alone: p50 {record_on.get('p50', 0):.0f} ms on, "
        f"{record_off.get('p50', 0):.0f} ms off (ratio {ratio:.2f}); p95 "
        f"{record_on.get('p95', 0):.0f} / {record_off.get('p95', 0):.0f} ms. For comparison, the "
        f"public API pages, which read no member's data and run none of the machinery "
        f"themselves, differ by {control_ratio:.2f} ({control_on:.0f} / {control_off:.0f} ms): "
        "on two shared cores they wait behind the work of the pages served beside them, the "
        "machinery's included, and the runs' own noise is in that figure too. Audit events written "
        f"during the runs (warm-up included): {events_on} on, {events_off} off. The same ratio "
        f"from each pair of neighbouring runs alone: {pair_ratios[0]:.2f} (runs 1 and 2) and "
        f"{pair_ratios[1]:.2f} (runs 4 and 3): how far one pair of runs can move it.",
    ]
    write_section("load", lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
