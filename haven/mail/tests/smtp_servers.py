"""Real SMTP servers for tests and the benchmark: aiosmtpd on loopback, with and without TLS.

`test_pki` makes a throwaway CA and a certificate for localhost; nothing is mocked.
"""

import datetime
import email
import ipaddress
import socket
import ssl
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from haven.testing.servers import QuietHandler, loopback_server


@dataclass(frozen=True)
class TestPKI:
    ca_file: str
    cert_file: str
    key_file: str
    untrusted_cert_file: str
    untrusted_key_file: str


def _key():
    return ec.generate_private_key(ec.SECP256R1())


def _write_key(path: Path, key) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def _ca(name: str):
    key = _key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _server_cert(ca_key, ca_cert):
    key = _key()
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def test_pki(directory: Path) -> TestPKI:
    """A trusted CA with a localhost certificate, and a second CA nobody trusts."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, ca_cert = _ca("Haven test CA")
    key, cert = _server_cert(ca_key, ca_cert)
    other_ca_key, other_ca_cert = _ca("Untrusted CA")
    other_key, other_cert = _server_cert(other_ca_key, other_ca_cert)
    pem = serialization.Encoding.PEM
    (directory / "ca.pem").write_bytes(ca_cert.public_bytes(pem))
    (directory / "server.pem").write_bytes(cert.public_bytes(pem))
    _write_key(directory / "server.key", key)
    (directory / "untrusted.pem").write_bytes(other_cert.public_bytes(pem))
    _write_key(directory / "untrusted.key", other_key)
    return TestPKI(
        ca_file=str(directory / "ca.pem"),
        cert_file=str(directory / "server.pem"),
        key_file=str(directory / "server.key"),
        untrusted_cert_file=str(directory / "untrusted.pem"),
        untrusted_key_file=str(directory / "untrusted.key"),
    )


# Not a test, whatever pytest thinks of the name.
test_pki.__test__ = False


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    over_tls: bool

    @property
    def message(self):
        return email.message_from_bytes(self.data)

    def text(self) -> str:
        parts = []
        for part in self.message.walk():
            if part.get_content_maintype() == "text":
                parts.append(
                    part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
                )
        return "\n".join(parts)


@dataclass
class RecordingHandler:
    """Keeps every message, and every MAIL command even if no message follows."""

    received: list[Received] = field(default_factory=list)
    mail_commands: list[tuple[str, bool]] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)

    @staticmethod
    def _encrypted(server, session) -> bool:
        implicit = server.transport is not None and server.transport.get_extra_info("ssl_object")
        return session.ssl is not None or bool(implicit)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.mail_commands.append((address, self._encrypted(server, session)))
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refused:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append(
            Received(
                mail_from=envelope.mail_from,
                rcpt_tos=list(envelope.rcpt_tos),
                data=envelope.original_content or envelope.content,
                over_tls=self._encrypted(server, session),
            )
        )
        return "250 Message accepted"


@dataclass
class RunningServer:
    port: int
    handler: RecordingHandler
    host: str = "localhost"

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    @property
    def route(self) -> str:
        return f"{self.host}:{self.port}"


def _server_context(cert_file: str, key_file: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context


@contextmanager
def smtp_server(
    *,
    pki: TestPKI | None = None,
    tls: str = "starttls",
    trusted: bool = True,
    port: int | None = None,
    bind: str = "127.0.0.1",
):
    """An SMTP server on loopback: tls="starttls" (required), "implicit", or "none" (clear text only)."""
    handler = RecordingHandler()
    port = port or free_port()
    kwargs: dict = {}
    if tls != "none":
        assert pki is not None
        cert, key = (
            (pki.cert_file, pki.key_file)
            if trusted
            else (pki.untrusted_cert_file, pki.untrusted_key_file)
        )
        context = _server_context(cert, key)
        if tls == "starttls":
            kwargs["tls_context"] = context
            kwargs["require_starttls"] = True
        else:
            kwargs["ssl_context"] = context
    controller = Controller(
        handler, hostname=bind, port=port, server_hostname="localhost", **kwargs
    )
    controller.start()
    try:
        yield RunningServer(port=port, handler=handler)
    finally:
        controller.stop()


@contextmanager
def https_server(pki: TestPKI, pages: dict[str, str]):
    """A tiny HTTPS server (for MTA-STS policies): path -> body, anything else 404."""

    class Handler(QuietHandler):
        def do_GET(self):
            body = pages.get(self.path)
            if body is None:
                self.send_response(404)
                self.end_headers()
                return
            payload = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    context = _server_context(pki.cert_file, pki.key_file)
    with loopback_server(
        Handler, wrap=lambda sock: context.wrap_socket(sock, server_side=True)
    ) as port:
        yield port
