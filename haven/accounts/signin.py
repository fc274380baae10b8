"""Slowing repeated failed sign-ins (ACC-13); django-axes locks after more of them.

Counted per username, whether or not an account has it, so the answers never reveal one.
"""

import hashlib
import time

from django.conf import settings
from django.core.cache import cache


def _key(username: str) -> str:
    digest = hashlib.sha256(username.strip().lower().encode()).hexdigest()
    return f"signin-failures:{digest}"


def seconds_to_wait(username: str, now: float | None = None) -> int:
    """How long this username must wait before its next attempt is even checked."""
    now = time.time() if now is None else now
    failures, last_failure_at = cache.get(_key(username), (0, 0.0))
    if failures < settings.HAVEN_SIGNIN_SLOW_AFTER:
        return 0
    return max(0, int(last_failure_at + settings.HAVEN_SIGNIN_SLOW_SECONDS - now + 0.999))


def record_failure(username: str) -> None:
    failures, _ = cache.get(_key(username), (0, 0.0))
    cache.set(_key(username), (failures + 1, time.time()), timeout=24 * 60 * 60)


def forget_failures(username: str) -> None:
    cache.delete(_key(username))
