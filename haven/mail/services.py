"""E-mail writes: the outbox, permission and opt-out, the sender's job, and the secure e-mail portal."""

import smtplib
import uuid
from datetime import timedelta
from email import policy as email_policy
from email.message import EmailMessage
from email.utils import format_datetime

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from haven.accounts.models import User
from haven.mail import links, transport
from haven.mail.emails import render_email
from haven.mail.models import (
    ALWAYS_ALLOWED,
    OPTIONAL,
    Category,
    EmailPreference,
    OptOut,
    OutgoingEmail,
    PortalConversation,
    PortalMessage,
    PortalRecipient,
    address_hash,
    from_domain,
    new_tracking_token,
)
from haven.messaging import clamd
from haven.messaging.models import ScanStatus

Status = OutgoingEmail.Status


# --- Permission and opt-out (MAIL-7, MAIL-8) -------------------------------------------------


def may_email(user_or_address: User | str, category: str) -> bool:
    """Whether Haven may send e-mail of this category to this user or address now (MAIL-7).

    Registration, answers and required notices always go. Anything else is refused after an
    opt-out (a link, support, the preferences page). For a user, the privacy center's choices
    decide too (CON-1, CON-2): marketing only under a current, recorded authorisation naming
    e-mail, newsletters and reminders per their grid, never-saved preferences meaning the
    defaults (no newsletters, no marketing). A plain address (a care invitation, a portal
    recipient) has no privacy-center choices: only its opt-outs apply.
    """
    if category in ALWAYS_ALLOWED:
        return True
    if isinstance(user_or_address, User):
        user = user_or_address
        refused = Q(user=user)
        if user.email:
            refused |= Q(address_hash=address_hash(user.email))
    else:
        user = None
        refused = Q(address_hash=address_hash(user_or_address))
    if OptOut.objects.filter(refused, category=category).exists():
        return False
    if user is not None:
        from haven.privacy.services import email_category_allowed

        return email_category_allowed(user, category)
    return True


def _optional_categories(categories) -> list[str]:
    chosen = [str(category) for category in categories]
    unknown = [category for category in chosen if category not in OPTIONAL]
    if unknown:
        raise ValueError(
            f"cannot opt out of {unknown}: registration, answers and notices required by law always go"
        )
    return chosen


@transaction.atomic
def email_opt_out(
    *,
    user: User | None = None,
    address: str | None = None,
    categories,
    source: str,
    actor: User | None = None,
    hashed_address: str = "",
) -> list[OptOut]:
    """Leave these kinds of e-mail at once (MAIL-8); for a user, an address, or both.

    `hashed_address` is for the unsubscribe link, whose token carries the keyed hash only.
    """
    hashed = address_hash(address) if address else hashed_address
    if user is None and not hashed:
        raise ValueError("name a user or an address")
    recorded = []
    for category in _optional_categories(categories):
        if user is not None:
            opt_out, _created = OptOut.objects.get_or_create(
                user=user, category=category, defaults={"source": source, "actor": actor}
            )
            recorded.append(opt_out)
        if hashed:
            opt_out, _created = OptOut.objects.get_or_create(
                address_hash=hashed,
                category=category,
                user=None,
                defaults={"source": source, "actor": actor},
            )
            recorded.append(opt_out)
    # Queued mail of these kinds stops now, not after the worker gets to it.
    waiting = OutgoingEmail.objects.filter(
        status=Status.QUEUED, category__in=[o.category for o in recorded]
    )
    who = Q()
    if user is not None:
        who |= Q(user=user)
    if hashed:
        who |= Q(pk__in=[e.pk for e in waiting if address_hash(e.to_address) == hashed])
    waiting.filter(who).update(status=Status.SUPPRESSED, last_error="opted out")
    return recorded


@transaction.atomic
def email_opt_in(*, user: User, categories, actor: User) -> int:
    """Take back a user's own opt-outs (from their preferences page)."""
    chosen = _optional_categories(categories)
    refused = Q(user=user)
    if user.email:
        refused |= Q(address_hash=address_hash(user.email))
    deleted, _detail = OptOut.objects.filter(refused, category__in=chosen).delete()
    return deleted


