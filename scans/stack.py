"""A local Haven for the scanners: a fresh database with `haven demo` (PostgreSQL, production's,
when a server answers; else SQLite), gunicorn under production settings, and nginx in front as
the TLS terminator configured from docs/deploy.md."""

import base64
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
DEPLOY_DOC = ROOT / "docs" / "deploy.md"
HOST = "127.0.0.1"
APP_PORT = 8771
SCAN_DATABASE = "haven_scan"
# docs/deploy.md's server blocks listen on 443 and 80; nginx passes `Host $host` (no port), which
# Django's CSRF origin check compares with the browser's origin, so the standard ports are kept.
HTTPS_URL = f"https://{HOST}"
# The scanners are the attack: intrusion detection (SEC-2) would throttle them after three
# injection attempts and they would scan the 429 page. Its own tests prove it (docs/security.md).
SCANNER_THRESHOLDS = {
    "HAVEN_STUFFING_ACCOUNTS": "1000000",
    "HAVEN_SCANNING_NOT_FOUND": "1000000",
    "HAVEN_INJECTION_ATTEMPTS": "1000000",
    "HAVEN_MALWARE_UPLOADS": "1000000",
}
SETTINGS_MODULE = """
from haven.settings import *  # noqa: F401,F403
STATIC_ROOT = {static!r}  # collectstatic here, not into the working tree's var/
"""


