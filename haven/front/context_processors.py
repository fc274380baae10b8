from django.conf import settings
from django.http import HttpRequest


def haven(request: HttpRequest) -> dict:
    return {
        "site_name": settings.SITE_NAME,
        "organisation_name": settings.ORGANISATION_NAME,
        "session_idle_seconds": settings.HAVEN_SESSION_IDLE_SECONDS,
        "session_warning_seconds": settings.HAVEN_SESSION_WARNING_SECONDS,
        "acting_for": getattr(request, "acting_for", None),
    }
