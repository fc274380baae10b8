"""Security headers Django does not set itself (SEC-1); Django's own come from settings."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse

PERMISSIONS_POLICY = (
    # Precise location only for finding care, from Haven's own pages (CON-3); nothing else.
    "geolocation=(self), camera=(), microphone=(), payment=(), usb=(), "
    "interest-cohort=(), browsing-topics=()"
)

# A static file opened on its own (an SVG icon, say) may draw but never run a script or be framed.
STATIC_FILE_POLICY = (
    "default-src 'none'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'; sandbox"
)


def security_headers(get_response):
    """Permissions-Policy on every response, and no caching of anything but static files."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        # Pages can carry personal data: never kept by browsers or shared caches. WhiteNoise
        # answers static files before this middleware, with their own long-lived caching.
        response["Cache-Control"] = "no-store"
        response.setdefault("Pragma", "no-cache")
        return response

    return middleware


def static_file_headers(headers, path: str, url: str) -> None:
    """WhiteNoise's hook for static files: the same protections pages get, minus no-store."""
    headers["Content-Security-Policy"] = STATIC_FILE_POLICY
    headers["X-Frame-Options"] = "DENY"
    headers["Cross-Origin-Resource-Policy"] = "same-origin"
    headers["Permissions-Policy"] = PERMISSIONS_POLICY


def client_address(get_response):
    """Behind trusted proxies, the client's address is the one they saw, not the proxy's.

    With HAVEN_TRUSTED_PROXIES = N, the N-th address from the right of X-Forwarded-For becomes
    REMOTE_ADDR; addresses further left were written by the client and are never trusted. Rate
    limits, sign-in locks, sessions and audit records all read REMOTE_ADDR.
    """

    def middleware(request: HttpRequest) -> HttpResponse:
        proxies = settings.HAVEN_TRUSTED_PROXIES
        if proxies:
            hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
            hops = [hop for hop in hops if hop]
            if len(hops) >= proxies:
                request.META["REMOTE_ADDR"] = hops[-proxies]
        return get_response(request)

    return middleware
