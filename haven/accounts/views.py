import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import check_for_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from haven.accounts.forms import PasswordConfirmForm, SecondFactorForm, SignInForm
from haven.accounts.sessions import REAUTHENTICATED_AT, seconds_left


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _reason_message(reason: str) -> str | None:
    if reason == "idle":
        minutes = settings.HAVEN_SESSION_IDLE_SECONDS // 60
        return _(
            "You were signed out after %(minutes)s minutes without activity, to protect your information."
        ) % {"minutes": minutes}
    if reason == "expired":
        return _("Your session reached its time limit. Sign in again to continue.")
    if reason == "ended":
        return _("You have signed out.")
    return None


def signin(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    form = SignInForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.user
        login(request, user)
        if user.is_staff_member:
            return redirect("accounts:two_factor")
        response = HttpResponseRedirect(_safe_next(request, reverse(settings.LOGIN_REDIRECT_URL)))
        if user.language:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                user.language,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            )
        return response
    context = {
        "form": form,
        "reason_message": _reason_message(request.GET.get("reason", "")),
        "next": _safe_next(request, ""),
    }
    return render(request, "accounts/signin.html", context)


def signin_locked(request: HttpRequest, credentials=None, *args, **kwargs) -> HttpResponse:
    """django-axes calls this once a username is locked; the answer is the same for every username."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "accounts/signin_locked.html", {"minutes": minutes}, status=429)


@require_POST
def signout(request: HttpRequest) -> HttpResponse:
    logout(request)
    return HttpResponseRedirect(reverse("accounts:login") + "?reason=ended")


@login_required
def two_factor(request: HttpRequest) -> HttpResponse:
    """Staff enrol a TOTP authenticator once, then give a code at every sign-in (ACC-12)."""
    user = request.user
    if user.is_verified():
        return redirect(settings.LOGIN_REDIRECT_URL)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    enrolling = device is None
    if enrolling:
        device = TOTPDevice.objects.filter(
            user=user, confirmed=False
        ).first() or TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    form = SecondFactorForm(device, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        if enrolling:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
        otp_login(request, device)
        return redirect(settings.LOGIN_REDIRECT_URL)
    context = {"form": form, "enrolling": enrolling}
    if enrolling:
        import segno

        context["qr_svg"] = segno.make(device.config_url, error="m").svg_inline(scale=4)
        context["secret"] = device.bin_key.hex()
    return render(request, "accounts/two_factor.html", context)


@login_required
def confirm_password(request: HttpRequest) -> HttpResponse:
    form = PasswordConfirmForm(request.user, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        request.session[REAUTHENTICATED_AT] = time.time()
        return HttpResponseRedirect(_safe_next(request, reverse(settings.LOGIN_REDIRECT_URL)))
    return render(
        request, "accounts/confirm_password.html", {"form": form, "next": _safe_next(request, "")}
    )


def session_status(request: HttpRequest) -> JsonResponse:
    """How long the session has left; asking does not extend it."""
    if not request.user.is_authenticated:
        return JsonResponse(
            {"signed_in": False, "login_url": reverse("accounts:login") + "?reason=idle"},
            status=401,
        )
    return JsonResponse({"signed_in": True, "seconds_left": seconds_left(request)})


@require_POST
def session_keepalive(request: HttpRequest) -> JsonResponse:
    """The "stay signed in" button: any signed-in request counts as activity."""
    if not request.user.is_authenticated:
        return JsonResponse(
            {"signed_in": False, "login_url": reverse("accounts:login") + "?reason=idle"},
            status=401,
        )
    return JsonResponse({"signed_in": True, "seconds_left": seconds_left(request)})


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch the interface language; signed-in users keep the choice on their account."""
    language = request.POST.get("language", "")
    response = HttpResponseRedirect(_safe_next(request, "/"))
    if not check_for_language(language) or language not in dict(settings.LANGUAGES):
        messages.error(request, _("That language is not available."))
        return response
    if request.user.is_authenticated:
        request.user.language = language
        request.user.save(update_fields=["language"])
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=365 * 24 * 60 * 60,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    return response


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/profile.html")


def register(request: HttpRequest) -> HttpResponse:
    """Choose how to register: plan member, consumer finding care, producer or agency."""
    return render(request, "accounts/register.html")
