"""Web Push (RFC 8030, 8291, 8292): the site's VAPID key, checking a browser's subscription, sending.

pywebpush encrypts each payload for the one browser that subscribed (aes128gcm) and signs the
request with the site's VAPID key, so the push service can neither read the notification nor
send one in Haven's name. The payload is Haven's fixed wording and a link, never the message.

A subscription's endpoint comes from the browser, and the server posts to it: only hosts of the
push services in `HAVEN_PUSH_SERVICES` are accepted, over https (plain http only outside
production, for a push service on loopback in tests), and a redirect is never followed.
"""

import base64
import binascii
import json
from dataclasses import dataclass
from fnmatch import fnmatch
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from py_vapid import Vapid, VapidException
from pywebpush import WebPushException, webpush

RETRYABLE_STATUSES = frozenset({408, 425, 429})
GONE_STATUSES = frozenset({404, 410})
TIMEOUT_SECONDS = 15
# Several waiting notifications collapse into one at the push service (RFC 8030, section 5.4).
TOPIC = "haven-secure-message"


class PushError(Exception):
    """The push service did not take the notification.

    `permanent`: trying again cannot help. `gone`: the browser's subscription has ended (404 or
    410), so the device must be forgotten.
    """

    def __init__(self, description: str, *, permanent: bool, gone: bool = False):
        super().__init__(description)
        self.permanent = permanent or gone
        self.gone = gone


@dataclass(frozen=True)
class BrowserKeys:
    endpoint: str
    p256dh: str
    auth: str


def _b64url_decode(value: str) -> bytes:
    value = (value or "").strip()
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def _b64url_encode(value: bytes) -> str:
    return base64.urlsafe_b64encode(value).rstrip(b"=").decode()


def vapid_key() -> Vapid | None:
    """The site's signing key, or None when push is not configured (push is then not sent)."""
    private_key = getattr(settings, "HAVEN_VAPID_PRIVATE_KEY", "") or ""
    if not private_key:
        return None
    try:
        return Vapid.from_string(private_key=private_key)
    except (VapidException, ValueError, binascii.Error) as error:
        raise ValueError("HAVEN_VAPID_PRIVATE_KEY is not a P-256 private key") from error


def is_configured() -> bool:
    return bool(getattr(settings, "HAVEN_VAPID_PRIVATE_KEY", ""))


def application_server_key() -> str:
    """The public half, base64url, that browsers need to subscribe (`applicationServerKey`)."""
    key = vapid_key()
    if key is None:
        return ""
    raw = key.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return _b64url_encode(raw)


def new_private_key() -> str:
    """A new VAPID private key as base64url of its 32 bytes, the form web-push tools print."""
    key = ec.generate_private_key(ec.SECP256R1())
    return _b64url_encode(key.private_numbers().private_value.to_bytes(32, "big"))


def endpoint_allowed(endpoint: str) -> bool:
    """True for an https address of a push service in HAVEN_PUSH_SERVICES."""
    parts = urlsplit(endpoint or "")
    host = (parts.hostname or "").lower()
    if not host or parts.username or parts.password:
        return False
    secure = parts.scheme == "https" or (
        parts.scheme == "http" and not getattr(settings, "PRODUCTION", False)
    )
    services = getattr(settings, "HAVEN_PUSH_SERVICES", [])
    return secure and any(fnmatch(host, pattern.lower()) for pattern in services)


def checked_keys(*, endpoint: str, p256dh: str, auth: str) -> BrowserKeys:
    """The browser's subscription, checked; raises ValidationError with a message to show."""
    if len(endpoint or "") > 1000 or not endpoint_allowed(endpoint):
        raise ValidationError(
            _("This browser's push service is not one Haven can send to."), code="endpoint"
        )
    try:
        public = _b64url_decode(p256dh)
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public)
        secret = _b64url_decode(auth)
    except (ValueError, binascii.Error) as error:
        raise ValidationError(
            _("The browser sent keys Haven cannot use. Try again."), code="keys"
        ) from error
    if len(public) != 65 or len(secret) != 16:
        raise ValidationError(_("The browser sent keys Haven cannot use. Try again."), code="keys")
    return BrowserKeys(
        endpoint=endpoint, p256dh=_b64url_encode(public), auth=_b64url_encode(secret)
    )


def send(*, keys: BrowserKeys, payload: dict, timeout: float = TIMEOUT_SECONDS) -> None:
    """Encrypt `payload` for one browser and hand it to its push service; raises PushError."""
    key = vapid_key()
    if key is None:
        raise PushError("no VAPID key configured", permanent=False)
    if not endpoint_allowed(keys.endpoint):
        raise PushError("the push service is not in HAVEN_PUSH_SERVICES", permanent=True)
    session = requests.Session()
    session.max_redirects = 0  # a redirect could lead anywhere: an error, never followed
    try:
        webpush(
            subscription_info={
                "endpoint": keys.endpoint,
                "keys": {"p256dh": keys.p256dh, "auth": keys.auth},
            },
            data=json.dumps(payload),
            vapid_private_key=key,
            vapid_claims={"sub": settings.HAVEN_VAPID_SUBJECT},
            ttl=int(getattr(settings, "HAVEN_PUSH_TTL_SECONDS", 24 * 3600)),
            headers={"Urgency": "normal", "Topic": TOPIC},
            timeout=timeout,
            requests_session=session,
        )
    except WebPushException as error:
        status = error.response.status_code if error.response is not None else None
        if status in GONE_STATUSES:
            raise PushError(f"push service answered {status}", permanent=True, gone=True) from error
        retry = status is None or status in RETRYABLE_STATUSES or status >= 500
        raise PushError(f"push service answered {status}", permanent=not retry) from error
    except requests.TooManyRedirects as error:
        raise PushError("the push service redirected", permanent=True) from error
    except requests.RequestException as error:
        raise PushError(
            f"push service unreachable: {type(error).__name__}"[:400], permanent=False
        ) from error
    finally:
        session.close()