@dataclass
class Stack:
    workdir: Path
    dbms: str = "SQLite"
    env: dict[str, str] = field(default_factory=dict)
    processes: list[subprocess.Popen] = field(default_factory=list)

    def local_env(self) -> dict[str, str]:
        """The same database and keys, as `local`: `haven demo` and `demo_code` refuse production."""
        return {**self.env, "HAVEN_ENV": "local", "DEBUG": "0"}

    def haven(self, *args: str, local: bool = False) -> str:
        result = subprocess.run(
            [str(BIN / "haven"), *args],
            env=self.local_env() if local else self.env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        return result.stdout

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
        self.processes.clear()


def fresh_database(workdir: Path, postgres_url: str) -> tuple[str, str]:
    """A new, empty PostgreSQL database at that server, else an SQLite file: (URL, DBMS name)."""
    if postgres_url:
        try:
            import psycopg

            server = postgres_url.rstrip("/")
            with psycopg.connect(f"{server}/postgres", autocommit=True, connect_timeout=3) as db:
                db.execute(f"DROP DATABASE IF EXISTS {SCAN_DATABASE} WITH (FORCE)")
                db.execute(f"CREATE DATABASE {SCAN_DATABASE}")
            return f"{server}/{SCAN_DATABASE}", "PostgreSQL"
        except psycopg.OperationalError:
            pass  # no server here: SQLite, and the report says so
    return f"sqlite:///{workdir / 'haven.sqlite3'}", "SQLite"


def production_env(workdir: Path, database_url: str) -> dict[str, str]:
    """HAVEN_ENV=production with throwaway keys, behind one proxy, as docs/deploy.md sets it."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    oidc_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("HAVEN_", "DATABASE_URL", "REDIS_URL", "DJANGO_"))
    }
    env.update(
        {
            "HAVEN_ENV": "production",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "HAVEN_LOOKUP_KEY": secrets.token_urlsafe(32),
            "ALLOWED_HOSTS": f"{HOST},localhost",
            "DATABASE_URL": database_url,
            "HAVEN_KEKS": "scan1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
            "HAVEN_KEK_CURRENT": "scan1",
            "HAVEN_OIDC_KEY": oidc_key.decode(),
            "HAVEN_BEHIND_PROXY": "1",
            "HAVEN_TRUSTED_PROXIES": "1",
            "HAVEN_AUDIT_CHECKPOINT_DIR": str(workdir / "audit-checkpoints"),
            "LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "haven_scan_settings",
            "PYTHONPATH": f"{workdir}{os.pathsep}{ROOT}",
            **SCANNER_THRESHOLDS,
        }
    )
    return env


def self_signed_certificate(workdir: Path) -> tuple[Path, Path]:
    cert, key = workdir / "tls" / "portal.crt", workdir / "tls" / "portal.key"
    cert.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "365",
            "-subj",
            "/CN=localhost",
            "-addext",
            f"subjectAltName=DNS:localhost,IP:{HOST}",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    key.chmod(0o600)
    return cert, key


def documented_nginx_servers() -> str:
    """The ```nginx block of docs/deploy.md, as written there."""
    found = re.search(r"```nginx\n(.*?)```", DEPLOY_DOC.read_text(encoding="utf-8"), re.S)
    if not found:
        raise SystemExit("docs/deploy.md has no ```nginx block to configure the TLS terminator")
    return found.group(1)


def nginx_config(workdir: Path, cert: Path, key: Path) -> Path:
    """docs/deploy.md's server blocks with this machine's names put in, inside a minimal nginx.conf."""
    servers = (
        documented_nginx_servers()
        .replace("portal.example.org", f"localhost {HOST}")
        .replace("/etc/ssl/portal.crt", str(cert))
        .replace("/etc/ssl/portal.key", str(key))
        .replace("127.0.0.1:8000", f"{HOST}:{APP_PORT}")
        .replace("listen 443", f"listen {HOST}:443")
        .replace("listen 80", f"listen {HOST}:80")
    )
    temp = workdir / "nginx"
    temp.mkdir(parents=True, exist_ok=True)
    temp.chmod(0o777)  # the workers run as nobody when nginx starts as root
    config = workdir / "nginx.conf"
    config.write_text(
        f"""
worker_processes 1;
pid {workdir / "nginx.pid"};
error_log {workdir / "nginx-error.log"} warn;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    access_log {workdir / "nginx-access.log"};
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
{servers}
}}
""",
        encoding="utf-8",
    )
    return config


def wait_for(port: int, process: subprocess.Popen, name: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{name} stopped at start (exit {process.returncode})")
        with socket.socket() as probe:
            if probe.connect_ex((HOST, port)) == 0:
                return
        time.sleep(0.3)
    raise SystemExit(f"{name} did not listen on {HOST}:{port} within {seconds:.0f} s")


def port_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex((HOST, port)) != 0


def start(workdir: Path, postgres_url: str = "") -> Stack:
    for port in (80, 443, APP_PORT):
        if not port_free(port):
            raise SystemExit(f"{HOST}:{port} is already in use: stop what listens there first")
    workdir.mkdir(parents=True, exist_ok=True)
    database_url, dbms = fresh_database(workdir, postgres_url)
    stack = Stack(workdir=workdir, dbms=dbms, env=production_env(workdir, database_url))
    static = workdir / "static"
    (workdir / "haven_scan_settings.py").write_text(
        SETTINGS_MODULE.format(static=str(static)), encoding="utf-8"
    )
    stack.haven("migrate", "--no-input", "-v", "0", local=True)
    stack.haven("demo", local=True)
    stack.haven("collectstatic", "--no-input", "-v", "0")
    log = (workdir / "gunicorn.log").open("w")
    stack.processes.append(
        subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "haven.wsgi",
                "--bind",
                f"{HOST}:{APP_PORT}",
                "--workers",
                "2",
                "--threads",
                "4",
                "--worker-class",
                "gthread",
                "--timeout",
                "60",
            ],
            env=stack.env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    )
    wait_for(APP_PORT, stack.processes[-1], "gunicorn")
    cert, key = self_signed_certificate(workdir)
    config = nginx_config(workdir, cert, key)
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    subprocess.run([nginx, "-t", "-q", "-c", str(config)], check=True)
    stack.processes.append(
        subprocess.Popen([nginx, "-c", str(config), "-g", "daemon off;"], cwd=workdir)
    )
    wait_for(443, stack.processes[-1], "nginx")
    return stack
