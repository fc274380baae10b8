"""A throwaway Haven deployment for fault tests: its own database, real `haven` processes.

The database starts as a copy of the test run's freshly migrated one (SQLite: the file written
with sqlite3's backup API; PostgreSQL: CREATE DATABASE ... TEMPLATE), so no test pays for
`migrate`; test modules are marked `django_db` so that the test database exists. Everything then runs in subprocesses (`haven db_worker`, `haven mail ...`,
`haven shell -c`, `haven runserver`) that a test can kill like an operator's process dies.
"""

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from django.db import connection, connections

from haven.mail.tests.smtp_servers import test_pki

HAVEN = str(Path(sys.executable).with_name("haven"))
PROJECT_DIR = Path(__file__).resolve().parents[3]


# `haven shell` code that makes one plan member, Alice, with an e-mail address; leaves `user`.
MEMBER = """
from haven.plans.models import EmployerGroup, Plan
from haven.testing.people import make_member, make_user, years_ago
plan = Plan.objects.create(code="F-PPO", name="Fault PPO", carrier="Haven", year=2026)
group = EmployerGroup.objects.create(group_number="F-1", name="Riverside", plan=plan)
member = make_member("M-ALICE", group, "Alice", "Rivera", years_ago(40))
user = make_user("alice", "member", member=member, email="alice@example.org")
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(check, *, timeout: float = 30, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)


def _postgres_dsn(settings_dict: dict, name: str) -> str:
    user = settings_dict.get("USER") or "postgres"
    password = settings_dict.get("PASSWORD") or ""
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    auth = f"{user}:{password}" if password else user
    return f"postgres://{auth}@{host}:{port}/{name}"


def _admin(settings_dict: dict):
    return psycopg.connect(_postgres_dsn(settings_dict, "postgres"), autocommit=True)


class Template:
    """The migrated test database, copied once so each deployment can start from it."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.settings_dict = dict(connection.settings_dict)
        self.postgres = connection.vendor == "postgresql"
        # Only ever the test run's own database (the tests are marked django_db so it exists).
        name = str(self.settings_dict["NAME"])
        assert "test" in name or "memory" in name, f"not a test database: {name}"
        if self.postgres:
            self.name = f"haven_faults_tpl_{uuid.uuid4().hex[:8]}"
            source = self.settings_dict["NAME"]
            connections.close_all()
            with _admin(self.settings_dict) as admin:
                admin.execute(f'CREATE DATABASE "{self.name}" TEMPLATE "{source}"')
        else:
            self.path = workdir / "template.sqlite3"
            connection.ensure_connection()
            target = sqlite3.connect(self.path)
            try:
                connection.connection.backup(target)
            finally:
                target.close()

    def copy(self, directory: Path) -> tuple[str, callable]:
        """A new database from the template: its DATABASE_URL and how to drop it."""
        if self.postgres:
            name = f"haven_faults_{uuid.uuid4().hex[:8]}"
            with _admin(self.settings_dict) as admin:
                admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.name}"')

            def drop():
                with _admin(self.settings_dict) as admin:
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

            return _postgres_dsn(self.settings_dict, name), drop
        path = directory / "haven.sqlite3"
        path.write_bytes(self.path.read_bytes())
        return f"sqlite:///{path}", lambda: None

    def drop(self) -> None:
        if self.postgres:
            with _admin(self.settings_dict) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


class Deployment:
    """One Haven with its own database; `run`, `shell` and `start` launch `haven` commands."""

    def __init__(self, workdir: Path, database_url: str, **environment: str):
        self.workdir = workdir
        self.database_url = database_url
        self.environment = {
            **os.environ,
            "HAVEN_ENV": "test",
            "DEBUG": "0",
            "DJANGO_SETTINGS_MODULE": "haven.settings",
            "DATABASE_URL": database_url,
            **environment,
        }
        self.environment.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        self.processes: list[subprocess.Popen] = []

    def run(self, *args: str, timeout: float = 60, **environment: str) -> str:
        done = subprocess.run(  # noqa: S603 (Haven's own command)
            [HAVEN, *args],
            env={**self.environment, **environment},
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert done.returncode == 0, f"haven {' '.join(args)} failed:\n{done.stderr[-3000:]}"
        return done.stdout

    def shell(self, code: str, **environment: str):
        """Run Python in `haven shell`; the code prints one JSON value last, which is returned."""
        out = self.run("shell", "-c", code, **environment)
        return json.loads(out.strip().splitlines()[-1])

    def start(self, *args: str, **environment: str) -> subprocess.Popen:
        log = open(self.workdir / f"{args[0]}-{len(self.processes)}.log", "wb")  # noqa: SIM115
        process = subprocess.Popen(  # noqa: S603 (Haven's own command)
            [HAVEN, *args],
            env={**self.environment, **environment},
            cwd=PROJECT_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.processes.append(process)
        return process

    def log(self, process: subprocess.Popen) -> str:
        index = self.processes.index(process)
        name = Path(process.args[1]).name
        return (self.workdir / f"{name}-{index}.log").read_text(errors="replace")

    @staticmethod
    def kill(process: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
        if process.poll() is None:
            os.killpg(process.pid, sig)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def stop_all(self) -> None:
        for process in self.processes:
            self.kill(process, signal.SIGTERM)


@pytest.fixture(scope="session")
def fault_template(django_db_setup, django_db_blocker, tmp_path_factory):
    with django_db_blocker.unblock():
        template = Template(tmp_path_factory.mktemp("fault-template"))
    yield template
    template.drop()


@pytest.fixture
def deployment_factory(fault_template, tmp_path):
    made = []

    def make(**environment: str) -> Deployment:
        directory = tmp_path / f"deployment-{len(made)}"
        directory.mkdir()
        url, drop = fault_template.copy(directory)
        made.append((Deployment(directory, url, **environment), drop))
        return made[-1][0]

    yield make
    for deployment, drop in made:
        deployment.stop_all()
        drop()


# One e-mail in the outbox for Alice (a secure-message notice); prints its pk and Message-ID.
ENQUEUE_EMAIL = (
    "import json\n"
    + MEMBER
    + """
from haven.mail.services import secure_message_notify
email = secure_message_notify(user=user, link_path="/", idempotency_key="fault-email-1")
print(json.dumps({"pk": email.pk, "message_id": email.message_id}))
"""
)

OUTBOX = """
import json
from haven.mail.models import OutgoingEmail
print(json.dumps(list(
    OutgoingEmail.objects.values("pk", "status", "attempts", "message_id", "last_error")
)))
"""

WORKER = (
    "db_worker",
    "--queue-name",
    "*",
    "--interval",
    "0.2",
    "--no-startup-delay",
    "--no-reload",
)


@pytest.fixture
def pki(tmp_path):
    return test_pki(tmp_path / "pki")