def opted_out_categories(user: User) -> set[str]:
    refused = Q(user=user)
    if user.email:
        refused |= Q(address_hash=address_hash(user.email))
    return set(OptOut.objects.filter(refused).values_list("category", flat=True))


@transaction.atomic
def email_preference_update(*, user: User, open_tracking: bool, actor: User) -> EmailPreference:
    preference, _created = EmailPreference.objects.get_or_create(user=user)
    preference.open_tracking = open_tracking
    preference.save(update_fields=["open_tracking", "updated_at"])
    return preference


def tracking_allowed(user: User | None) -> bool:
    """Open-tracking only for a user who turned it on (MAIL-9); never for people without an account."""
    if user is None:
        return False
    return EmailPreference.objects.filter(user=user, open_tracking=True).exists()


# --- The outbox ------------------------------------------------------------------------------


def sender_address() -> str:
    """From and envelope sender: always at the organisation's own domain (MAIL-6)."""
    return f"no-reply@{from_domain()}"


def _list_unsubscribe_headers(to_address: str, category: str) -> dict[str, str]:
    url = links.unsubscribe_url(address_hash=address_hash(to_address), category=category)
    mailto = f"mailto:unsubscribe@{from_domain()}?subject=unsubscribe"
    return {
        "List-Unsubscribe": f"<{url}>, <{mailto}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


@transaction.atomic
def outbox_enqueue(
    *,
    to_address: str,
    subject: str,
    text_body: str,
    html_body: str = "",
    category: str,
    user: User | None = None,
    reason: str,
    idempotency_key: str,
    via_relay: bool = False,
    portal_fallback: bool = True,
    tracking_token: str | None = None,
) -> OutgoingEmail:
    """Write the e-mail to the outbox and enqueue its sending in the caller's transaction.

    Low level: other apps call the template functions below, whose wording is fixed. The same
    idempotency key returns the e-mail already written instead of a second one.
    """
    existing = OutgoingEmail.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    validate_email(to_address)
    if category not in Category.values:
        raise ValueError(f"unknown category {category!r}")
    if user is not None and (user.email or "").lower() != to_address.lower():
        raise ValueError("e-mail to a user goes only to the address they gave (MAIL-6)")
    allowed = may_email(user if user is not None else to_address, category)
    headers = {} if category in ALWAYS_ALLOWED else _list_unsubscribe_headers(to_address, category)
    try:
        with transaction.atomic():
            email = OutgoingEmail.objects.create(
                idempotency_key=idempotency_key,
                to_address=to_address,
                user=user,
                category=category,
                reason=reason[:200],
                subject=subject[:200],
                text_body=text_body,
                html_body=html_body,
                headers=headers,
                via_relay=via_relay,
                portal_fallback=portal_fallback,
                tracking_token=tracking_token,
                status=Status.QUEUED if allowed else Status.SUPPRESSED,
                last_error="" if allowed else "opted out",
            )
    except IntegrityError:
        # Another request wrote the same key first: theirs is the one e-mail.
        return OutgoingEmail.objects.get(idempotency_key=idempotency_key)
    if allowed:
        _enqueue_send(email)
    return email


def _enqueue_send(email: OutgoingEmail) -> None:
    from haven.mail.tasks import send_outgoing_email

    task = send_outgoing_email
    if email.next_attempt_at > timezone.now():
        task = task.using(run_after=email.next_attempt_at)
    task.enqueue(email.pk)


def _language_for(user: User | None, recipient: PortalRecipient | None = None) -> str:
    if user is not None and user.language:
        return user.language
    if recipient is not None and recipient.language:
        return recipient.language
    return settings.LANGUAGE_CODE


@transaction.atomic
def template_email_enqueue(
    *,
    template: str,
    category: str,
    to_address: str,
    link_path: str,
    reason: str,
    idempotency_key: str,
    user: User | None = None,
    language: str = "",
    link_expires_at=None,
    own_words: str = "",
    via_relay: bool = False,
    portal_fallback: bool = True,
) -> OutgoingEmail:
    """Queue one of Haven's fixed e-mails (emails.TEMPLATES) with its link to Haven."""
    existing = OutgoingEmail.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    optional = category not in ALWAYS_ALLOWED
    unsubscribe = (
        links.unsubscribe_url(address_hash=address_hash(to_address), category=category)
        if optional
        else ""
    )
    token = new_tracking_token() if tracking_allowed(user) else None
    tracking = (
        links.site_url(reverse("mail:tracking_pixel", kwargs={"token": token})) if token else ""
    )
    rendered = render_email(
        template,
        category=category,
        link_path=link_path,
        language=language or _language_for(user),
        unsubscribe_url=unsubscribe,
        tracking_url=tracking,
        link_expires_at=link_expires_at,
        own_words=own_words,
    )
    return outbox_enqueue(
        to_address=to_address,
        subject=rendered.subject,
        text_body=rendered.text_body,
        html_body=rendered.html_body,
        category=category,
        user=user,
        reason=reason,
        idempotency_key=idempotency_key,
        via_relay=via_relay,
        portal_fallback=portal_fallback,
        tracking_token=token,
    )


def secure_message_notify(
    *, user: User, link_path: str, idempotency_key: str
) -> OutgoingEmail | None:
    """Tell a user that a secure message waits in Haven: no content, only a link (MSG-4, MAIL-6).

    For the message center. Returns None when the user has no e-mail address.
    """
    if not user.email:
        return None
    return template_email_enqueue(
        template="secure_message_waiting",
        category=Category.NOTIFICATION,
        to_address=user.email,
        user=user,
        link_path=link_path,
        reason="a secure message is waiting",
        idempotency_key=idempotency_key,
    )


# --- The sender's job (MAIL-1, MAIL-2) -------------------------------------------------------


# Long header values (the unsubscribe URL) must stay plain text, not RFC 2047 encoded words.
MESSAGE_POLICY = email_policy.SMTP.clone(max_line_length=998)


def build_message(email: OutgoingEmail) -> EmailMessage:
    message = EmailMessage(policy=MESSAGE_POLICY)
    message["From"] = f"{settings.SITE_NAME} <{sender_address()}>"
    message["To"] = email.to_address
    message["Subject"] = email.subject
    message["Date"] = format_datetime(email.created_at)
    message["Message-ID"] = email.message_id
    message["Auto-Submitted"] = "auto-generated"
    for name, value in email.headers.items():
        message[name] = value
    message.set_content(email.text_body)
    if email.html_body:
        message.add_alternative(email.html_body, subtype="html")
    return message


def max_attempts() -> int:
    return int(getattr(settings, "HAVEN_MAIL_MAX_ATTEMPTS", 8))


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff: one minute, two, four... at most six hours."""
    base = int(getattr(settings, "HAVEN_MAIL_RETRY_SECONDS", 60))
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 6 * 3600))


def outgoing_email_send(*, email_id: int) -> str:
    """Send one queued e-mail; the worker runs this. Returns the e-mail's new status.

    A conditional UPDATE claims the row (queued -> sending), so two workers never send it both.
    The claim commits before the SMTP conversation, and "sent" is written the moment the server
    answers 250 to the message, before QUIT. Only if the process dies in the milliseconds between
    that answer and the write does `outbox_requeue_stale` send it again, with the same Message-ID
    (at-least-once, see docs/mail.md).
    """
    now = timezone.now()
    claimed = OutgoingEmail.objects.filter(
        pk=email_id, status=Status.QUEUED, next_attempt_at__lte=now
    ).update(status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return "not-claimed"
    email = OutgoingEmail.objects.get(pk=email_id)
    if not may_email(email.user if email.user is not None else email.to_address, email.category):
        _finish(email, status=Status.SUPPRESSED, error="opted out")
        return Status.SUPPRESSED
    try:
        mode = transport.delivery_mode()
    except transport.DeliveryError as error:
        return _record_failure(email, error)
    try:
        message = build_message(email)
        send = transport.send_through_relay
        if mode == "direct" and not (email.via_relay and transport.smtp_settings()["host"]):
            send = transport.send_direct
        send(
            message,
            envelope_from=sender_address(),
            recipient=email.to_address,
            on_accepted=lambda: _finish(email, status=Status.SENT),
        )
    except transport.TLSUnavailable as error:
        if mode == "direct" and email.portal_fallback and not email.via_relay:
            _divert_to_portal(email, error)
            return Status.PORTAL
        return _record_failure(email, error)
    except (transport.DeliveryError, smtplib.SMTPException, OSError) as error:
        return _record_failure(email, error)
    _finish(email, status=Status.SENT)
    return Status.SENT


def _finish(email: OutgoingEmail, *, status: str, error: str = "") -> None:
    values = {"status": status, "last_error": error}
    if status == Status.SENT:
        values["sent_at"] = timezone.now()
    OutgoingEmail.objects.filter(pk=email.pk, status=Status.SENDING).update(**values)


@transaction.atomic
def _record_failure(email: OutgoingEmail, error: BaseException) -> str:
    description = transport.describe_error(error)
    permanent = getattr(error, "permanent", False)
    if permanent or email.attempts >= max_attempts():
        _finish(email, status=Status.FAILED, error=description)
        return Status.FAILED
    next_attempt_at = timezone.now() + retry_delay(email.attempts)
    OutgoingEmail.objects.filter(pk=email.pk, status=Status.SENDING).update(
        status=Status.QUEUED, last_error=description, next_attempt_at=next_attempt_at
    )
    email.next_attempt_at = next_attempt_at
    _enqueue_send(email)
    return Status.QUEUED


@transaction.atomic
def _divert_to_portal(email: OutgoingEmail, error: BaseException) -> PortalMessage:
    """The recipient's domain cannot take TLS: the body waits in the portal, a link goes out (MAIL-2)."""
    recipient = _portal_recipient_for(email.to_address)
    conversation = PortalConversation.objects.create(recipient=recipient, subject=email.subject)
    message = PortalMessage.objects.create(
        conversation=conversation,
        direction=PortalMessage.Direction.FROM_HAVEN,
        body=email.text_body,
        expires_at=timezone.now() + portal_message_age(),
        diverted_email=email,
    )
    _finish(email, status=Status.PORTAL, error=transport.describe_error(error))
    _portal_notify(
        recipient,
        conversation,
        category=email.category,
        user=email.user,
        idempotency_key=f"portal-notice:{email.message_id}",
    )
    return message


@transaction.atomic
def outbox_requeue_stale() -> int:
    """Put back e-mail stuck in "sending" (a worker died mid-send); it may go twice, same Message-ID."""
    timeout = int(getattr(settings, "HAVEN_MAIL_SENDING_TIMEOUT_SECONDS", 900))
    cutoff = timezone.now() - timedelta(seconds=timeout)
    stale = list(
        OutgoingEmail.objects.filter(status=Status.SENDING, claimed_at__lt=cutoff).values_list(
            "pk", flat=True
        )
    )
    now = timezone.now()
    count = 0
    for pk in stale:
        count += OutgoingEmail.objects.filter(pk=pk, status=Status.SENDING).update(
            status=Status.QUEUED,
            next_attempt_at=now,
            last_error="the worker stopped while sending; sending again",
        )
        _enqueue_send(OutgoingEmail(pk=pk, next_attempt_at=now))
    return count


@transaction.atomic
def outgoing_email_retry(*, email: OutgoingEmail, actor: User) -> OutgoingEmail:
    """Staff send a failed e-mail again, with a fresh set of attempts."""
    now = timezone.now()
    updated = OutgoingEmail.objects.filter(pk=email.pk, status=Status.FAILED).update(
        status=Status.QUEUED, attempts=0, next_attempt_at=now
    )
    email.refresh_from_db()
    if updated:
        _enqueue_send(email)
    return email


@transaction.atomic
def outbox_prune() -> int:
    """Forget finished e-mail (addresses, bodies) after HAVEN_MAIL_KEEP_DAYS; queued mail stays."""
    keep = timedelta(days=int(getattr(settings, "HAVEN_MAIL_KEEP_DAYS", 90)))
    finished = [Status.SENT, Status.FAILED, Status.PORTAL, Status.SUPPRESSED]
    # A diverted e-mail's portal copy keeps its own expiry; only the link to this row goes.
    deleted, _detail = OutgoingEmail.objects.filter(
        status__in=finished, created_at__lt=timezone.now() - keep
    ).delete()
    return deleted


def tracking_open(*, token: str) -> bool:
    """Record the first opening of an e-mail whose user agreed to tracking (MAIL-9)."""
    return bool(
        OutgoingEmail.objects.filter(tracking_token=token, opened_at__isnull=True).update(
            opened_at=timezone.now()
        )
    )


# --- The secure e-mail portal (MAIL-3, MAIL-4, MAIL-5) ---------------------------------------


class PortalLocked(Exception):
    """Too many wrong passwords: the recipient resets the password through their address."""


def portal_message_age() -> timedelta:
    return timedelta(days=int(getattr(settings, "HAVEN_PORTAL_MESSAGE_DAYS", 30)))


def portal_lock_after() -> int:
    return int(getattr(settings, "HAVEN_PORTAL_LOCK_AFTER", 5))


def _portal_recipient_for(address: str) -> PortalRecipient:
    recipient, _created = PortalRecipient.objects.get_or_create(
        address_hash=address_hash(address), defaults={"address": address.strip()}
    )
    return recipient


def _portal_notify(
    recipient: PortalRecipient,
    conversation: PortalConversation,
    *,
    category: str,
    idempotency_key: str,
    user: User | None = None,
) -> OutgoingEmail:
    """The notification: only that a message waits, and a link to the whole conversation (MAIL-5)."""
    token = links.portal_open_token(recipient_id=recipient.pk, conversation_id=conversation.pk)
    return template_email_enqueue(
        template="portal_message_waiting",
        category=category,
        to_address=recipient.address,
        user=user,
        language=_language_for(user, recipient),
        link_path=reverse("mail:portal_open", kwargs={"token": token}),
        link_expires_at=timezone.now() + links.portal_link_age(),
        reason="a secure message is waiting in the portal",
        idempotency_key=idempotency_key,
        via_relay=True,
        portal_fallback=False,
    )


# --- Screening what people write in the portal (MSG-6) -----------------------------------------

# The same scanner as the message center's (haven.messaging.clamd); the writer learns only that
# the text was refused, never why.
MESSAGE_REFUSED = gettext_lazy("This message cannot be accepted.")
PORTAL_RESCAN_DELAY = timedelta(minutes=5)


def portal_text_screen(*texts: str) -> str:
    """Screen text written for the portal; returns its scan status, or refuses it without a reason.

    When the scanner does not answer, the text is kept, held from the other side, and screened
    later by `rescan_portal_quarantine`: nothing is lost and nothing unscreened is shown.
    """
    verdict = clamd.scan("\n".join(texts).encode())
    if verdict is clamd.Verdict.INFECTED:
        raise ValidationError({"body": ValidationError(MESSAGE_REFUSED, code="refused")})
    return _scan_status_for(verdict)


def _scan_status_for(verdict: clamd.Verdict) -> str:
    return {
        clamd.Verdict.CLEAN: ScanStatus.CLEAN,
        clamd.Verdict.NOT_CONFIGURED: ScanStatus.UNSCANNED,
        clamd.Verdict.UNAVAILABLE: ScanStatus.PENDING,
    }[verdict]


def schedule_portal_rescan(delay: timedelta = PORTAL_RESCAN_DELAY) -> None:
    from haven.mail.tasks import rescan_portal_quarantine

    rescan_portal_quarantine.using(run_after=timezone.now() + delay).enqueue()


def portal_quarantine_rescan(*, batch_size: int = 100) -> int:
    """Screen portal messages that waited for the scanner; returns how many still wait.

    Clean text is shown (and a copy the recipient asked for goes now); infected text is wiped
    and withheld. Stops at the first sign that the scanner is still down.
    """
    last_pk = 0
    while True:
        batch = list(
            PortalMessage.objects.filter(scan_status=ScanStatus.PENDING, pk__gt=last_pk)
            .select_related("conversation__recipient")
            .order_by("pk")[:batch_size]
        )
        if not batch:
            break
        for message in batch:
            verdict = clamd.scan(message.body.encode())
            if verdict is clamd.Verdict.UNAVAILABLE:
                return _portal_still_waiting()
            with transaction.atomic():
                if verdict is clamd.Verdict.INFECTED:
                    message.scan_status = ScanStatus.REFUSED
                    message.body = ""
                    message.copy_requested = False
                else:
                    message.scan_status = _scan_status_for(verdict)
                    if message.copy_requested:
                        _portal_copy_send(message)
                        message.copy_requested = False
                message.save(update_fields=["scan_status", "body_sealed", "copy_requested"])
            last_pk = message.pk
    return _portal_still_waiting()


def _portal_still_waiting() -> int:
    return PortalMessage.objects.filter(scan_status=ScanStatus.PENDING).count()


def portal_subject_shown(conversation: PortalConversation, shown: list[PortalMessage]) -> str:
    """The subject was screened with the first message: held with it."""
    if shown and shown[0].held and shown[0].pk == conversation.messages.values("pk").first()["pk"]:
        return _("Message being checked")
    return conversation.subject


def portal_messages_shown(conversation: PortalConversation, *, reader: str) -> list[PortalMessage]:
    """The visible messages for one side ("recipient" or "haven"), with what each may show.

    `held`: the other side's text still waits for the scanner; `withheld`: screening removed it.
    Only messages one may read have their body decrypted into `shown_body`.
    """
    own = (
        PortalMessage.Direction.FROM_RECIPIENT
        if reader == "recipient"
        else PortalMessage.Direction.FROM_HAVEN
    )
    shown = list(portal_visible_messages(conversation).select_related("author"))
    for message in shown:
        message.withheld = message.is_withheld
        message.held = (
            not message.withheld and message.is_being_checked and message.direction != own
        )
        message.shown_body = "" if message.withheld or message.held else message.body
    return shown


def _sent_with_key(idempotency_key: uuid.UUID | None, **owner) -> PortalMessage | None:
    """The message a form with this key already wrote, if it was written by the same side."""
    if idempotency_key is None:
        return None
    return PortalMessage.objects.filter(idempotency_key=idempotency_key, **owner).first()


@transaction.atomic
def portal_message_send(
    *,
    to_address: str,
    subject: str,
    body: str,
    actor: User,
    conversation: PortalConversation | None = None,
    idempotency_key: uuid.UUID | None = None,
) -> PortalMessage:
    """Haven staff write to someone without an account; they read it in the portal.

    Idempotent with the form's key: a double submit or a retry returns the first message.
    """
    existing = _sent_with_key(idempotency_key, author=actor)
    if existing is not None:
        return existing
    to_address = to_address.strip()
    validate_email(to_address)
    if User.objects.filter(email__iexact=to_address).exists():
        raise ValidationError(
            _(
                "This address belongs to a Haven account. Write to them in the secure message center."
            )
        )
    scan_status = (
        portal_text_screen(subject, body) if conversation is None else portal_text_screen(body)
    )
    now = timezone.now()
    try:
        with transaction.atomic():
            if conversation is None:
                conversation = PortalConversation.objects.create(
                    recipient=_portal_recipient_for(to_address), haven_sender=actor, subject=subject
                )
            message = PortalMessage.objects.create(
                conversation=conversation,
                direction=PortalMessage.Direction.FROM_HAVEN,
                author=actor,
                body=body,
                scan_status=scan_status,
                idempotency_key=idempotency_key,
                expires_at=now + portal_message_age(),
            )
    except IntegrityError:
        # The same form was submitted twice at once: the first one is the message.
        existing = _sent_with_key(idempotency_key, author=actor)
        if existing is None:
            raise
        return existing
    if scan_status == ScanStatus.PENDING:
        schedule_portal_rescan()
    PortalConversation.objects.filter(pk=conversation.pk).update(last_message_at=now)
    _portal_notify(
        conversation.recipient,
        conversation,
        category=Category.NOTIFICATION,
        idempotency_key=f"portal-message:{message.pk}",
    )
    return message


@transaction.atomic
def portal_password_create(*, recipient: PortalRecipient, password: str) -> PortalRecipient:
    """First access: the recipient chooses the password that opens their messages (MAIL-3)."""
    recipient = PortalRecipient.objects.select_for_update().get(pk=recipient.pk)
    if recipient.has_password:
        raise ValidationError(_("This address already has a password. Sign in with it."))
    password_validation.validate_password(password)
    recipient.set_password(password)
    recipient.last_signed_in_at = timezone.now()
    recipient.save()
    return recipient


def portal_sign_in(*, recipient: PortalRecipient, password: str) -> bool:
    """Check the password; wrong ones count, and too many lock the portal until a reset."""
    with transaction.atomic():
        recipient = PortalRecipient.objects.select_for_update().get(pk=recipient.pk)
        if recipient.is_locked:
            raise PortalLocked
        if recipient.check_password(password):
            recipient.failed_attempts = 0
            recipient.last_signed_in_at = timezone.now()
            recipient.save(update_fields=["failed_attempts", "last_signed_in_at"])
            return True
        recipient.failed_attempts += 1
        if recipient.failed_attempts >= portal_lock_after():
            recipient.locked_at = timezone.now()
        recipient.save(update_fields=["failed_attempts", "locked_at"])
    if recipient.is_locked:
        raise PortalLocked
    return False


@transaction.atomic
def portal_reset_request(*, address: str, language: str = "") -> OutgoingEmail | None:
    """E-mail a reset link to the address, if the portal knows it (the page says the same either way)."""
    recipient = PortalRecipient.objects.filter(address_hash=address_hash(address)).first()
    if recipient is None or not recipient.conversations.exists():
        return None
    if language and recipient.language != language:
        recipient.language = language
        recipient.save(update_fields=["language"])
    token = links.portal_reset_token(
        recipient_id=recipient.pk, credential_version=recipient.credential_version
    )
    # One reset e-mail per five minutes is plenty; the idempotency key folds repeats together.
    window = int(timezone.now().timestamp() // 300)
    return template_email_enqueue(
        template="portal_password_reset",
        category=Category.ANSWER,
        to_address=recipient.address,
        language=_language_for(None, recipient),
        link_path=reverse("mail:portal_reset", kwargs={"token": token}),
        link_expires_at=timezone.now() + links.portal_reset_age(),
        reason="the recipient asked to reset the portal password",
        idempotency_key=f"portal-reset:{recipient.pk}:{recipient.credential_version}:{window}",
        via_relay=True,
        portal_fallback=False,
    )


@transaction.atomic
def portal_password_reset(*, recipient: PortalRecipient, password: str) -> PortalRecipient:
    """A new password through the address: also unlocks the portal and ends other sessions."""
    password_validation.validate_password(password)
    recipient = PortalRecipient.objects.select_for_update().get(pk=recipient.pk)
    recipient.set_password(password)
    recipient.last_signed_in_at = timezone.now()
    recipient.save()
    return recipient


def portal_visible_messages(conversation: PortalConversation):
    return conversation.messages.filter(expires_at__gt=timezone.now())


@transaction.atomic
def portal_conversation_read(*, conversation: PortalConversation, reader: str) -> int:
    """Mark the other side's messages read; `reader` is "recipient" or "haven"."""
    direction = (
        PortalMessage.Direction.FROM_HAVEN
        if reader == "recipient"
        else PortalMessage.Direction.FROM_RECIPIENT
    )
    return (
        portal_visible_messages(conversation)
        .filter(direction=direction, read_at__isnull=True)
        .update(read_at=timezone.now())
    )


@transaction.atomic
def portal_reply(
    *,
    conversation: PortalConversation,
    body: str,
    send_copy: bool,
    copy_warning_accepted: bool,
    idempotency_key: uuid.UUID | None = None,
) -> PortalMessage:
    """The recipient answers in the portal; the Haven sender is told, and a copy goes if asked (MAIL-4).

    Idempotent with the form's key: a double submit or a retry returns the first reply.
    """
    reply_of_this_conversation = {
        "conversation": conversation,
        "direction": PortalMessage.Direction.FROM_RECIPIENT,
    }
    existing = _sent_with_key(idempotency_key, **reply_of_this_conversation)
    if existing is not None:
        return existing
    body = body.strip()
    if not body:
        raise ValidationError(_("Write your reply before sending it."))
    if send_copy and not copy_warning_accepted:
        raise ValidationError(
            _("To get a copy by e-mail, confirm that you understand the copy is not secure.")
        )
    scan_status = portal_text_screen(body)
    now = timezone.now()
    waiting = scan_status == ScanStatus.PENDING
    try:
        with transaction.atomic():
            message = PortalMessage.objects.create(
                conversation=conversation,
                direction=PortalMessage.Direction.FROM_RECIPIENT,
                body=body,
                scan_status=scan_status,
                # Unscreened text does not leave by e-mail: the copy goes once it is screened.
                copy_requested=send_copy and waiting,
                idempotency_key=idempotency_key,
                expires_at=now + portal_message_age(),
            )
    except IntegrityError:
        existing = _sent_with_key(idempotency_key, **reply_of_this_conversation)
        if existing is None:
            raise
        return existing
    if waiting:
        schedule_portal_rescan()
    PortalConversation.objects.filter(pk=conversation.pk).update(last_message_at=now)
    sender = conversation.haven_sender
    if sender is not None and sender.email:
        template_email_enqueue(
            template="portal_reply_received",
            category=Category.NOTIFICATION,
            to_address=sender.email,
            user=sender,
            link_path=reverse("mail:secure_conversation", kwargs={"pk": conversation.pk}),
            reason="a portal recipient replied",
            idempotency_key=f"portal-reply:{message.pk}",
        )
    if send_copy and not waiting:
        _portal_copy_send(message)
    return message


def _portal_copy_send(message: PortalMessage) -> OutgoingEmail:
    """The copy of their own reply that a recipient asked for, after the warning (MAIL-4)."""
    conversation = message.conversation
    recipient = conversation.recipient
    token = links.portal_open_token(recipient_id=recipient.pk, conversation_id=conversation.pk)
    return template_email_enqueue(
        template="portal_reply_copy",
        category=Category.ANSWER,
        to_address=recipient.address,
        language=_language_for(None, recipient),
        link_path=reverse("mail:portal_open", kwargs={"token": token}),
        own_words=message.body,
        reason="the recipient asked for a copy of their reply",
        idempotency_key=f"portal-copy:{message.pk}",
        via_relay=True,
        portal_fallback=False,
    )


@transaction.atomic
def portal_purge_expired() -> dict[str, int]:
    """Delete portal messages past HAVEN_PORTAL_MESSAGE_DAYS, then emptied conversations and recipients."""
    now = timezone.now()
    _total, messages = PortalMessage.objects.filter(expires_at__lte=now).delete()
    _total, conversations = PortalConversation.objects.filter(messages__isnull=True).delete()
    _total, recipients = PortalRecipient.objects.filter(conversations__isnull=True).delete()
    return {
        "messages": messages.get("mail.PortalMessage", 0),
        "conversations": conversations.get("mail.PortalConversation", 0),
        "recipients": recipients.get("mail.PortalRecipient", 0),
    }
