"""Signed links of finding care: the "never invite me again" link in invitations (CARE-5) and the
notice shown before a link leaves Haven (SEC-3). Both carry tokens, never an address in clear."""

from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core import signing
from django.urls import reverse

NEVER_INVITE_SALT = "haven.care.never-invite"
LEAVING_SALT = "haven.care.leaving"


def never_invite_token(suppression_hash: str) -> str:
    """Never expires: an old invitation's link must still work."""
    return signing.dumps({"h": suppression_hash}, salt=NEVER_INVITE_SALT)


def read_never_invite_token(token: str) -> str | None:
    try:
        data = signing.loads(token, salt=NEVER_INVITE_SALT)
    except signing.BadSignature:
        return None
    value = data.get("h") if isinstance(data, dict) else None
    return value if isinstance(value, str) and len(value) == 64 else None


def never_invite_url(suppression_hash: str) -> str:
    path = reverse("care:never_invite", kwargs={"token": never_invite_token(suppression_hash)})
    return settings.SITE_URL.rstrip("/") + path


def is_external(url: str) -> bool:
    """An http(s) address on another site: the only kind the leaving page sends people to."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def leaving_token(url: str) -> str:
    return signing.dumps(url, salt=LEAVING_SALT, compress=True)


def read_leaving_token(token: str) -> str | None:
    """The address a leaving link was made for, or None: Haven signs the addresses it links to,
    so the page cannot be used to send people anywhere else (no open redirect)."""
    try:
        url = signing.loads(token, salt=LEAVING_SALT)
    except signing.BadSignature:
        return None
    return url if isinstance(url, str) and is_external(url) else None


def leaving_url(url: str) -> str:
    """Haven's leaving page for an external address (SEC-3)."""
    if not is_external(url):
        raise ValueError("the leaving page is only for http(s) links to other sites")
    return f"{reverse('care:leaving')}?{urlencode({'to': leaving_token(url)})}"
