import time

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import check_for_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from haven.accounts import registration, services
from haven.accounts.decorators import kind_required, require_recent_password
from haven.accounts.forms import (
    GUARDIAN_ROUTE,
    REFUSALS,
    USERNAME_TAKEN,
    ConsumerDetailsForm,
    ConsumerRegistrationForm,
    ContactForm,
    MemberRegistrationForm,
    NamesForm,
    PasswordChangeForm,
    PasswordConfirmForm,
    SecondFactorForm,
    SignInForm,
    UsernameForm,
)
from haven.accounts.models import ConsumerProfile, User, UserSession
from haven.accounts.sessions import (
    REAUTHENTICATED_AT,
    end_session,
    end_sessions,
    live_sessions,
    seconds_left,
    session_key_changed,
)
from haven.mail.models import OPTIONAL, OptOut
from haven.mail.services import email_opt_out


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
        if minutes == 0:
            return _(
                "You were signed out after less than a minute without activity, to protect your information."
            )
        return ngettext(
            "You were signed out after %(minutes)s minute without activity, to protect your information.",
            "You were signed out after %(minutes)s minutes without activity, to protect your information.",
            minutes,
        ) % {"minutes": minutes}
    if reason == "expired":
        return _("Your session reached its time limit. Sign in again to continue.")
    if reason == "ended":
        return _("You have signed out.")
    if reason == "closed":
        return _("Your account is closed and you are signed out everywhere.")
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


def _interface_language() -> str:
    language = translation.get_language() or ""
    return language if language in dict(settings.LANGUAGES) else ""


def _welcome(request: HttpRequest, user: User) -> HttpResponse:
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    messages.success(
        request,
        _("Welcome to %(site)s, %(name)s. Your account is ready.")
        % {"site": settings.SITE_NAME, "name": user.display_name},
    )
    return redirect(settings.LOGIN_REDIRECT_URL)


def _registration_email_choice(user: User, form) -> None:
    """The opt-out offered at registration (MAIL-8), in the same transaction as the account."""
    if form.cleaned_data.get("email_only_required"):
        email_opt_out(
            user=user, categories=list(OPTIONAL), source=OptOut.Source.REGISTRATION, actor=user
        )


def register(request: HttpRequest) -> HttpResponse:
    """Choose how to register: plan member, consumer finding care, producer or agency."""
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    return render(request, "accounts/register.html")


def register_member(request: HttpRequest) -> HttpResponse:
    """A plan member registers with the details on their ID card, matched to the roster (ACC-1)."""
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    form = MemberRegistrationForm(data=request.POST or None)
    refusal = ""
    if request.method == "POST":
        if registration.attempts_exhausted(request):
            return _too_many_attempts(request, "accounts/register_member.html", form)
        if form.is_valid():
            try:
                with transaction.atomic():
                    user = services.member_register(
                        **form.registration_details(), language=_interface_language()
                    )
                    _registration_email_choice(user, form)
            except services.RegistrationRefused as refused:
                registration.record_failure(request)
                refusal = refused.reason
                form.add_error(None, forms.ValidationError(REFUSALS[refusal], code=refusal))
            except services.UsernameTaken:
                registration.record_failure(request)
                form.add_error("username", forms.ValidationError(USERNAME_TAKEN, code="taken"))
            else:
                return _welcome(request, user)
        elif form.has_error("username", "taken"):
            registration.record_failure(request)
    context = {"form": form, "refusal": refusal, "guardian_route": GUARDIAN_ROUTE}
    return render(request, "accounts/register_member.html", context)


def register_consumer(request: HttpRequest) -> HttpResponse:
    """Someone who is not a plan member signs up to find and book care (ACC-3)."""
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    form = ConsumerRegistrationForm(data=request.POST or None)
    if request.method == "POST":
        if registration.attempts_exhausted(request):
            return _too_many_attempts(request, "accounts/register_consumer.html", form)
        if form.is_valid():
            try:
                with transaction.atomic():
                    user = services.consumer_register(
                        **form.registration_details(), language=_interface_language()
                    )
                    _registration_email_choice(user, form)
            except services.UsernameTaken:
                registration.record_failure(request)
                form.add_error("username", forms.ValidationError(USERNAME_TAKEN, code="taken"))
            else:
                return _welcome(request, user)
        elif form.has_error("username", "taken"):
            registration.record_failure(request)
    return render(request, "accounts/register_consumer.html", {"form": form})


def _too_many_attempts(request: HttpRequest, template: str, form) -> HttpResponse:
    minutes = registration.WINDOW_SECONDS // 60
    form.is_valid()  # keeps what was typed on the page; nothing is checked against the roster
    form.errors.clear()
    form.add_error(
        None,
        forms.ValidationError(
            _(
                "There have been too many unsuccessful attempts to register from your "
                "connection. For everyone's protection, wait %(minutes)s minutes and try "
                "again, or call member services."
            )
            % {"minutes": minutes},
            code="too_many",
        ),
    )
    context = {"form": form, "refusal": "too_many", "guardian_route": GUARDIAN_ROUTE}
    return render(request, template, context, status=429)


