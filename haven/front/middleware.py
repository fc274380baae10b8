from django.http import HttpRequest, HttpResponse

PERMISSIONS_POLICY = (
    # Precise location only for finding care, from Haven's own pages (CON-3); nothing else.
    "geolocation=(self), camera=(), microphone=(), payment=(), usb=(), "
    "interest-cohort=(), browsing-topics=()"
)


def security_headers(get_response):
    """Headers Django does not set itself (SEC-1), and no caching of anything but static files."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        if not request.path.startswith("/static/"):
            # Pages can carry personal data: never kept by browsers or shared caches.
            response["Cache-Control"] = "no-store"
            response.setdefault("Pragma", "no-cache")
        return response

    return middleware
