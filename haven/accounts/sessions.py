"""Server-side session lifetime (ACC-5, ACC-6): idle and absolute limits, and ending sessions."""

import time
from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from haven.accounts.models import User, UserSession

SIGNED_IN_AT = "haven_signed_in_at"
LAST_ACTIVE_AT = "haven_last_active_at"
REAUTHENTICATED_AT = "haven_reauthenticated_at"
LAST_SEEN_SAVED_AT = "haven_last_seen_saved_at"
# "Last seen" on the sessions page is saved at most this often, not on every request.
LAST_SEEN_EVERY_SECONDS = 60


def session_store_class():
    return import_module(settings.SESSION_ENGINE).SessionStore


def session_expiry_reason(request: HttpRequest, now: float | None = None) -> str | None:
    """Why the request's session has ended ("idle" or "expired"), or None while it is alive."""
    now = time.time() if now is None else now
    signed_in_at = request.session.get(SIGNED_IN_AT)
    last_active_at = request.session.get(LAST_ACTIVE_AT, signed_in_at)
    if signed_in_at is None or now - signed_in_at > settings.HAVEN_SESSION_ABSOLUTE_SECONDS:
        return "expired"
    if now - last_active_at > settings.HAVEN_SESSION_IDLE_SECONDS:
        return "idle"
    return None


def seconds_left(request: HttpRequest, now: float | None = None) -> int:
    """Seconds until the session ends by idleness or by its absolute limit, whichever is first."""
    now = time.time() if now is None else now
    signed_in_at = request.session.get(SIGNED_IN_AT, now)
    last_active_at = request.session.get(LAST_ACTIVE_AT, signed_in_at)
    idle_left = settings.HAVEN_SESSION_IDLE_SECONDS - (now - last_active_at)
    absolute_left = settings.HAVEN_SESSION_ABSOLUTE_SECONDS - (now - signed_in_at)
    return max(0, int(min(idle_left, absolute_left)))


def mark_active(request: HttpRequest) -> None:
    now = time.time()
    request.session[LAST_ACTIVE_AT] = now
    if now - request.session.get(LAST_SEEN_SAVED_AT, 0) >= LAST_SEEN_EVERY_SECONDS:
        request.session[LAST_SEEN_SAVED_AT] = now
        UserSession.objects.filter(session_key=request.session.session_key).update(
            last_seen_at=timezone.now()
        )


def live_sessions(user: User) -> QuerySet[UserSession]:
    """The user's sessions that have not passed their idle or absolute limit."""
    now = timezone.now()
    idle = settings.HAVEN_SESSION_IDLE_SECONDS + LAST_SEEN_EVERY_SECONDS
    return UserSession.objects.filter(
        user=user,
        last_seen_at__gte=now - timedelta(seconds=idle),
        signed_in_at__gte=now - timedelta(seconds=settings.HAVEN_SESSION_ABSOLUTE_SECONDS),
    )


def session_key_changed(request: HttpRequest, old_key: str | None) -> None:
    """Keep the session's row when Django gives it a new key (after a password change)."""
    new_key = request.session.session_key
    if old_key and new_key and old_key != new_key:
        UserSession.objects.filter(session_key=old_key).update(session_key=new_key)


def session_started(request: HttpRequest, user: User) -> None:
    """Record a new signed-in session; called after login() has cycled the session key."""
    now = time.time()
    request.session[SIGNED_IN_AT] = now
    request.session[LAST_ACTIVE_AT] = now
    request.session[REAUTHENTICATED_AT] = now
    request.session[LAST_SEEN_SAVED_AT] = now
    request.session.save()
    UserSession.objects.update_or_create(
        session_key=request.session.session_key,
        defaults={
            "user": user,
            "ip_address": request.META.get("REMOTE_ADDR") or None,
            "user_agent": request.META.get("HTTP_USER_AGENT", "")[:300],
        },
    )


def end_session(user_session: UserSession) -> None:
    """Kill a session on the server: its data is deleted, so its cookie opens nothing."""
    session_store_class()(session_key=user_session.session_key).delete()
    user_session.delete()


def end_sessions(user: User, *, except_key: str | None = None) -> int:
    """End every session of the user but the one named; returns how many were ended."""
    ended = 0
    for user_session in UserSession.objects.filter(user=user).exclude(session_key=except_key or ""):
        end_session(user_session)
        ended += 1
    return ended