@login_required
def password_change(request: HttpRequest) -> HttpResponse:
    """Change the password; every other session ends, this one stays signed in (ACC-4)."""
    form = PasswordChangeForm(request.user, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        old_key = request.session.session_key
        ended = services.password_change(
            user=request.user,
            new_password=form.cleaned_data["new_password1"],
            keep_session_key=old_key,
        )
        update_session_auth_hash(request, request.user)
        session_key_changed(request, old_key)
        request.session[REAUTHENTICATED_AT] = time.time()
        if ended:
            message = ngettext(
                "Your password is changed. %(count)s other session was signed out.",
                "Your password is changed. %(count)s other sessions were signed out.",
                ended,
            ) % {"count": ended}
        else:
            message = _("Your password is changed. You were not signed in anywhere else.")
        messages.success(request, message)
        return redirect("accounts:profile")
    return render(request, "accounts/password_change.html", {"form": form})


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    """The account as Haven holds it, with links to change each part (ACC-10)."""
    user = request.user
    context = {
        "language_name": dict(settings.LANGUAGES).get(user.language, ""),
        "names_from_roster": user.member_id is not None,
        "session_count": live_sessions(user).count(),
        "consumer_profile": ConsumerProfile.objects.filter(user=user).first(),
        "may_close": user.kind in services.CLOSABLE_KINDS,
    }
    return render(request, "accounts/profile.html", context)


@require_recent_password
def profile_username(request: HttpRequest) -> HttpResponse:
    form = UsernameForm(request.user, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_rename(user=request.user, username=form.cleaned_data["username"])
        except services.UsernameTaken:
            form.add_error("username", forms.ValidationError(USERNAME_TAKEN, code="taken"))
        else:
            messages.success(
                request,
                _("Your username is now %(username)s. Use it the next time you sign in.")
                % {"username": request.user.username},
            )
            return redirect("accounts:profile")
    return render(request, "accounts/profile_username.html", {"form": form})


@login_required
def profile_names(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = NamesForm(user, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.user_update_names(user=user, **form.cleaned_data)
        messages.success(request, _("Your name is saved."))
        return redirect("accounts:profile")
    context = {"form": form, "names_from_roster": user.member_id is not None}
    return render(request, "accounts/profile_names.html", context)


@require_recent_password
def profile_contact(request: HttpRequest) -> HttpResponse:
    """E-mail and phone: where notices go, so changing them asks for the password again."""
    form = ContactForm(request.user, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.user_update_contact(user=request.user, **form.cleaned_data)
        messages.success(request, _("Your e-mail and phone are saved."))
        return redirect("accounts:profile")
    return render(request, "accounts/profile_contact.html", {"form": form})


@kind_required(User.Kind.CONSUMER)
@require_recent_password
def profile_consumer(request: HttpRequest) -> HttpResponse:
    """A consumer's address and insurance: personal data, so it asks for the password again."""
    profile = ConsumerProfile.objects.filter(user=request.user).first()
    form = ConsumerDetailsForm(data=request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        services.consumer_details_update(user=request.user, **form.cleaned_data)
        messages.success(request, _("Your address and insurance are saved."))
        return redirect("accounts:profile")
    return render(request, "accounts/profile_consumer.html", {"form": form})


@login_required
def sessions(request: HttpRequest) -> HttpResponse:
    """Where the user is signed in, so they can end any session they do not recognise (ACC-6)."""
    current_key = request.session.session_key
    user_sessions = list(live_sessions(request.user))
    context = {
        "user_sessions": user_sessions,
        "current_key": current_key,
        "other_count": sum(s.session_key != current_key for s in user_sessions),
    }
    return render(request, "accounts/sessions.html", context)


@require_POST
@login_required
def session_end(request: HttpRequest, pk: int) -> HttpResponse:
    """End one of the user's other sessions; anyone else's session is not found."""
    user_session = get_object_or_404(
        UserSession.objects.exclude(session_key=request.session.session_key or ""),
        pk=pk,
        user=request.user,
    )
    end_session(user_session)
    messages.success(
        request,
        _("The session on %(device)s is ended; it is signed out.")
        % {"device": user_session.device},
    )
    return redirect("accounts:sessions")


@require_POST
@login_required
def sessions_end_others(request: HttpRequest) -> HttpResponse:
    ended = end_sessions(request.user, except_key=request.session.session_key)
    messages.success(
        request,
        ngettext(
            "%(count)s other session was signed out.",
            "%(count)s other sessions were signed out.",
            ended,
        )
        % {"count": ended},
    )
    return redirect("accounts:sessions")


# --- Staff second factor (ACC-12) -----------------------------------------------------------
# Imported here, so this section only appends to the module.
from django.core.exceptions import ValidationError  # noqa: E402

from haven.accounts.decorators import staff_required  # noqa: E402
from haven.accounts.forms import SecondFactorResetForm  # noqa: E402


@staff_required()
@require_recent_password
def second_factor(request: HttpRequest) -> HttpResponse:
    """A staff member moves their second factor to a new authenticator (a new phone), after
    giving the password again; the old one stops working at once."""
    device = services.second_factor_pending(request.user, request.session)
    form = SecondFactorForm(device, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = services.second_factor_replace(user=request.user, device=device, request=request)
        request.session.pop(services.PENDING_SECOND_FACTOR_KEY, None)
        otp_login(request, device)
        messages.success(
            request, _("Your new authenticator is set up. The old one no longer works.")
        )
        return redirect("accounts:profile")
    import segno

    context = {
        "form": form,
        "qr_svg": segno.make(device.config_url, error="m").svg_inline(scale=4),
        "secret": device.bin_key.hex(),
        "may_reset": request.user.has_staff_role(*services.SECOND_FACTOR_RESET_ROLES),
    }
    return render(request, "accounts/second_factor.html", context)


@staff_required(*services.SECOND_FACTOR_RESET_ROLES)
@require_recent_password
def second_factor_reset(request: HttpRequest) -> HttpResponse:
    """Compliance or the administrator resets a colleague's lost second factor; recorded in the
    audit trail with the reason, and the colleague enrols a new one at their next sign-in."""
    form = SecondFactorResetForm(request.user, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        colleague = form.cleaned_data["colleague"]
        try:
            services.second_factor_reset(
                colleague=colleague,
                reason=form.cleaned_data["reason"],
                actor=request.user,
                request=request,
            )
        except ValidationError as error:
            form.add_error("reason" if error.code == "reason" else "colleague", error)
        else:
            messages.success(
                request,
                _(
                    "The second factor of %(name)s is reset and their sessions are ended. "
                    "They set up a new authenticator at their next sign-in."
                )
                % {"name": colleague.get_full_name() or colleague.username},
            )
            return redirect("accounts:second_factor_reset")
    enrolled = set(
        TOTPDevice.objects.filter(confirmed=True).values_list("user_id", flat=True).distinct()
    )
    colleagues = [(user, user.pk in enrolled) for user in form.fields["colleague"].queryset]
    return render(
        request, "accounts/second_factor_reset.html", {"form": form, "colleagues": colleagues}
    )


# --- Closing an account (LOG-5) ---------------------------------------------------------------
from haven.accounts.forms import (  # noqa: E402
    AccountCloseForm,
    StaffAccountCloseForm,
    StaffAccountFindForm,
)
from haven.privacy import facts  # noqa: E402
from haven.privacy import views as privacy_views  # noqa: E402


def _closed_account_period() -> str:
    """The period the notice states for closed accounts, in words ("6 years")."""
    return facts.retention_of("closed_accounts").period


@kind_required(*services.CLOSABLE_KINDS)
@require_recent_password
@require_http_methods(["GET", "POST"])
def account_close(request: HttpRequest) -> HttpResponse:
    """The owner closes their account after reading what it does; they are signed out."""
    form = AccountCloseForm(data=request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services.account_close(account=request.user, actor=request.user, request=request)
        logout(request)
        return HttpResponseRedirect(reverse("accounts:login") + "?reason=closed")
    context = {
        "form": form,
        "period": _closed_account_period(),
        "may_request_deletion": request.user.kind in privacy_views.REQUEST_KINDS,
    }
    return render(request, "accounts/account_close.html", context)


member_services_required = staff_required(*services.ACCOUNT_CLOSE_ROLES)


@member_services_required
@require_http_methods(["GET", "POST"])
def staff_account_find(request: HttpRequest) -> HttpResponse:
    """Member services find an account by username, to close it at its owner's request."""
    form = StaffAccountFindForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        return redirect("accounts:staff_account", pk=form.cleaned_data["username"].pk)
    return render(request, "accounts/staff_account_find.html", {"form": form})


@member_services_required
@require_recent_password
@require_http_methods(["GET", "POST"])
def staff_account(request: HttpRequest, pk: int) -> HttpResponse:
    """An account's state; closing it with a reason that stays on the account, or reopening it."""
    account = get_object_or_404(
        User.objects.select_related("closed_by").filter(kind__in=services.CLOSABLE_KINDS), pk=pk
    )
    if request.method == "POST" and request.POST.get("action") == "reopen":
        try:
            services.account_reopen(account=account, actor=request.user, request=request)
        except ValidationError as error:
            for text in error.messages:
                messages.error(request, text)
        else:
            messages.success(request, _("The account is open again: its owner can sign in."))
        return redirect("accounts:staff_account", pk=account.pk)
    form = StaffAccountCloseForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            ended = services.account_close(
                account=account,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                request=request,
            )
        except ValidationError as error:
            form.add_error("reason" if error.code == "reason" else None, error)
        else:
            messages.success(
                request,
                ngettext(
                    "The account is closed. %(count)s session was signed out.",
                    "The account is closed. %(count)s sessions were signed out.",
                    ended,
                )
                % {"count": ended},
            )
            return redirect("accounts:staff_account", pk=account.pk)
    context = {"account": account, "form": form, "period": _closed_account_period()}
    return render(request, "accounts/staff_account.html", context)
