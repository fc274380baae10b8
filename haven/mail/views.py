import base64
import time
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from haven.accounts.decorators import staff_required
from haven.accounts.models import User
from haven.mail import links, services
from haven.mail.forms import (
    CATEGORY_LABELS,
    PortalNewPasswordForm,
    PortalPasswordForm,
    PortalReplyForm,
    PortalResetRequestForm,
    PortalSignInForm,
    PreferencesForm,
    SecureComposeForm,
    SecureReplyForm,
    SupportOptOutForm,
)
from haven.mail.models import (
    OPTIONAL,
    EmailPreference,
    OptOut,
    OutgoingEmail,
    PortalConversation,
    PortalRecipient,
    address_hash,
)
from haven.messaging.models import OutgoingPush, OutgoingText

# --- The portal's own session (separate from Haven accounts) -----------------------------------

PORTAL_SESSION_KEY = "haven_mail_portal"
PORTAL_SEEN_KEY = "haven_mail_portal_seen"
PORTAL_SESSION_SALT = "haven.mail.portal-session"
STAFF_WHO_HANDLE_OPT_OUTS = (User.StaffRole.CUSTOMER_SERVICE, User.StaffRole.ADMINISTRATOR)


def portal_idle_seconds() -> int:
    return int(getattr(settings, "HAVEN_PORTAL_IDLE_SECONDS", settings.HAVEN_SESSION_IDLE_SECONDS))


def _portal_start(request: HttpRequest, recipient: PortalRecipient) -> None:
    request.session.cycle_key()
    request.session[PORTAL_SESSION_KEY] = signing.dumps(
        {"r": recipient.pk, "v": recipient.credential_version}, salt=PORTAL_SESSION_SALT
    )
    request.session[PORTAL_SEEN_KEY] = time.time()
    language = get_language()
    if language and recipient.language != language:
        PortalRecipient.objects.filter(pk=recipient.pk).update(language=language)


def _portal_end(request: HttpRequest) -> None:
    request.session.pop(PORTAL_SESSION_KEY, None)
    request.session.pop(PORTAL_SEEN_KEY, None)


def portal_recipient(request: HttpRequest) -> PortalRecipient | None:
    """The signed-in portal recipient; idle sessions end here, on the server."""
    value = request.session.get(PORTAL_SESSION_KEY)
    if not value:
        return None
    try:
        data = signing.loads(value, salt=PORTAL_SESSION_SALT)
    except signing.BadSignature:
        _portal_end(request)
        return None
    if time.time() - request.session.get(PORTAL_SEEN_KEY, 0) > portal_idle_seconds():
        _portal_end(request)
        request.portal_idle = True
        return None
    recipient = PortalRecipient.objects.filter(pk=data.get("r")).first()
    if recipient is None or recipient.credential_version != data.get("v") or recipient.is_locked:
        _portal_end(request)
        return None
    request.session[PORTAL_SEEN_KEY] = time.time()
    return recipient


def portal_signin_required(view):
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        recipient = portal_recipient(request)
        if recipient is None:
            reason = "idle" if getattr(request, "portal_idle", False) else "signin"
            return HttpResponseRedirect(f"{reverse('mail:portal_home')}?reason={reason}")
        request.portal_recipient = recipient
        return view(request, *args, **kwargs)

    return wrapped


def _locked_message() -> str:
    return _(
        "Too many wrong passwords: the portal is locked for this address. "
        "Reset your password with a link sent to your address to unlock it."
    )


def _keep_input(form, error: ValidationError, field: str | None = None) -> None:
    """Put the service's error on the form; text refused by screening is not shown back."""
    refused = getattr(error, "error_dict", {}).get("body", [])
    if any(item.code == "refused" for item in refused):
        form.data = form.data.copy()
        form.data["body"] = ""
    form.add_error(None if hasattr(error, "error_dict") else field, error)


def _conversation_of(recipient: PortalRecipient, pk: int) -> PortalConversation:
    return get_object_or_404(PortalConversation, pk=pk, recipient=recipient)


