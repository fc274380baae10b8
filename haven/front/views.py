from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import cache_control

from haven.accounts.decorators import staff_required


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "front/home.html")


@cache_control(public=True, max_age=86400)
def manifest(request: HttpRequest) -> HttpResponse:
    return render(request, "front/manifest.webmanifest", content_type="application/manifest+json")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "front/csrf_failure.html", status=403)


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    return render(request, "403.html", status=403)


@staff_required()
def staff_home(request: HttpRequest) -> HttpResponse:
    return render(request, "front/staff_home.html")
