"""SMTP delivery that is TLS or nothing (MAIL-1), and the per-domain TLS check behind the portal (MAIL-2).

Two modes (HAVEN_MAIL_DELIVERY):
- "relay": every e-mail goes to the configured relay over STARTTLS or implicit TLS with a verified
  certificate. Haven cannot see the recipient's servers; the relay must enforce TLS onward.
- "direct": Haven delivers to the recipient domain's mail servers itself (HAVEN_MAIL_ROUTES, else
  MX records when dnspython is installed, else the domain itself), honouring MTA-STS, and demands
  STARTTLS with a verified certificate. A domain that cannot do it gets the portal instead.
There is no fallback to clear text in either mode.
"""

import http.client
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache

MTA_STS_URL = "https://mta-sts.{domain}/.well-known/mta-sts.txt"


class DeliveryError(Exception):
    """Delivery did not happen; `permanent` errors are not retried."""

    permanent = False


class TLSUnavailable(DeliveryError):
    """The server offered no TLS, or its certificate did not verify: nothing was sent."""


class PermanentFailure(DeliveryError):
    permanent = True


@dataclass(frozen=True)
class Route:
    host: str
    port: int


def smtp_settings() -> dict:
    """The relay and TLS policy, from settings (see docs/mail.md)."""
    tls = getattr(settings, "HAVEN_SMTP_TLS", "starttls")
    if tls not in ("starttls", "implicit"):
        raise DeliveryError(f"HAVEN_SMTP_TLS={tls!r}: use starttls or implicit")
    return {
        "host": getattr(settings, "HAVEN_SMTP_HOST", ""),
        "port": int(getattr(settings, "HAVEN_SMTP_PORT", 465 if tls == "implicit" else 587)),
        "user": getattr(settings, "HAVEN_SMTP_USER", ""),
        "password": getattr(settings, "HAVEN_SMTP_PASSWORD", ""),
        "tls": tls,
        "ca_file": getattr(settings, "HAVEN_SMTP_CA_FILE", None) or None,
        "timeout": float(getattr(settings, "HAVEN_SMTP_TIMEOUT", 20)),
    }


def delivery_mode() -> str:
    mode = getattr(settings, "HAVEN_MAIL_DELIVERY", "relay")
    if mode not in ("relay", "direct"):
        raise DeliveryError(f"HAVEN_MAIL_DELIVERY={mode!r}: use relay or direct")
    return mode


def tls_context(ca_file: str | None) -> ssl.SSLContext:
    """Verified TLS 1.2 or later: the certificate must chain to a trusted CA and name the host."""
    context = ssl.create_default_context(cafile=ca_file)
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def _open(
    route: Route, *, tls: str, ca_file: str | None, timeout: float, local_hostname: str
) -> smtplib.SMTP:
    """Connect and secure the session; raises TLSUnavailable before any mail command otherwise."""
    context = tls_context(ca_file)
    try:
        if tls == "implicit":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                route.host,
                route.port,
                context=context,
                timeout=timeout,
                local_hostname=local_hostname,
            )
            smtp.ehlo()
        else:
            smtp = smtplib.SMTP(
                route.host, route.port, timeout=timeout, local_hostname=local_hostname
            )
            smtp.ehlo()
            if not smtp.has_extn("starttls"):
                smtp.quit()
                raise TLSUnavailable(f"{route.host} does not offer STARTTLS")
            smtp.starttls(context=context)
            smtp.ehlo()
    except ssl.SSLError as error:
        raise TLSUnavailable(f"TLS with {route.host} failed: {error.__class__.__name__}") from error
    # Belt and braces: nothing below may run on a clear-text socket.
    if not isinstance(smtp.sock, ssl.SSLSocket):
        smtp.close()
        raise TLSUnavailable(f"the session with {route.host} is not encrypted")
    return smtp


def send_over_tls(
    message: EmailMessage,
    *,
    route: Route,
    envelope_from: str,
    recipient: str,
    tls: str = "starttls",
    ca_file: str | None = None,
    timeout: float = 20,
    user: str = "",
    password: str = "",
    on_accepted: Callable[[], None] | None = None,
) -> None:
    """Send one message to one recipient over a verified TLS session, or raise.

    `on_accepted` runs as soon as the server has answered 250 to the message, before QUIT: the
    outbox writes "sent" there, so a worker that dies while the server takes its time to answer
    QUIT does not send the message again.
    """
    local_hostname = envelope_from.rsplit("@", 1)[-1]
    smtp = _open(route, tls=tls, ca_file=ca_file, timeout=timeout, local_hostname=local_hostname)
    try:
        if user:
            smtp.login(user, password)
        smtp.send_message(message, from_addr=envelope_from, to_addrs=[recipient])
        if on_accepted is not None:
            on_accepted()
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _text in error.recipients.values()]
        if all(code >= 500 for code in codes):
            raise PermanentFailure(f"recipient refused ({codes[0]})") from error
        raise DeliveryError(f"recipient deferred ({codes[0]})") from error
    except smtplib.SMTPResponseException as error:
        kind = PermanentFailure if error.smtp_code >= 500 else DeliveryError
        raise kind(f"server answered {error.smtp_code}") from error
    finally:
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


def send_through_relay(
    message: EmailMessage,
    *,
    envelope_from: str,
    recipient: str,
    on_accepted: Callable[[], None] | None = None,
) -> None:
    config = smtp_settings()
    if not config["host"]:
        raise DeliveryError("no SMTP relay is configured (HAVEN_SMTP_HOST)")
    send_over_tls(
        message,
        route=Route(config["host"], config["port"]),
        envelope_from=envelope_from,
        recipient=recipient,
        tls=config["tls"],
        ca_file=config["ca_file"],
        timeout=config["timeout"],
        user=config["user"],
        password=config["password"],
        on_accepted=on_accepted,
    )


