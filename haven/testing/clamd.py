"""A real ClamAV daemon for the screening tests (MSG-6), with a signature database built here.

Shared by the message center's and the secure e-mail portal's tests: each app's tests/conftest.py
imports the `clamd_server` and `clamd` fixtures from here.

ClamAV ships no signature that is safe to keep in a repository, so the fixture writes one: an MD5
signature of the EICAR test file (made with `sigtool --md5`) and a body signature for the EICAR
string anywhere in a file. clamd unpacks archives itself, so a zip holding EICAR is caught too.
Started once per test session (per xdist worker) on a free loopback port, stopped at the end.
"""

import shutil
import socket
import subprocess
import time
import zipfile
from io import BytesIO
from pathlib import Path

import pytest

# The EICAR anti-virus test string, assembled so that this file itself never matches.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!" + b"$H+H*"
CLAMD = shutil.which("clamd") or "/usr/sbin/clamd"
SIGTOOL = shutil.which("sigtool") or "/usr/bin/sigtool"


def zipped(name: str, content: bytes) -> bytes:
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, content)
    return buffer.getvalue()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Clamd:
    """clamd in the foreground on a loopback TCP port; `stop()` and `start()` for outages."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        database = workdir / "db"
        database.mkdir()
        sample = workdir / "eicar.com"
        sample.write_bytes(EICAR)
        signature = subprocess.run(  # noqa: S603 (fixed tool, test paths)
            [SIGTOOL, "--md5", str(sample)], check=True, capture_output=True, text=True
        ).stdout
        (database / "haven-test.hdb").write_text(signature.replace("eicar.com", "Haven.Test.EICAR"))
        (database / "haven-test.ndb").write_text(f"Haven.Test.EICAR-Body:0:*:{EICAR.hex()}\n")
        self.config = workdir / "clamd.conf"
        self.config.write_text(
            "\n".join(
                [
                    "Foreground yes",
                    f"TCPSocket {self.port}",
                    "TCPAddr 127.0.0.1",
                    f"DatabaseDirectory {database}",
                    f"LogFile {workdir / 'clamd.log'}",
                    f"PidFile {workdir / 'clamd.pid'}",
                    "ScanArchive yes",
                    "",
                ]
            )
        )

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as connection:
                connection.sendall(b"zPING\0")
                return connection.recv(16).startswith(b"PONG")
        except OSError:
            return False

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 (fixed tool, test paths)
            [CLAMD, "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while not self.ping():
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = (self.workdir / "clamd.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"clamd did not start:\n{log}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


@pytest.fixture(scope="session")
def clamd_server(tmp_path_factory):
    server = Clamd(tmp_path_factory.mktemp("clamd"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def clamd(request, clamd_server):
    """The running clamd for a test class (`self.clamd`); restarted if a test stopped it."""
    if not clamd_server.ping():
        clamd_server.start()
    request.cls.clamd = clamd_server
    yield clamd_server
    if not clamd_server.ping():
        clamd_server.start()