# --- Portal pages ------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def portal_home(request: HttpRequest) -> HttpResponse:
    """What the portal is, and sign-in with address and password."""
    recipient = portal_recipient(request)
    latest = recipient.conversations.first() if recipient else None
    form = PortalSignInForm(data=request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        found = PortalRecipient.objects.filter(
            address_hash=address_hash(form.cleaned_data["address"])
        ).first()
        try:
            if found is not None and services.portal_sign_in(
                recipient=found, password=form.cleaned_data["password"]
            ):
                _portal_start(request, found)
                conversation = found.conversations.first()
                if conversation is None:
                    return redirect("mail:portal_home")
                return redirect("mail:portal_conversation", pk=conversation.pk)
            error = _("The address or the password is not right.")
        except services.PortalLocked:
            error = _locked_message()
    reason = request.GET.get("reason", "")
    notice = ""
    if reason == "idle":
        notice = _(
            "You were signed out of the portal after %(minutes)s minutes without activity."
        ) % {"minutes": portal_idle_seconds() // 60}
    elif reason == "ended":
        notice = _("You have signed out of the portal.")
    context = {
        "form": form,
        "error": error,
        "notice": notice,
        "recipient": recipient,
        "latest": latest,
    }
    return render(request, "mail/portal_home.html", context)


@require_http_methods(["GET", "POST"])
def portal_open(request: HttpRequest, token: str) -> HttpResponse:
    """The notification's link: first access creates a password (MAIL-3), later ones sign in."""
    data = links.read_portal_open_token(token)
    if data is None:
        return render(request, "mail/portal_link_expired.html", status=410)
    recipient = PortalRecipient.objects.filter(pk=data["r"]).first()
    conversation = (
        PortalConversation.objects.filter(pk=data["c"], recipient=recipient).first()
        if recipient
        else None
    )
    if conversation is None:
        return render(request, "mail/portal_link_expired.html", status=410)
    current = portal_recipient(request)
    if current is not None and current.pk == recipient.pk:
        return redirect("mail:portal_conversation", pk=conversation.pk)
    first_access = not recipient.has_password
    error = ""
    if first_access:
        form = PortalNewPasswordForm(data=request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                recipient = services.portal_password_create(
                    recipient=recipient, password=form.cleaned_data["password1"]
                )
            except ValidationError as problem:
                form.add_error(None, problem)
            else:
                _portal_start(request, recipient)
                return redirect("mail:portal_conversation", pk=conversation.pk)
    else:
        form = PortalPasswordForm(data=request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                if services.portal_sign_in(
                    recipient=recipient, password=form.cleaned_data["password"]
                ):
                    _portal_start(request, recipient)
                    return redirect("mail:portal_conversation", pk=conversation.pk)
                error = _("That password is not right.")
            except services.PortalLocked:
                error = _locked_message()
    context = {"form": form, "first_access": first_access, "error": error}
    return render(request, "mail/portal_open.html", context)


@require_http_methods(["GET", "POST"])
@portal_signin_required
def portal_conversation(request: HttpRequest, pk: int) -> HttpResponse:
    """One conversation, its whole history, and the reply form (MAIL-4, MAIL-5)."""
    conversation = _conversation_of(request.portal_recipient, pk)
    form = PortalReplyForm(data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.portal_reply(
                conversation=conversation,
                body=form.cleaned_data["body"],
                send_copy=form.cleaned_data["send_copy"],
                copy_warning_accepted=form.cleaned_data["copy_warning_accepted"],
                idempotency_key=form.cleaned_data["idempotency_key"],
            )
        except ValidationError as problem:
            _keep_input(form, problem)
        else:
            if form.cleaned_data["send_copy"]:
                messages.success(request, _("Your reply was sent. A copy is on its way to you."))
            else:
                messages.success(request, _("Your reply was sent."))
            return redirect("mail:portal_conversation", pk=conversation.pk)
    services.portal_conversation_read(conversation=conversation, reader="recipient")
    shown = services.portal_messages_shown(conversation, reader="recipient")
    context = {
        "conversation": conversation,
        "subject": services.portal_subject_shown(conversation, shown),
        "portal_messages": shown,
        "form": form,
        "message_days": services.portal_message_age().days,
    }
    return render(request, "mail/portal_conversation.html", context)


@require_POST
def portal_signout(request: HttpRequest) -> HttpResponse:
    _portal_end(request)
    return HttpResponseRedirect(reverse("mail:portal_home") + "?reason=ended")


@require_http_methods(["GET", "POST"])
def portal_reset_request(request: HttpRequest) -> HttpResponse:
    """A lost password is reset through the address; the answer never says whether it is known."""
    form = PortalResetRequestForm(data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.portal_reset_request(
            address=form.cleaned_data["address"], language=get_language() or ""
        )
        return render(request, "mail/portal_reset_sent.html")
    return render(request, "mail/portal_reset_request.html", {"form": form})


@require_http_methods(["GET", "POST"])
def portal_reset(request: HttpRequest, token: str) -> HttpResponse:
    data = links.read_portal_reset_token(token)
    recipient = PortalRecipient.objects.filter(pk=data["r"]).first() if data else None
    if recipient is None or recipient.credential_version != data["v"]:
        return render(request, "mail/portal_link_expired.html", {"reset": True}, status=410)
    form = PortalNewPasswordForm(data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        recipient = services.portal_password_reset(
            recipient=recipient, password=form.cleaned_data["password1"]
        )
        _portal_start(request, recipient)
        messages.success(request, _("Your new password is set."))
        conversation = recipient.conversations.first()
        if conversation is None:
            return redirect("mail:portal_home")
        return redirect("mail:portal_conversation", pk=conversation.pk)
    return render(request, "mail/portal_reset.html", {"form": form})


# --- Haven staff's side of the portal ----------------------------------------------------------


@require_GET
@staff_required()
def secure_list(request: HttpRequest) -> HttpResponse:
    conversations = (
        PortalConversation.objects.filter(haven_sender=request.user)
        .select_related("recipient")
        .order_by("-last_message_at")[:200]
    )
    return render(request, "mail/secure_list.html", {"conversations": conversations})


@require_http_methods(["GET", "POST"])
@staff_required()
def secure_compose(request: HttpRequest) -> HttpResponse:
    """Write to someone without a Haven account; they read it in the secure e-mail portal."""
    form = SecureComposeForm(data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            message = services.portal_message_send(
                to_address=form.cleaned_data["to_address"],
                subject=form.cleaned_data["subject"],
                body=form.cleaned_data["body"],
                actor=request.user,
                idempotency_key=form.cleaned_data["idempotency_key"],
            )
        except ValidationError as problem:
            _keep_input(form, problem, "to_address")
        else:
            messages.success(request, _("Sent. The recipient gets a notification with a link."))
            return redirect("mail:secure_conversation", pk=message.conversation_id)
    return render(request, "mail/secure_compose.html", {"form": form})


@require_http_methods(["GET", "POST"])
@staff_required()
def secure_conversation(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = get_object_or_404(
        PortalConversation.objects.select_related("recipient"), pk=pk, haven_sender=request.user
    )
    form = SecureReplyForm(data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.portal_message_send(
                to_address=conversation.recipient.address,
                subject=conversation.subject,
                body=form.cleaned_data["body"],
                actor=request.user,
                conversation=conversation,
                idempotency_key=form.cleaned_data["idempotency_key"],
            )
        except ValidationError as problem:
            _keep_input(form, problem)
        else:
            messages.success(request, _("Sent. The recipient gets a notification with a link."))
            return redirect("mail:secure_conversation", pk=conversation.pk)
    services.portal_conversation_read(conversation=conversation, reader="haven")
    context = {
        "conversation": conversation,
        "portal_messages": services.portal_messages_shown(conversation, reader="haven"),
        "form": form,
    }
    return render(request, "mail/secure_conversation.html", context)


# --- Opt-out, preferences, tracking (MAIL-7, MAIL-8, MAIL-9) -------------------------------------


@csrf_exempt  # RFC 8058: mail programs POST here without a page; the signed token is the proof.
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows one button; POST (the button, or the mail program's one-click) opts out at once."""
    data = links.read_unsubscribe_token(token)
    if data is None or data["c"] not in [category.value for category in OPTIONAL]:
        return render(request, "mail/unsubscribe_invalid.html", status=404)
    category_label = CATEGORY_LABELS[data["c"]]
    if request.method == "POST":
        one_click = request.POST.get("List-Unsubscribe") == "One-Click"
        services.email_opt_out(
            hashed_address=data["a"],
            categories=[data["c"]],
            source=OptOut.Source.ONE_CLICK if one_click else OptOut.Source.LINK,
        )
        return render(request, "mail/unsubscribe_done.html", {"category": category_label})
    return render(request, "mail/unsubscribe.html", {"category": category_label})


@require_http_methods(["GET", "POST"])
@staff_required(*STAFF_WHO_HANDLE_OPT_OUTS)
def support_opt_out(request: HttpRequest) -> HttpResponse:
    """Support records an opt-out a person asked for by phone, letter or e-mail (MAIL-8)."""
    form = SupportOptOutForm(data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.email_opt_out(
            user=form.cleaned_data.get("user"),
            address=form.cleaned_data.get("address") or None,
            categories=form.cleaned_data["categories"],
            source=OptOut.Source.SUPPORT,
            actor=request.user,
        )
        messages.success(request, _("The opt-out is recorded and takes effect now."))
        return redirect("mail:support_opt_out")
    return render(request, "mail/support_opt_out.html", {"form": form})


@require_http_methods(["GET", "POST"])
@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    """A user's own choices: which optional e-mail they get, and open tracking (off by default)."""
    user = request.user
    preference = EmailPreference.objects.filter(user=user).first()
    # Ticked: what Haven may send now, the privacy center's choices included (MAIL-7, CON-2).
    initial = {
        "wanted": [c.value for c in OPTIONAL if services.may_email(user, c.value)],
        "open_tracking": bool(preference and preference.open_tracking),
    }
    form = PreferencesForm(data=request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        wanted = set(form.cleaned_data["wanted"])
        unwanted = [c.value for c in OPTIONAL if c.value not in wanted]
        if unwanted:
            services.email_opt_out(
                user=user, categories=unwanted, source=OptOut.Source.PREFERENCES, actor=user
            )
        if wanted:
            services.email_opt_in(user=user, categories=wanted, actor=user)
        services.email_preference_update(
            user=user, open_tracking=form.cleaned_data["open_tracking"], actor=user
        )
        messages.success(request, _("Your e-mail preferences are saved."))
        return redirect("mail:preferences")
    return render(request, "mail/preferences.html", {"form": form, "has_address": bool(user.email)})


# A transparent 1x1 GIF.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


@require_GET
def tracking_pixel(request: HttpRequest, token: str) -> HttpResponse:
    """Records an opening only for e-mail whose user agreed (MAIL-9); the token says nothing else."""
    services.tracking_open(token=token)
    response = HttpResponse(PIXEL, content_type="image/gif")
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def genuine(request: HttpRequest) -> HttpResponse:
    """How to recognise genuine e-mail from Haven, and phishing (SEC-4, MAIL-6)."""
    context = {
        "from_address": services.sender_address(),
        "site_url": settings.SITE_URL.rstrip("/"),
    }
    return render(request, "mail/genuine.html", context)


# --- Staff: the outbox ---------------------------------------------------------------------------


@require_GET
@staff_required(*STAFF_WHO_HANDLE_OPT_OUTS)
def outbox(request: HttpRequest) -> HttpResponse:
    """E-mail that needs a look: failed, still queued, diverted to the portal, or suppressed."""
    status = request.GET.get("status", OutgoingEmail.Status.FAILED)
    if status not in OutgoingEmail.Status.values:
        status = OutgoingEmail.Status.FAILED
    emails = OutgoingEmail.objects.filter(status=status).only(
        "to_address",
        "category",
        "reason",
        "status",
        "attempts",
        "last_error",
        "created_at",
        "next_attempt_at",
        "message_id",
    )[:200]
    context = {"emails": emails, "status": status, "statuses": OutgoingEmail.Status.choices}
    if status == OutgoingEmail.Status.FAILED:
        # Text notifications the SMS gateway refused (MSG-4): fixed wording, shown without it.
        context["failed_texts"] = OutgoingText.objects.filter(
            status=OutgoingText.Status.FAILED
        ).only("to_number", "attempts", "last_error", "created_at")[:200]
        context["failed_pushes"] = OutgoingPush.objects.filter(
            status=OutgoingPush.Status.FAILED
        ).select_related("device")[:200]
    return render(request, "mail/outbox.html", context)


@require_POST
@staff_required(*STAFF_WHO_HANDLE_OPT_OUTS)
def outbox_retry(request: HttpRequest, pk: int) -> HttpResponse:
    email = get_object_or_404(OutgoingEmail, pk=pk)
    if email.status == OutgoingEmail.Status.FAILED:
        services.outgoing_email_retry(email=email, actor=request.user)
        messages.success(request, _("The e-mail is queued again."))
    else:
        messages.info(request, _("This e-mail is not in the failed state any more."))
    return HttpResponseRedirect(reverse("mail:outbox") + "?status=failed")
