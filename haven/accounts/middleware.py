"""Request gates for signed-in users: session lifetime, staff second factor, remembered language."""

from urllib.parse import urlencode

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils import translation

from haven.accounts.sessions import mark_active, session_expiry_reason

# Requests that only ask how long the session has left must not extend it.
PASSIVE_PATHS = ("/accounts/session/status/",)


def _wants_fragment(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true" or "application/json" in request.headers.get(
        "Accept", ""
    )


def session_lifetime(get_response):
    """End sessions idle past the limit or older than the absolute limit (ACC-5)."""

    def middleware(request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            reason = session_expiry_reason(request)
            if reason is not None:
                logout(request)
                login_url = reverse("accounts:login") + "?" + urlencode({"reason": reason})
                if _wants_fragment(request):
                    response = JsonResponse(
                        {"signed_in": False, "login_url": login_url}, status=401
                    )
                    response["HX-Redirect"] = login_url
                    return response
                if request.method == "GET":
                    login_url += "&" + urlencode({"next": request.get_full_path()})
                return HttpResponseRedirect(login_url)
            if not request.path.startswith(PASSIVE_PATHS):
                mark_active(request)
        return get_response(request)

    return middleware


SECOND_FACTOR_EXEMPT = (
    "/accounts/two-factor/",
    "/accounts/logout/",
    "/accounts/session/",
    "/static/",
)


def staff_second_factor(get_response):
    """Staff reach nothing until they have passed their second factor (ACC-12)."""

    def middleware(request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and user.is_staff_member
            and not user.is_verified()
            and not request.path.startswith(SECOND_FACTOR_EXEMPT)
        ):
            return HttpResponseRedirect(reverse("accounts:two_factor"))
        return get_response(request)

    return middleware


def user_language(get_response):
    """A signed-in user's saved language wins over the browser's."""

    def middleware(request: HttpRequest) -> HttpResponse:
        language = getattr(request.user, "language", "") if request.user.is_authenticated else ""
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return get_response(request)

    return middleware
