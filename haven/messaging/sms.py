"""The SMS gateway's client: one JSON POST over HTTPS, a few lines of the standard library.

The gateway receives `Idempotency-Key`: the same key twice is one text, so a retry after a lost
answer never sends twice. A 2xx answer is sent; 408, 429 and 5xx, a timeout or a refused
connection are worth trying again; any other answer (400, 401, 404...) or a redirect is a
permanent failure. Production refuses a gateway that is not https (settings, and here again).
"""

import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

RETRYABLE_STATUSES = frozenset({408, 425, 429})
TIMEOUT_SECONDS = 15


class GatewayError(Exception):
    """The text was not accepted; `permanent` says whether trying again can help."""

    def __init__(self, description: str, *, permanent: bool):
        super().__init__(description)
        self.permanent = permanent


@dataclass(frozen=True)
class Gateway:
    url: str
    token: str
    sender: str


def gateway() -> Gateway | None:
    """The configured gateway, or None: then texts are recorded as "no provider"."""
    url = getattr(settings, "HAVEN_SMS_GATEWAY_URL", "") or ""
    if not url:
        return None
    return Gateway(
        url=url,
        token=getattr(settings, "HAVEN_SMS_GATEWAY_TOKEN", "") or "",
        sender=getattr(settings, "HAVEN_SMS_SENDER", "") or "",
    )


def normalise_number(phone: str) -> str | None:
    """The profile's phone as E.164 (+ and digits), or None when it cannot be one.

    Ten digits without a country code are a North American number (+1).
    """
    digits = re.sub(r"[\s().\-]", "", phone or "")
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    if re.fullmatch(r"\d{10}", digits):
        digits = "+1" + digits
    elif re.fullmatch(r"1\d{10}", digits):
        digits = "+" + digits
    if re.fullmatch(r"\+[1-9]\d{7,14}", digits):
        return digits
    return None


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect could lead anywhere, in clear too: it is an error, never followed."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def send(*, to: str, body: str, idempotency_key: str, timeout: float = TIMEOUT_SECONDS) -> str:
    """Hand one text to the gateway; returns the gateway's reference (may be empty)."""
    configured = gateway()
    if configured is None:
        raise GatewayError("no SMS gateway configured", permanent=False)
    scheme = urlsplit(configured.url).scheme
    if scheme != "https" and (getattr(settings, "PRODUCTION", False) or scheme != "http"):
        raise GatewayError("the SMS gateway must be reached over https", permanent=True)
    payload = json.dumps({"to": to, "from": configured.sender, "body": body}).encode()
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        configured.url,
        data=payload,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Authorization": f"Bearer {configured.token}",
            "Idempotency-Key": idempotency_key,
        },
    )
    try:
        with _opener.open(request, timeout=timeout) as response:
            answer = response.read(4096)
    except urllib.error.HTTPError as error:
        code = error.code
        retry = code in RETRYABLE_STATUSES or code >= 500
        raise GatewayError(f"gateway answered {code}", permanent=not retry) from error
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise GatewayError(
            f"gateway unreachable: {type(reason).__name__}: {reason}"[:400], permanent=False
        ) from error
    try:
        reference = json.loads(answer or b"{}").get("id", "")
    except (ValueError, AttributeError):
        reference = ""
    return str(reference)[:100]
