"""Links that e-mail carries: always to Haven's own site (MAIL-6), with signed tokens, never addresses."""

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse

UNSUBSCRIBE_SALT = "haven.mail.unsubscribe"
PORTAL_OPEN_SALT = "haven.mail.portal-open"
PORTAL_RESET_SALT = "haven.mail.portal-reset"


def site_url(path: str) -> str:
    """An absolute URL on Haven's own site; refuses anything that is not a plain local path."""
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        raise ValueError("e-mail links point only to paths on Haven's own site")
    return settings.SITE_URL.rstrip("/") + path


def portal_link_age() -> timedelta:
    return timedelta(days=int(getattr(settings, "HAVEN_PORTAL_LINK_DAYS", 14)))


def portal_reset_age() -> timedelta:
    return timedelta(seconds=int(getattr(settings, "HAVEN_PORTAL_RESET_SECONDS", 3600)))


def unsubscribe_token(*, address_hash: str, category: str) -> str:
    """Never expires: an old e-mail's opt-out link must still work (MAIL-8)."""
    return signing.dumps({"a": address_hash, "c": category}, salt=UNSUBSCRIBE_SALT)


def read_unsubscribe_token(token: str) -> dict | None:
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    return data if isinstance(data, dict) and {"a", "c"} <= data.keys() else None


def unsubscribe_url(*, address_hash: str, category: str) -> str:
    token = unsubscribe_token(address_hash=address_hash, category=category)
    return site_url(reverse("mail:unsubscribe", kwargs={"token": token}))


def portal_open_token(*, recipient_id: int, conversation_id: int) -> str:
    return signing.dumps({"r": recipient_id, "c": conversation_id}, salt=PORTAL_OPEN_SALT)


def read_portal_open_token(token: str) -> dict | None:
    """The recipient and conversation of a notification link, or None when forged or expired."""
    try:
        data = signing.loads(token, salt=PORTAL_OPEN_SALT, max_age=portal_link_age())
    except signing.BadSignature:
        return None
    return data if isinstance(data, dict) and {"r", "c"} <= data.keys() else None


def portal_reset_token(*, recipient_id: int, credential_version: int) -> str:
    return signing.dumps({"r": recipient_id, "v": credential_version}, salt=PORTAL_RESET_SALT)


def read_portal_reset_token(token: str) -> dict | None:
    """Expires after HAVEN_PORTAL_RESET_SECONDS; works once, because a new password bumps the version."""
    try:
        data = signing.loads(token, salt=PORTAL_RESET_SALT, max_age=portal_reset_age())
    except signing.BadSignature:
        return None
    return data if isinstance(data, dict) and {"r", "v"} <= data.keys() else None
