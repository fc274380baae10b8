"""What the cookie banner and the notice banner need on every page (privacy/cookie_banner.html,
privacy/notice_banner.html, included by the base layout)."""

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from haven.privacy import services


def _pending_incidents(request: HttpRequest):
    user = request.user
    if not user.is_authenticated or user.member_id is None:
        return []
    return list(services.incidents_for(user.member).filter(seen_at__isnull=True)[:3])


def _analytics_page(request: HttpRequest) -> str | None:
    """The page's URL name, for the browser to report time on it, where analytics are allowed."""
    match = getattr(request, "resolver_match", None)
    if request.method != "GET" or match is None or not match.url_name:
        return None
    return match.view_name if services.analytics_allowed(request) else None


def privacy(request: HttpRequest) -> dict:
    """Lazy: nothing is queried on a page that does not show the banners."""
    return {
        "cookie_banner_needed": SimpleLazyObject(lambda: services.cookie_banner_needed(request)),
        "privacy_signal": SimpleLazyObject(lambda: services.privacy_signal(request)),
        "pending_notice": SimpleLazyObject(
            lambda: services.notice_pending_for(request.user) if hasattr(request, "user") else None
        ),
        "pending_incidents": SimpleLazyObject(lambda: _pending_incidents(request)),
        "analytics_page": SimpleLazyObject(lambda: _analytics_page(request)),
    }