# --- Direct delivery: routes, MX and MTA-STS -------------------------------------------------


def _parse_route(value: str) -> Route:
    host, _, port = value.rpartition(":")
    if not host:
        return Route(value, 25)
    return Route(host, int(port))


def recipient_routes(domain: str) -> list[Route]:
    """Where a domain receives mail: the configured map, MX records if dnspython is there, or the domain."""
    routes = getattr(settings, "HAVEN_MAIL_ROUTES", {}) or {}
    if domain in routes:
        value = routes[domain]
        values = value if isinstance(value, list | tuple) else [value]
        return [_parse_route(item) for item in values]
    try:
        import dns.resolver  # optional: not a dependency of Haven
    except ImportError:
        return [Route(domain, 25)]
    try:
        answers = sorted(dns.resolver.resolve(domain, "MX"), key=lambda answer: answer.preference)
    except Exception as error:  # noqa: BLE001 - any resolver failure means "use the domain itself"
        if error.__class__.__name__ == "NXDOMAIN":
            raise PermanentFailure("the recipient's domain does not exist") from error
        return [Route(domain, 25)]
    return [Route(str(answer.exchange).rstrip("."), 25) for answer in answers]


@dataclass(frozen=True)
class MtaStsPolicy:
    mode: str
    mx: tuple[str, ...]
    max_age: int

    def allows(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        for pattern in self.mx:
            pattern = pattern.lower()
            if pattern.startswith("*."):
                # A wildcard covers exactly one label (RFC 8461 section 4.1).
                head, _, tail = host.partition(".")
                if head and tail == pattern[2:]:
                    return True
            elif host == pattern:
                return True
        return False


def parse_mta_sts(text: str) -> MtaStsPolicy | None:
    fields: dict[str, list[str]] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields.setdefault(key.strip().lower(), []).append(value.strip())
    if fields.get("version") != ["STSv1"]:
        return None
    mode = (fields.get("mode") or ["none"])[0]
    if mode not in ("enforce", "testing", "none"):
        return None
    try:
        max_age = int((fields.get("max_age") or ["0"])[0])
    except ValueError:
        return None
    return MtaStsPolicy(mode=mode, mx=tuple(fields.get("mx", [])), max_age=max_age)


def _fetch_policy_text(domain: str) -> str | None:
    """GET the policy over verified HTTPS, no redirects (RFC 8461 section 3.3), short timeout."""
    url = getattr(settings, "HAVEN_MAIL_MTA_STS_URL", MTA_STS_URL).format(domain=domain)
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        return None
    connection = http.client.HTTPSConnection(
        parts.hostname,
        parts.port or 443,
        timeout=float(getattr(settings, "HAVEN_MAIL_MTA_STS_TIMEOUT", 5)),
        context=tls_context(smtp_settings()["ca_file"]),
    )
    try:
        connection.request("GET", parts.path or "/")
        response = connection.getresponse()
        if response.status != 200:
            return None
        return response.read(64 * 1024).decode("utf-8", "replace")
    except (OSError, http.client.HTTPException, ssl.SSLError):
        return None
    finally:
        connection.close()


def mta_sts_policy(domain: str) -> MtaStsPolicy | None:
    """The domain's published MTA-STS policy, cached for its max_age (an hour when absent)."""
    key = f"haven-mail:mta-sts:{domain}"
    cached = cache.get(key)
    if cached is not None:
        return cached or None
    policy = None
    text = _fetch_policy_text(domain)
    if text is not None:
        policy = parse_mta_sts(text)
    timeout = min(policy.max_age, 86400) if policy and policy.max_age else 3600
    cache.set(key, policy or False, timeout)
    return policy


def send_direct(
    message: EmailMessage,
    *,
    envelope_from: str,
    recipient: str,
    on_accepted: Callable[[], None] | None = None,
) -> None:
    """Deliver to the recipient's own servers over verified TLS; TLSUnavailable if none can do it."""
    domain = recipient.rsplit("@", 1)[-1].lower()
    routes = recipient_routes(domain)
    policy = mta_sts_policy(domain)
    if policy and policy.mode == "enforce":
        routes = [route for route in routes if policy.allows(route.host)]
        if not routes:
            raise TLSUnavailable("no mail server of the domain matches its MTA-STS policy")
    config = smtp_settings()
    tls_refused: TLSUnavailable | None = None
    unreachable: DeliveryError | None = None
    for route in routes:
        try:
            send_over_tls(
                message,
                route=route,
                envelope_from=envelope_from,
                recipient=recipient,
                tls="starttls",
                ca_file=config["ca_file"],
                timeout=config["timeout"],
                on_accepted=on_accepted,
            )
            return
        except TLSUnavailable as error:
            tls_refused = error
        except PermanentFailure:
            raise
        except (DeliveryError, smtplib.SMTPException, OSError) as error:
            unreachable = DeliveryError(f"{route.host}: {describe_error(error)}")
    if tls_refused is not None:
        raise tls_refused
    raise unreachable or DeliveryError("the recipient's domain has no mail server")


def describe_error(error: BaseException) -> str:
    """A short description of a delivery error for staff: the kind and the server's words, no content."""
    text = str(error).splitlines()[0] if str(error) else ""
    return f"{error.__class__.__name__}: {text}"[:480]
