"""The web log (LOG-1) and the detection of suspicious traffic (SEC-2).

Counters live in the cache (Redis in production, shared by every app server) over a window of a
few minutes; when a source crosses a threshold a SecurityEvent is recorded for the security staff
and the source is throttled: it gets 429 for a while, whatever it asks.
"""

import hashlib
import re
from contextvars import ContextVar
from datetime import timedelta
from urllib.parse import unquote_plus

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from django.utils import timezone

from haven.lib import partitions
from haven.security.models import SecurityEvent, WebRequest

Kind = SecurityEvent.Kind

# The address of the request being answered, for detectors called deep inside it (the scanner).
current_address: ContextVar[str | None] = ContextVar("haven_request_address", default=None)

# (pattern name, expression) over the decoded path and query string; never over bodies, which
# hold what members write.
INJECTION_PATTERNS = [
    (
        "sql",
        re.compile(
            r"\bunion\b.{0,40}\bselect\b|'\s*or\s+'?\d|\bor\s+\d+\s*=\s*\d+|;\s*drop\s+table|\bsleep\s*\(\s*\d|\bpg_sleep\b|\binformation_schema\b",
            re.I,
        ),
    ),
    ("script", re.compile(r"<\s*script|javascript:|\bon(error|load)\s*=", re.I)),
    ("traversal", re.compile(r"\.\./|\.\.\\|/etc/passwd|\bwin\.ini\b", re.I)),
    ("command", re.compile(r"[;|`]\s*(cat|wget|curl|bash|sh|nc)\s|\$\(\s*\w+", re.I)),
]

# (browser, substring) in the order they must be tested: Edge and Opera also say Chrome.
BROWSERS = [
    ("Edge", "Edg/"),
    ("Opera", "OPR/"),
    ("Firefox", "Firefox/"),
    ("Chrome", "Chrome/"),
    ("Safari", "Safari/"),
    ("curl", "curl/"),
]
SYSTEMS = [
    ("Android", "Android"),
    ("iOS", "iPhone"),
    ("iOS", "iPad"),
    ("Windows", "Windows"),
    ("macOS", "Mac OS X"),
    ("ChromeOS", "CrOS"),
    ("Linux", "Linux"),
]


def describe_user_agent(user_agent: str) -> tuple[str, str]:
    """The browser family and operating system a User-Agent names, without keeping the string."""
    browser = next((name for name, mark in BROWSERS if mark in user_agent), "other")
    system = next((name for name, mark in SYSTEMS if mark in user_agent), "other")
    return browser, system


def client_address(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def page_name(request) -> str:
    """The page as its route pattern (/library/programmes/<slug:slug>/), so that no slug or
    number, which could say what someone read about, reaches the log; unknown paths as sent."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return request.path
    return "/" + match.route.lstrip("^").rstrip("$")


def record_request(request, status: int) -> None:
    """One line of the web log; a database failure loses the line, never the page."""
    browser, system = describe_user_agent(request.META.get("HTTP_USER_AGENT", ""))
    referrer = request.META.get("HTTP_REFERER", "").split("?", 1)[0].split("#", 1)[0]
    try:
        WebRequest.objects.create(
            at=timezone.now(),
            host=request.get_host()[:255],
            address=client_address(request),
            browser=browser,
            operating_system=system,
            method=request.method[:8],
            path=page_name(request)[:500],
            status=status,
            referrer=referrer[:500],
        )
    except DatabaseError:
        pass


def purge_web_log(now=None, batch: int = 5000) -> int:
    """Erase web-log lines past their retention. On PostgreSQL whole months go by dropping their
    partitions; the rest (the month the cutoff falls in, SQLite) in batches, so the site never
    waits on a lock."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.HAVEN_WEBLOG_RETENTION_DAYS)
    erased = partitions.drop_partitions_before(WebRequest._meta.db_table, cutoff)
    while True:
        ids = list(WebRequest.objects.filter(at__lt=cutoff).values_list("pk", flat=True)[:batch])
        if not ids:
            return erased
        erased += WebRequest.objects.filter(pk__in=ids).delete()[0]


# Throttling and counting.


def _key(*parts: str) -> str:
    return "haven-security:" + ":".join(parts)


def is_throttled(address: str | None) -> bool:
    return bool(address) and cache.get(_key("throttle", address)) is not None


def lift_throttle(event: SecurityEvent) -> None:
    cache.delete(_key("throttle", event.address or ""))
    SecurityEvent.objects.filter(address=event.address, throttled_until__gt=timezone.now()).update(
        throttled_until=timezone.now()
    )


def _count(address: str, kind: str, member: str | None = None) -> int:
    """How often (or for how many distinct things) this source did this within the window."""
    window = settings.HAVEN_SECURITY_WINDOW_SECONDS
    if member is None:
        key = _key("count", kind, address)
        cache.add(key, 0, window)
        try:
            return cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, window)
            return 1
    key = _key("distinct", kind, address)
    seen = set(cache.get(key) or ())
    seen.add(hashlib.sha256(member.encode()).hexdigest()[:16])
    cache.set(key, sorted(seen)[:1000], window)
    return len(seen)


