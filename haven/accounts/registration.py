"""Failed registration attempts are counted per network address, so nobody can probe the
roster (or the list of usernames) at will (ACC-1). The address is kept only as a keyed hash.
"""

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from haven.lib.hashing import lookup_hash

WINDOW_SECONDS = 60 * 60


def failure_limit() -> int:
    return getattr(settings, "HAVEN_REGISTRATION_FAILURE_LIMIT", 10)


def _key(request: HttpRequest) -> str:
    address = request.META.get("REMOTE_ADDR") or "unknown"
    return "registration-failures:" + lookup_hash(address, purpose="registration-throttle")


def attempts_exhausted(request: HttpRequest) -> bool:
    return cache.get(_key(request), 0) >= failure_limit()


def record_failure(request: HttpRequest) -> None:
    """Count a refused attempt; the window starts at the first one and lasts an hour."""
    key = _key(request)
    if not cache.add(key, 1, timeout=WINDOW_SECONDS):
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=WINDOW_SECONDS)
