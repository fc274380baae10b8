"""A small client for ClamAV's clamd: the INSTREAM command over TCP (MSG-6).

The protocol is a few lines (a length-prefixed chunk stream, a NUL-terminated reply), so Haven
speaks it directly rather than adding a library. Set HAVEN_CLAMD_ADDRESS to "host:port".
"""

import enum
import socket
import struct

from django.conf import settings
from django.dispatch import Signal

CHUNK_BYTES = 64 * 1024

# Sent when the scanner finds malicious content, so intrusion detection hears of it (SEC-2).
infected_content_found = Signal()


class Verdict(enum.Enum):
    CLEAN = "clean"
    INFECTED = "infected"
    UNAVAILABLE = "unavailable"  # scanner down or unreachable: keep the file in quarantine
    NOT_CONFIGURED = "not_configured"


def clamd_address() -> tuple[str, int] | None:
    address = getattr(settings, "HAVEN_CLAMD_ADDRESS", None)
    if not address:
        return None
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


def scan(data: bytes, *, timeout: float | None = None) -> Verdict:
    """Stream bytes to clamd and return its verdict; any failure to get one is UNAVAILABLE."""
    address = clamd_address()
    if address is None:
        # Production never runs unscreened: a missing scanner there means quarantine.
        return Verdict.UNAVAILABLE if settings.PRODUCTION else Verdict.NOT_CONFIGURED
    timeout = timeout or getattr(settings, "HAVEN_CLAMD_TIMEOUT", 30)
    try:
        with socket.create_connection(address, timeout=timeout) as connection:
            connection.sendall(b"zINSTREAM\0")
            view = memoryview(data)
            for start in range(0, len(view), CHUNK_BYTES):
                chunk = view[start : start + CHUNK_BYTES]
                connection.sendall(struct.pack("!L", len(chunk)) + chunk)
            connection.sendall(struct.pack("!L", 0))
            reply = b""
            while not reply.endswith(b"\0"):
                received = connection.recv(4096)
                if not received:
                    break
                reply += received
    except OSError:
        return Verdict.UNAVAILABLE
    answer = reply.rstrip(b"\0").decode("utf-8", "replace")
    if answer.endswith("FOUND"):
        infected_content_found.send(sender=Verdict)
        return Verdict.INFECTED
    if answer.endswith(": OK"):
        return Verdict.CLEAN
    # "INSTREAM size limit exceeded" and other errors: not a verdict, so not accepted as clean.
    return Verdict.UNAVAILABLE


def ping(*, timeout: float = 2) -> bool:
    address = clamd_address()
    if address is None:
        return False
    try:
        with socket.create_connection(address, timeout=timeout) as connection:
            connection.sendall(b"zPING\0")
            return connection.recv(16).startswith(b"PONG")
    except OSError:
        return False
