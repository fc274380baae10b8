"""Every request is written to the web log; suspicious ones are noted and throttled (SEC-2)."""

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from haven.security import services


def watch(get_response):
    def middleware(request: HttpRequest) -> HttpResponse:
        address = services.client_address(request)
        token = services.current_address.set(address)
        try:
            return answer(request, address)
        finally:
            services.current_address.reset(token)

    def answer(request: HttpRequest, address: str | None) -> HttpResponse:
        if services.is_throttled(address):
            response = HttpResponse(
                render_to_string("security/throttled.html", request=request), status=429
            )
            response["Retry-After"] = "900"
            services.record_request(request, response.status_code)
            return response
        pattern = services.injection_pattern(request)
        if pattern:
            services.note_injection(address, pattern, request.path)
        response = get_response(request)
        # Only addresses no page answers: a record that is not yours is a 404 too, and normal.
        if response.status_code == 404 and getattr(request, "resolver_match", None) is None:
            services.note_not_found(address, request.path)
        services.record_request(request, response.status_code)
        return response

    return middleware