def raise_event(kind: str, address: str | None, detail: str, *, throttle: bool) -> SecurityEvent:
    """Record (or extend) the open event of this kind from this source; throttle it if asked."""
    now = timezone.now()
    window = timedelta(seconds=settings.HAVEN_SECURITY_WINDOW_SECONDS)
    event = (
        SecurityEvent.objects.filter(
            kind=kind, address=address, reviewed_at__isnull=True, last_seen__gte=now - window
        )
        .order_by("-last_seen")
        .first()
    )
    if event is None:
        event = SecurityEvent(kind=kind, address=address, first_seen=now, occurrences=0)
    event.last_seen = now
    event.occurrences += 1
    event.detail = detail[:300]
    if throttle and address:
        minutes = settings.HAVEN_THROTTLE_MINUTES
        cache.set(_key("throttle", address), kind, minutes * 60)
        event.throttled_until = now + timedelta(minutes=minutes)
    event.save()
    return event


def note_failed_sign_in(address: str | None, username: str) -> None:
    """Many accounts tried from one source is credential stuffing, whatever each lock says."""
    if not address:
        return
    accounts = _count(address, "sign-in", member=username.strip().lower())
    if accounts >= settings.HAVEN_STUFFING_ACCOUNTS:
        raise_event(
            Kind.CREDENTIAL_STUFFING,
            address,
            f"{accounts} accounts tried",
            throttle=True,
        )


def note_not_found(address: str | None, path: str) -> None:
    if not address:
        return
    misses = _count(address, "not-found")
    if misses >= settings.HAVEN_SCANNING_NOT_FOUND:
        raise_event(
            Kind.SCANNING, address, f"{misses} missing pages, last {path[:200]}", throttle=True
        )


def injection_pattern(request) -> str | None:
    """The name of the attack pattern in this request's path or query string, if any."""
    text = unquote_plus(request.path) + "?" + unquote_plus(request.META.get("QUERY_STRING", ""))
    return next((name for name, pattern in INJECTION_PATTERNS if pattern.search(text)), None)


def note_injection(address: str | None, pattern: str, path: str) -> None:
    attempts = _count(address or "unknown", "injection")
    raise_event(
        Kind.INJECTION,
        address,
        f"{pattern} pattern on {path[:200]}",
        throttle=attempts >= settings.HAVEN_INJECTION_ATTEMPTS,
    )


def note_malicious_upload(address: str | None) -> None:
    uploads = _count(address or "unknown", "malware")
    raise_event(
        Kind.MALWARE,
        address,
        "the virus scanner refused an upload",
        throttle=uploads >= settings.HAVEN_MALWARE_UPLOADS,
    )


def events_awaiting_review():
    return SecurityEvent.objects.filter(reviewed_at__isnull=True)


def review(event: SecurityEvent, reviewer, note: str) -> None:
    event.reviewed_by = reviewer
    event.reviewed_at = timezone.now()
    event.review_note = note[:500]
    event.save(update_fields=["reviewed_by", "reviewed_at", "review_note"])
