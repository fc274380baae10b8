"""Writes of the privacy center: preferences and consents, notices, disclosures, rights requests,
erasure and breach notification. Other apps call `may_contact`, `analytics_allowed`,
`location_permission_record`, `location_use_allowed`, `medical_data_collection_allowed` and
`disclosure_record`.
"""

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from haven.accounts.models import User
from haven.audit import access
from haven.audit.models import AuditEvent, EventType, Outcome
from haven.audit.policy import Purpose, Resource
from haven.plans.models import Member
from haven.privacy import facts, wording
from haven.privacy.models import (
    LEGAL_PURPOSES,
    OPEN_STATUSES,
    AffectedMember,
    Archive,
    Channel,
    ConsentRecord,
    ContactChoice,
    Disclosure,
    DisclosurePurpose,
    Erasure,
    Incident,
    Inquiry,
    Kind,
    LocationPermission,
    Notice,
    NoticeCampaign,
    NoticeReceipt,
    NoticeServed,
    NoticeText,
    PrintedCopyRequest,
    Recipient,
    RequestEvent,
    RequestKind,
    RequestStatus,
    RetentionCategory,
    RightsRequest,
    Source,
    Subject,
    new_download_token,
)

OFFICER_ROLES = (User.StaffRole.PRIVACY_OFFICER,)
# Member services post printed copies and may review corrections of contact details.
PRINT_QUEUE_ROLES = (User.StaffRole.PRIVACY_OFFICER, User.StaffRole.CUSTOMER_SERVICE)
CORRECTION_ROLES = (User.StaffRole.PRIVACY_OFFICER, User.StaffRole.CUSTOMER_SERVICE)


def _language(user: User | None) -> str:
    return (user.language if user is not None and user.language else "") or (
        translation.get_language() or settings.LANGUAGE_CODE
    )


def _require_officer(actor: User) -> None:
    if not actor.has_staff_role(*OFFICER_ROLES):
        raise PermissionDenied


def consent_record(
    *,
    subject: str,
    given: bool,
    text: wording.Wording,
    source: str,
    user: User | None = None,
    visitor: str = "",
    member: Member | None = None,
    scope: str = "",
    language: str = "",
    signal: str = "",
    confirmed_against_signal: bool = False,
    actor: User | None = None,
) -> ConsentRecord:
    """Append one consent or withdrawal with the words shown and their version (CON-8)."""
    language = language or _language(user)
    return ConsentRecord.objects.create(
        user=user,
        visitor=visitor,
        member=member,
        subject=subject,
        scope=scope,
        given=given,
        version=text.version,
        wording=text.shown_in(language),
        language=language,
        source=source,
        signal=signal,
        confirmed_against_signal=confirmed_against_signal,
        actor=actor or user,
    )


# --- Contact preferences (CON-1) -------------------------------------------------------------

# Sensible defaults: e-mail for the plan's own useful messages; texts and calls only when asked
# for (telephone consumer law); post only for plan notices; newsletters never until chosen.
DEFAULTS: dict[tuple[str, str], bool] = {
    (channel, kind): False for channel in Channel.values for kind in Kind.values
} | {
    (Channel.EMAIL, Kind.HEALTH_REMINDERS): True,
    (Channel.EMAIL, Kind.QUESTIONNAIRES): True,
    (Channel.EMAIL, Kind.APPOINTMENT_REMINDERS): True,
    (Channel.EMAIL, Kind.PLAN_NOTICES): True,
    (Channel.POST, Kind.PLAN_NOTICES): True,
}

MARKETING = "marketing"

# The mail outbox's categories that carry each kind, so the outbox refuses what members refuse.
MAIL_CATEGORIES = {
    Kind.NEWSLETTERS: "newsletter",
    Kind.HEALTH_REMINDERS: "reminder",
    Kind.APPOINTMENT_REMINDERS: "reminder",
    MARKETING: "marketing",
}


def preferences_for(user: User) -> dict[tuple[str, str], bool]:
    """Every channel and kind for this user: their choices over the defaults."""
    chosen = DEFAULTS.copy()
    for channel, kind, wanted in ContactChoice.objects.filter(user=user).values_list(
        "channel", "kind", "wanted"
    ):
        chosen[(channel, kind)] = wanted
    return chosen


def marketing_authorisation(user: User) -> ConsentRecord | None:
    """The current marketing authorisation, or None if never given or withdrawn (CON-2)."""
    record = ConsentRecord.objects.filter(user=user).current(Subject.MARKETING)
    return record if record is not None and record.given else None


def marketing_channels(user: User) -> list[str]:
    record = marketing_authorisation(user)
    return [channel for channel in record.scope.split(",") if channel] if record else []


def may_contact(user: User, channel: str, kind: str) -> bool:
    """Whether Haven may send this user this kind of message by this channel (CON-1, CON-2).

    Every app asks here before sending anything optional; marketing needs a current, separate
    authorisation that names the channel. E-mail also honours the mail outbox's opt-outs
    (an unsubscribe link), so the two can never disagree.
    """
    if kind == MARKETING:
        allowed = channel in marketing_channels(user)
    else:
        if kind not in Kind.values or channel not in Channel.values:
            raise ValueError(f"unknown channel or kind: {channel!r}, {kind!r}")
        allowed = preferences_for(user)[(channel, kind)]
    if allowed and channel == Channel.EMAIL and kind in MAIL_CATEGORIES:
        from haven.mail.services import may_email

        allowed = may_email(user, MAIL_CATEGORIES[kind])
    return allowed


def email_category_allowed(user: User, category: str) -> bool:
    """The mail outbox's question in the privacy center's terms: may this user get e-mail of
    this outbox category? For `haven.mail.services.may_email` to ask (see docs/privacy.md);
    categories the center does not govern (required notices, answers, notifications) say yes."""
    kinds = [kind for kind, mapped in MAIL_CATEGORIES.items() if mapped == category]
    if not kinds:
        return True
    if MARKETING in kinds:
        return Channel.EMAIL in marketing_channels(user)
    chosen = preferences_for(user)
    return any(chosen[(Channel.EMAIL, kind)] for kind in kinds)


def _sync_mail(user: User, categories: set[str], actor: User) -> None:
    """Carry e-mail choices into the outbox's opt-outs: the outbox then refuses them too."""
    from haven.mail.models import OptOut
    from haven.mail.services import email_opt_in, email_opt_out

    chosen = preferences_for(user)
    authorised = marketing_channels(user)
    for category in categories:
        kinds = [kind for kind, mapped in MAIL_CATEGORIES.items() if mapped == category]
        wanted = any(
            (Channel.EMAIL in authorised) if kind == MARKETING else chosen[(Channel.EMAIL, kind)]
            for kind in kinds
        )
        if wanted:
            email_opt_in(user=user, categories=[category], actor=actor)
        else:
            email_opt_out(
                user=user, categories=[category], source=OptOut.Source.PREFERENCES, actor=actor
            )


@transaction.atomic
def contact_preferences_update(
    *,
    user: User,
    choices: dict[tuple[str, str], bool],
    preferred_name: str | None = None,
    actor: User,
    language: str = "",
) -> list[ConsentRecord]:
    """Save the grid; each changed cell is a consent or withdrawal on record (CON-1, CON-8)."""
    from haven.accounts.services import user_update_names

    if actor != user:
        raise PermissionDenied
    if preferred_name is not None and preferred_name != user.preferred_name:
        user_update_names(user=user, preferred_name=preferred_name.strip())
    before = preferences_for(user)
    now = timezone.now()
    records, touched = [], set()
    for (channel, kind), wanted in choices.items():
        if (channel, kind) not in DEFAULTS:
            raise ValueError(f"unknown channel or kind: {channel!r}, {kind!r}")
        ContactChoice.objects.update_or_create(
            user=user,
            channel=channel,
            kind=kind,
            defaults={"wanted": wanted, "updated_at": now},
        )
        if before[(channel, kind)] != wanted:
            records.append(
                consent_record(
                    subject=Subject.CONTACT,
                    scope=f"{channel}:{kind}",
                    given=wanted,
                    text=wording.CONTACT,
                    source=Source.FORM,
                    user=user,
                    member=user.member,
                    language=language,
                    actor=actor,
                )
            )
            if channel == Channel.EMAIL and kind in MAIL_CATEGORIES:
                touched.add(MAIL_CATEGORIES[kind])
    if marketing_authorisation(user) is None:
        touched.add(MAIL_CATEGORIES[MARKETING])
    _sync_mail(user, touched, actor)
    return records


@transaction.atomic
def marketing_authorise(
    *, user: User, channels: list[str], actor: User, language: str = ""
) -> ConsentRecord:
    """A separate, explicit authorisation for marketing, with the words shown (CON-2)."""
    if actor != user:
        raise PermissionDenied
    allowed = [channel for channel in Channel.values if channel in channels]
    if not allowed:
        raise ValidationError(_("Tick at least one way we may write to you."), code="channels")
    record = consent_record(
        subject=Subject.MARKETING,
        scope=",".join(allowed),
        given=True,
        text=wording.MARKETING,
        source=Source.FORM,
        user=user,
        member=user.member,
        language=language,
        actor=actor,
    )
    _sync_mail(user, {MAIL_CATEGORIES[MARKETING]}, actor)
    return record


@transaction.atomic
def marketing_withdraw(*, user: User, actor: User, language: str = "") -> ConsentRecord | None:
    if actor != user:
        raise PermissionDenied
    if marketing_authorisation(user) is None:
        return None
    record = consent_record(
        subject=Subject.MARKETING,
        given=False,
        text=wording.MARKETING,
        source=Source.FORM,
        user=user,
        member=user.member,
        language=language,
        actor=actor,
    )
    _sync_mail(user, {MAIL_CATEGORIES[MARKETING]}, actor)
    return record


# --- Medical data (CON-6) ----------------------------------------------------------------------


def medical_data_consent_required() -> bool:
    """Where the configured law makes consent the basis for collecting medical data (GDPR
    art. 9; the Belgian act in 003). Under HIPAA, treatment, payment and operations need none."""
    return getattr(settings, "HAVEN_MEDICAL_DATA_CONSENT", facts.law() == facts.GDPR)


def medical_data_consent(member: Member) -> ConsentRecord | None:
    record = ConsentRecord.objects.filter(member=member).current(Subject.MEDICAL_DATA)
    return record if record is not None and record.given else None


def medical_data_collection_allowed(member: Member) -> bool:
    """Whether medical data about this member may be collected now (records and claims ask)."""
    return not medical_data_consent_required() or medical_data_consent(member) is not None


@transaction.atomic
def medical_data_consent_record(
    *, user: User, member: Member, given: bool, actor: User, language: str = ""
) -> ConsentRecord:
    if actor != user or user.member_id != member.pk:
        raise PermissionDenied
    return consent_record(
        subject=Subject.MEDICAL_DATA,
        given=given,
        text=wording.MEDICAL_DATA,
        source=Source.FORM,
        user=user,
        member=member,
        language=language,
        actor=actor,
    )


# --- Cookies, analytics and browser signals (CON-4, CON-5, CON-7) ---------------------------

CHOICE_COOKIE = "haven_cookie_choice"
# A longer stay is a tab left open, not reading: it counts as this long.
PAGE_TIME_LIMIT_SECONDS = 30 * 60
CHOICE_SALT = "haven.privacy.cookie-choice"
CHOICE_MAX_AGE = 180 * 24 * 3600


@dataclass(frozen=True)
class CookieChoice:
    analytics: bool
    visitor: str
    against_signal: bool = False


class SignalConflict(Exception):
    """The person chose analytics while their browser asks sites not to track: confirm first."""


def privacy_signal(request: HttpRequest) -> str:
    """ "gpc" for Global Privacy Control (Sec-GPC: 1), "dnt" for Do Not Track (DNT: 1), or ""."""
    if request.headers.get("Sec-GPC", "").strip() == "1":
        return "gpc"
    if request.headers.get("DNT", "").strip() == "1":
        return "dnt"
    return ""


def cookie_choice(request: HttpRequest) -> CookieChoice | None:
    """The choice the visitor made on the banner, from its signed cookie, or None."""
    raw = request.COOKIES.get(CHOICE_COOKIE)
    if not raw:
        return None
    try:
        data = signing.loads(raw, salt=CHOICE_SALT, max_age=CHOICE_MAX_AGE)
        return CookieChoice(
            analytics=bool(data["a"]), visitor=str(data["v"]), against_signal=bool(data.get("s"))
        )
    except (signing.BadSignature, KeyError, TypeError):
        return None


def analytics_allowed(request: HttpRequest) -> bool:
    """Whether first-party analytics may count this visit (CON-4, CON-5, CON-7).

    No until the visitor agrees; never when they refused; never under a GPC or DNT signal
    unless they confirmed that choice against the signal.
    """
    choice = cookie_choice(request)
    if choice is None or not choice.analytics:
        return False
    return not privacy_signal(request) or choice.against_signal


def page_view_count(request: HttpRequest) -> bool:
    """Count one view of this page, if the visitor allowed analytics (CON-5, LOG-2): today's
    total for the page's URL name goes up by one, and, when the view begins a visit, the visits
    and the referring site's domain. No path, no identifier, no cookie of its own."""
    match = getattr(request, "resolver_match", None)
    if match is None or not match.url_name or request.method != "GET":
        return False
    if not analytics_allowed(request):
        return False
    from haven.privacy.models import PageViewCount, ReferrerCount

    day, page = timezone.localdate(), match.view_name[:120]
    referrer = urlsplit(request.META.get("HTTP_REFERER", "")).hostname or ""
    entry = referrer != request.get_host().split(":", 1)[0]
    _count_up(PageViewCount, {"day": day, "page": page}, views=1, entries=int(entry))
    if entry and referrer:
        _count_up(ReferrerCount, {"day": day, "domain": referrer[:255]}, visits=1)
    return True


def page_time_count(request: HttpRequest, page: str, seconds: int) -> bool:
    """Add the time a visitor spent on a page, as their browser reported it on leaving, to the
    day's total for that page; only for a page counted today and a visitor who allowed it."""
    from haven.privacy.models import PageViewCount

    if not analytics_allowed(request):
        return False
    seconds = max(0, min(seconds, PAGE_TIME_LIMIT_SECONDS))
    return bool(
        PageViewCount.objects.filter(day=timezone.localdate(), page=page[:120]).update(
            seconds=F("seconds") + seconds, timed=F("timed") + 1
        )
    )


def _count_up(model, key: dict, **increments: int) -> None:
    """Add to today's counters, creating the row the first time (safe under concurrency)."""
    from django.db import IntegrityError

    rows = model.objects.filter(**key)
    if rows.update(**{name: F(name) + value for name, value in increments.items()}):
        return
    try:
        with transaction.atomic():
            model.objects.create(**key, **increments)
    except IntegrityError:
        rows.update(**{name: F(name) + value for name, value in increments.items()})


def page_view_totals(days: int = 30, today: date | None = None) -> list[tuple[str, int, int, int]]:
    """Per page over the last `days` days, most viewed first: views, visits begun there, and the
    average seconds on the page (0 where no browser reported it)."""
    from django.db.models import Sum

    from haven.privacy.models import PageViewCount

    since = (today or timezone.localdate()) - timedelta(days=days - 1)
    rows = (
        PageViewCount.objects.filter(day__gte=since)
        .values("page")
        .annotate(
            total=Sum("views"), entries=Sum("entries"), seconds=Sum("seconds"), timed=Sum("timed")
        )
        .order_by("-total", "page")
    )
    return [
        (
            row["page"],
            row["total"],
            row["entries"],
            row["seconds"] // row["timed"] if row["timed"] else 0,
        )
        for row in rows
    ]


def referrer_totals(days: int = 30, today: date | None = None) -> list[tuple[str, int]]:
    """Visits per referring domain over the last `days` days, most first."""
    from django.db.models import Sum

    from haven.privacy.models import ReferrerCount

    since = (today or timezone.localdate()) - timedelta(days=days - 1)
    rows = (
        ReferrerCount.objects.filter(day__gte=since)
        .values("domain")
        .annotate(total=Sum("visits"))
        .order_by("-total", "domain")
    )
    return [(row["domain"], row["total"]) for row in rows]


def cookie_banner_needed(request: HttpRequest) -> bool:
    """The banner asks only those who have not chosen and send no signal (which already says no)."""
    return cookie_choice(request) is None and not privacy_signal(request)


def cookie_choice_save(
    *, request: HttpRequest, response: HttpResponse, analytics: bool, confirmed: bool = False
) -> ConsentRecord:
    """Record the banner's answer and remember it in a signed, essential cookie."""
    signal = privacy_signal(request)
    if analytics and signal and not confirmed:
        raise SignalConflict
    previous = cookie_choice(request)
    visitor = previous.visitor if previous else new_download_token()[:24]
    user = request.user if request.user.is_authenticated else None
    record = consent_record(
        subject=Subject.ANALYTICS,
        given=analytics,
        text=wording.ANALYTICS,
        source=Source.BANNER,
        user=user,
        visitor="" if user else visitor,
        member=user.member if user else None,
        language=translation.get_language() or settings.LANGUAGE_CODE,
        signal=signal,
        confirmed_against_signal=bool(analytics and signal),
    )
    value = signing.dumps(
        {"a": int(analytics), "v": visitor, "s": int(bool(analytics and signal))}, salt=CHOICE_SALT
    )
    response.set_cookie(
        CHOICE_COOKIE,
        value,
        max_age=CHOICE_MAX_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return record


# --- Precise location (CON-3) ----------------------------------------------------------------


@transaction.atomic
def location_permission_record(
    *, user: User, purpose: str, actor: User, user_agent: str = "", language: str = ""
) -> LocationPermission:
    """Record that the browser's location permission was given, for finding care only (CON-3).

    The care finder calls this when the browser grants the permission, and
    `location_use_allowed` before each use of a position.
    """
    if actor != user:
        raise PermissionDenied
    if purpose not in LocationPermission.Purpose.values:
        raise ValidationError(_("Precise location is used only to find care."), code="purpose")
    permission = LocationPermission.objects.create(
        user=user, purpose=purpose, user_agent=user_agent[:300]
    )
    consent_record(
        subject=Subject.LOCATION,
        scope=purpose,
        given=True,
        text=wording.LOCATION,
        source=Source.BROWSER,
        user=user,
        member=user.member,
        language=language,
        actor=actor,
    )
    return permission


def location_use_allowed(user: User, purpose: str) -> bool:
    """A position may be used only for finding care, and only after a current permission."""
    if purpose not in LocationPermission.Purpose.values:
        return False
    return LocationPermission.objects.filter(
        user=user, purpose=purpose, withdrawn_at__isnull=True
    ).exists()


@transaction.atomic
def location_permission_withdraw(*, permission: LocationPermission, actor: User) -> None:
    if actor != permission.user:
        raise PermissionDenied
    if permission.withdrawn_at is not None:
        return
    permission.withdrawn_at = timezone.now()
    permission.save(update_fields=["withdrawn_at"])
    consent_record(
        subject=Subject.LOCATION,
        scope=permission.purpose,
        given=False,
        text=wording.LOCATION,
        source=Source.FORM,
        user=actor,
        member=actor.member,
        actor=actor,
    )


# --- Notices (NOT-1..6) --------------------------------------------------------------------


def notice_current(day: date | None = None) -> Notice | None:
    """The published notice in effect today."""
    day = day or timezone.localdate()
    return (
        Notice.objects.filter(status=Notice.Status.PUBLISHED, effective_date__lte=day)
        .order_by("-effective_date", "-revision_date")
        .prefetch_related("texts")
        .first()
    )


def notice_upcoming(day: date | None = None) -> Notice | None:
    """A published notice that takes effect later (posted ahead of a material change)."""
    day = day or timezone.localdate()
    return (
        Notice.objects.filter(status=Notice.Status.PUBLISHED, effective_date__gt=day)
        .order_by("effective_date")
        .prefetch_related("texts")
        .first()
    )


@transaction.atomic
def notice_draft_save(
    *,
    notice: Notice | None,
    revision_date: date,
    effective_date: date,
    material: bool,
    texts: dict[str, dict[str, str]],
    actor: User,
) -> Notice:
    """The officer drafts a version: three texts (English, Spanish, Italian) (NOT-2, NOT-5)."""
    _require_officer(actor)
    if notice is not None and notice.is_published:
        raise ValidationError(_("A published notice cannot be changed; draft a new version."))
    if effective_date < revision_date:
        raise ValidationError(
            _("The effective date cannot be before the revision date."), code="dates"
        )
    if Notice.objects.filter(revision_date=revision_date).exclude(pk=notice.pk if notice else None):
        raise ValidationError(
            _("A notice with this revision date already exists."), code="revision_date"
        )
    notice = notice or Notice(drafted_by=actor)
    notice.revision_date, notice.effective_date, notice.material = (
        revision_date,
        effective_date,
        material,
    )
    notice.save()
    for language, fields in texts.items():
        NoticeText.objects.update_or_create(notice=notice, language=language, defaults=fields)
    return notice


def notice_publication_problems(notice: Notice, today: date | None = None) -> list[str]:
    """Why this draft cannot be published yet, in words for the officer."""
    today = today or timezone.localdate()
    problems = []
    languages = set(notice.texts.values_list("language", flat=True))
    missing = [str(name) for code, name in settings.LANGUAGES if code not in languages]
    if missing:
        problems.append(_("Add the text in: %(languages)s.") % {"languages": ", ".join(missing)})
    earliest = today + timedelta(days=facts.notice_period_days())
    if notice.material and notice.effective_date < earliest:
        problems.append(
            _(
                "A material change is posted %(days)s days before it takes effect: choose an "
                "effective date on or after %(date)s."
            )
            % {"days": facts.notice_period_days(), "date": earliest.isoformat()}
        )
    if not notice.material and notice.effective_date < today:
        problems.append(_("The effective date cannot be in the past."))
    return problems


@transaction.atomic
def notice_publish(*, notice: Notice, actor: User) -> NoticeCampaign:
    """Post the version on the site and start telling every account holder (NOT-3, NOT-4).

    The campaign task is enqueued in this transaction: publication and telling go together.
    """
    _require_officer(actor)
    notice = Notice.objects.select_for_update().get(pk=notice.pk)
    if notice.is_published:
        raise ValidationError(_("This notice is already published."))
    problems = notice_publication_problems(notice)
    if problems:
        raise ValidationError(problems)
    notice.status = Notice.Status.PUBLISHED
    notice.published_at = timezone.now()
    notice.published_by = actor
    notice.save(update_fields=["status", "published_at", "published_by"])
    return _campaign_start(notice, NoticeCampaign.Reason.NEW_VERSION)


def _campaign_start(notice: Notice, reason: str, users=None) -> NoticeCampaign:
    from haven.privacy.tasks import run_notice_campaign

    campaign = NoticeCampaign.objects.create(notice=notice, reason=reason)
    ids = list(users) if users is not None else None
    run_notice_campaign.enqueue(campaign.pk, ids)
    return campaign


def notice_audience():
    """Everyone who holds an account that is not staff and is still active."""
    return User.objects.filter(is_active=True).exclude(kind=User.Kind.STAFF)


def _notice_email(user: User, notice: Notice, reason: str) -> None:
    from haven.mail.services import outbox_enqueue

    language = _language(user)
    link = reverse("privacy:notice_version", kwargs={"revision": notice.revision_date.isoformat()})
    with translation.override(language):
        context = {
            "notice": notice,
            "reminder": reason == NoticeCampaign.Reason.REMINDER,
            "url": settings.SITE_URL.rstrip("/") + link,
            "site_name": settings.SITE_NAME,
            "organisation_name": settings.ORGANISATION_NAME,
        }
        subject = render_to_string("privacy/email/notice_subject.txt", context).strip()
        body = render_to_string("privacy/email/notice.txt", context)
    outbox_enqueue(
        to_address=user.email,
        subject=subject,
        text_body=body,
        category="required_notice",
        user=user,
        reason="privacy notice" if reason == "new_version" else "privacy notice reminder",
        idempotency_key=f"privacy-notice:{notice.pk}:{user.pk}:{reason}:{timezone.localdate()}",
    )


def notice_tell(user: User, notice: Notice, reason: str) -> NoticeReceipt:
    """Tell one person: by e-mail if they take plan notices by e-mail, else in the portal."""
    by_email = bool(user.email) and may_contact(user, Channel.EMAIL, Kind.PLAN_NOTICES)
    how = NoticeReceipt.How.EMAIL if by_email else NoticeReceipt.How.PORTAL
    with transaction.atomic():
        if reason == NoticeCampaign.Reason.NEW_VERSION:
            receipt, created = NoticeReceipt.objects.get_or_create(
                user=user, notice=notice, reason=reason, defaults={"how": how}
            )
            if not created:
                return receipt
        else:
            receipt = NoticeReceipt.objects.create(user=user, notice=notice, reason=reason, how=how)
        if by_email:
            _notice_email(user, notice, reason)
            NoticeServed.objects.create(
                user=user, notice=notice, form=NoticeServed.Form.EMAIL, language=_language(user)
            )
    return receipt


def notice_campaign_run(*, campaign_id: int, user_ids: list[int] | None = None) -> int:
    """The worker tells each person in batches and counts its progress."""
    campaign = NoticeCampaign.objects.select_related("notice").get(pk=campaign_id)
    audience = notice_audience()
    if user_ids is not None:
        audience = audience.filter(pk__in=user_ids)
    audience = audience.order_by("pk")
    NoticeCampaign.objects.filter(pk=campaign.pk).update(total=audience.count())
    told = 0
    for user in audience.iterator(chunk_size=500):
        notice_tell(user, campaign.notice, campaign.reason)
        told += 1
        if told % 50 == 0:
            NoticeCampaign.objects.filter(pk=campaign.pk).update(done=told)
    NoticeCampaign.objects.filter(pk=campaign.pk).update(done=told, finished_at=timezone.now())
    return told


def notices_remind(now: datetime | None = None) -> dict[str, int]:
    """The periodic job: anyone not yet told of the notice in effect is told now (within the
    60 days of a revision), and anyone told more than three years ago is reminded."""
    now = now or timezone.now()
    notice = notice_current(timezone.localdate(now))
    upcoming = notice_upcoming(timezone.localdate(now))
    counts = {"new": 0, "reminded": 0}
    for version in [v for v in (notice, upcoming) if v is not None]:
        untold = notice_audience().exclude(
            notice_receipts__notice=version, notice_receipts__reason="new_version"
        )
        ids = list(untold.values_list("pk", flat=True))
        if ids:
            _campaign_start(version, NoticeCampaign.Reason.NEW_VERSION, ids)
            counts["new"] += len(ids)
    if notice is not None:
        cutoff = now - timedelta(days=facts.notice_reminder_days())
        recent = NoticeReceipt.objects.filter(told_at__gt=cutoff).values("user")
        due = notice_audience().filter(date_joined__lte=cutoff).exclude(pk__in=recent)
        ids = list(due.values_list("pk", flat=True))
        if ids:
            _campaign_start(notice, NoticeCampaign.Reason.REMINDER, ids)
            counts["reminded"] = len(ids)
    return counts


def notice_pending_for(user: User) -> NoticeReceipt | None:
    """The newest notice this person was told of and has not acknowledged (the banner's).
    Staff are not told (they are not in the audience), so their pages ask nothing."""
    if not user.is_authenticated or user.is_staff_member:
        return None
    return (
        NoticeReceipt.objects.filter(user=user, acknowledged_at__isnull=True)
        .select_related("notice")
        .prefetch_related("notice__texts")
        .order_by("-told_at")
        .first()
    )


@transaction.atomic
def notice_acknowledge(*, user: User, notice: Notice, language: str = "") -> int:
    """The person says they read this version; recorded like a consent (NOT-4, CON-8)."""
    updated = NoticeReceipt.objects.filter(
        user=user, notice=notice, acknowledged_at__isnull=True
    ).update(acknowledged_at=timezone.now())
    consent_record(
        subject=Subject.NOTICE,
        scope=notice.revision_date.isoformat(),
        given=True,
        text=wording.NOTICE,
        source=Source.FORM,
        user=user,
        member=user.member,
        language=language,
    )
    return updated


def notice_served_record(*, user: User, notice: Notice, form: str, language: str) -> None:
    """Which version was shown to whom, how and in which language (NOT-2)."""
    if user.is_authenticated:
        NoticeServed.objects.create(user=user, notice=notice, form=form, language=language)


POSTAL_FIELDS = ("address_line", "city", "region", "postal_code")


def member_postal_address(user: User, contact: Mapping[str, Any] | None = None) -> str:
    """The postal address as lines: for a member, from the roster's contact fields the audited
    accessor opened (`contact`, see haven.audit.access); for a consumer, from the sign-up form."""
    if user.member_id is not None:
        source = contact or {}
    else:
        profile = getattr(user, "consumer_profile", None)
        if profile is None:
            return ""
        source = {name: getattr(profile, name, "") for name in POSTAL_FIELDS}
    city_line = " ".join(
        part for part in (source.get(name) for name in POSTAL_FIELDS[1:]) if part
    ).strip()
    lines = [user.get_full_name() or user.username, source.get("address_line", ""), city_line]
    return "\n".join(line for line in lines if line)


@transaction.atomic
def printed_copy_request(
    *, user: User, notice: Notice, language: str, address: str
) -> PrintedCopyRequest:
    """A member asks for the notice on paper (NOT-1); one open request per version."""
    address = address.strip()
    if not address:
        raise ValidationError(_("Give the postal address to send it to."), code="address")
    existing = PrintedCopyRequest.objects.filter(
        user=user, notice=notice, mailed_at__isnull=True
    ).first()
    if existing is not None:
        return existing
    return PrintedCopyRequest.objects.create(
        user=user, notice=notice, language=language, address=address
    )


@transaction.atomic
def printed_copy_mailed(*, copy: PrintedCopyRequest, actor: User) -> PrintedCopyRequest:
    if not actor.has_staff_role(*PRINT_QUEUE_ROLES):
        raise PermissionDenied
    if copy.mailed_at is None:
        copy.mailed_at, copy.mailed_by = timezone.now(), actor
        copy.save(update_fields=["mailed_at", "mailed_by"])
    return copy


# --- Recipients and disclosures (RIG-3, RIG-4, DIS-5, DIS-6) --------------------------------


@transaction.atomic
def recipient_save(*, recipient: Recipient | None, actor: User, **fields) -> Recipient:
    """The privacy officer keeps the registry: who may receive data, where, for what (RIG-3)."""
    _require_officer(actor)
    purposes = [purpose for purpose in fields.pop("purposes", []) if purpose]
    unknown = [purpose for purpose in purposes if purpose not in DisclosurePurpose.values]
    if unknown or not purposes:
        raise ValidationError(_("Choose the purposes from the list."), code="purposes")
    fields["country"] = fields.get("country", "").strip().upper()
    recipient = recipient or Recipient(added_by=actor)
    for name, value in fields.items():
        setattr(recipient, name, value)
    recipient.purposes = purposes
    recipient.updated_at = timezone.now()
    recipient.save()
    return recipient


class NotRegistered(ValidationError):
    """A disclosure to someone outside the registry, or for a purpose not allowed them."""


# What each disclosure purpose is, in the audit trail's purposes of use.
AUDIT_PURPOSES = {
    DisclosurePurpose.TREATMENT: Purpose.TREATMENT,
    DisclosurePurpose.PAYMENT: Purpose.PAYMENT,
    DisclosurePurpose.OPERATIONS: Purpose.OPERATIONS,
    DisclosurePurpose.PLAN_ADMINISTRATION: Purpose.OPERATIONS,
    DisclosurePurpose.REQUIRED_BY_LAW: Purpose.LEGAL,
    DisclosurePurpose.LEGAL_PROCESS: Purpose.LEGAL,
}


def disclosure_record(
    *,
    member: Member | None,
    recipient: Recipient | str,
    purpose: str,
    resources: list[str],
    description: str,
    legal_basis: str = "",
    actor: "User | access.Actor",
    request: HttpRequest | None = None,
    record_id: str | int = "",
    account: User | None = None,
) -> Disclosure:
    """The one way personal data leaves Haven (DIS-5, DIS-6): a registered, active recipient, a
    purpose the registry allows it, and for disclosures required by law the privacy officer and
    the legal basis. Writes the audit trail's disclosure event, then the disclosure itself.
    """
    if (member is None) == (account is None):
        raise ValueError("a disclosure is of one member's data or of one account's")
    if not isinstance(recipient, Recipient):
        raise NotRegistered(
            _("Personal data goes only to recipients in the registry."), code="unregistered"
        )
    recipient = Recipient.objects.filter(pk=recipient.pk, active=True).first()
    if recipient is None:
        raise NotRegistered(
            _("This recipient is not (or no longer) allowed to receive data."), code="inactive"
        )
    if purpose not in DisclosurePurpose.values or purpose not in recipient.purposes:
        raise NotRegistered(
            _("The registry does not allow this recipient data for that purpose."),
            code="purpose",
        )
    user = actor.user if isinstance(actor, access.Actor) else actor
    if purpose in LEGAL_PURPOSES:
        if user is None or not user.has_staff_role(*OFFICER_ROLES):
            raise PermissionDenied(
                _("Disclosures required by law are recorded by the privacy officer.")
            )
        if not legal_basis.strip():
            raise ValidationError(
                _("State the legal basis: the law, order or request that requires it."),
                code="legal_basis",
            )
    description = " ".join(description.split())
    if not description:
        raise ValidationError(_("Describe briefly what data is disclosed."), code="description")
    if member is None:
        # A consumer's own details, given at their own request (haven.care bookings).
        permitted = access.disclose_own_account(
            account=account,
            resource=resources,
            recipient=recipient.name,
            actor=actor,
            request=request,
        )
    else:
        permitted = access.disclose(
            member=member,
            resource=resources,
            recipient=recipient.name,
            purpose=AUDIT_PURPOSES[purpose],
            record_id=record_id,
            actor=actor,
            request=request,
        )
    event = permitted.event
    if event is None:
        raise RuntimeError("a disclosure needs its audit record")
    with transaction.atomic():
        return Disclosure.objects.create(
            member=member,
            account=account if member is None else None,
            recipient=recipient,
            purpose=purpose,
            description=description[:300],
            legal_basis=legal_basis.strip(),
            audit_event=event,
            disclosed_at=event.recorded_at,
            recorded_by=user,
        )


@dataclass
class AccountingEntry:
    date: datetime
    recipient: str
    address: str
    country: str
    description: str
    purpose: str
    legal_basis: str


def accounting_for(
    member: Member | None, now: datetime | None = None, *, account: User | None = None
) -> list[AccountingEntry]:
    """Every disclosure of the member's data (or of an account's with no roster entry) in the
    last six years, from the audit trail (RIG-4)."""
    now = now or timezone.now()
    since = now - timedelta(days=365 * facts.accounting_years() + 2)
    events = (
        access.history_for(member, account=account, disclosures_only=True)
        .filter(recorded_at__gte=since)
        .select_related("disclosure__recipient")
    )
    purposes = dict(DisclosurePurpose.choices)
    audit_purposes = dict(Purpose.choices)
    entries = []
    for event in events:
        disclosure = getattr(event, "disclosure", None)
        if disclosure is not None:
            entries.append(
                AccountingEntry(
                    date=event.recorded_at,
                    recipient=disclosure.recipient.name,
                    address=disclosure.recipient.address,
                    country=disclosure.recipient.country,
                    description=disclosure.description,
                    purpose=str(purposes.get(disclosure.purpose, disclosure.purpose)),
                    legal_basis=disclosure.legal_basis,
                )
            )
        else:
            entries.append(
                AccountingEntry(
                    date=event.recorded_at,
                    recipient=event.recipient,
                    address="",
                    country="",
                    description=", ".join(event.resource_labels()),
                    purpose=str(audit_purposes.get(event.purpose, event.purpose)),
                    legal_basis="",
                )
            )
    return entries


# --- Rights requests (RIG-1, RIG-2, RIG-7, ACC-11) --------------------------------------------


def _event(request: RightsRequest, what: str, note: str = "", actor: User | None = None) -> None:
    RequestEvent.objects.create(request=request, what=what, note=note, actor=actor)


# Items of the roster a member may ask to correct, and the audit resource each belongs to.
CORRECTABLE = {
    "first_name": Resource.DEMOGRAPHICS,
    "last_name": Resource.DEMOGRAPHICS,
    "date_of_birth": Resource.DEMOGRAPHICS,
    "gender": Resource.DEMOGRAPHICS,
    "address_line": Resource.CONTACT,
    "city": Resource.CONTACT,
    "region": Resource.CONTACT,
    "postal_code": Resource.CONTACT,
    "phone": Resource.CONTACT,
}


@transaction.atomic
def rights_request_create(
    *,
    kind: str,
    requester: User,
    member: Member | None,
    identity: str,
    field: str = "",
    proposed_value: str = "",
    details: str = "",
) -> RightsRequest:
    """A request with its legal deadline from the configured law; an access request starts
    building its archive in the background, in this transaction (RIG-1, RIG-7)."""
    if kind not in RequestKind.values:
        raise ValueError(f"unknown request {kind!r}")
    if kind == RequestKind.CORRECTION:
        if field not in CORRECTABLE or member is None:
            raise ValidationError(_("Choose what is wrong."), code="field")
        if not (proposed_value.strip() or details.strip()):
            raise ValidationError(_("Tell us what it should say."), code="proposed_value")
    now = timezone.now()
    request = RightsRequest.objects.create(
        kind=kind,
        status=RequestStatus.IN_PROGRESS,
        requester=requester,
        member=member,
        law=facts.law(),
        received_at=now,
        due_on=facts.deadline_for(kind).due(timezone.localdate(now)),
        identity=identity,
        identity_checked_at=now,
        field=field,
        proposed_value=proposed_value.strip(),
        details=details.strip(),
    )
    _event(request, "received", actor=requester)
    if kind == RequestKind.ACCESS:
        from haven.privacy.tasks import build_archive

        # The link's token is made when the owner asks to download (archive_link_renew).
        archive = Archive.objects.create(
            request=request, token_hash=_token_hash(new_download_token())
        )
        build_archive.enqueue(archive.pk)
    elif kind in (RequestKind.ACCOUNTING, RequestKind.RECIPIENTS):
        # Answered at once online: the page the member is sent to is the answer.
        request.status, request.completed_at = RequestStatus.COMPLETED, now
        request.save(update_fields=["status", "completed_at"])
        _event(request, "completed", actor=requester)
    return request


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def archive_link_renew(*, archive: Archive, actor: User) -> str:
    """A fresh download token for the owner's ready archive (the page shows it once)."""
    if archive.request.requester_id != actor.pk:
        raise PermissionDenied
    token = new_download_token()
    Archive.objects.filter(pk=archive.pk).update(token_hash=_token_hash(token))
    return token


def archive_for_token(token: str) -> Archive | None:
    return (
        Archive.objects.filter(token_hash=_token_hash(token))
        .select_related("request__requester")
        .first()
    )


def archive_build(*, archive_id: int) -> str:
    """The worker's job: gather everything, seal it, mark it ready; progress along the way."""
    from haven.privacy.archive import build

    archive = Archive.objects.select_related("request__requester", "request__member").get(
        pk=archive_id
    )
    if archive.status != Archive.Status.QUEUED:
        return archive.status
    Archive.objects.filter(pk=archive.pk).update(status=Archive.Status.BUILDING, progress=1)

    def progress(percent: int, step: str) -> None:
        Archive.objects.filter(pk=archive.pk).update(progress=percent, step=step)

    try:
        content, counts = build(archive.request, progress=progress)
    except access.AccessDenied as refusal:
        Archive.objects.filter(pk=archive.pk).update(
            status=Archive.Status.FAILED, step=refusal.message[:64]
        )
        return Archive.Status.FAILED
    with transaction.atomic():
        archive = Archive.objects.select_for_update().get(pk=archive.pk)
        archive.seal_content(content)
        archive.counts = counts
        archive.status = Archive.Status.READY
        archive.progress = 100
        archive.step = ""
        archive.ready_at = timezone.now()
        archive.expires_at = archive.ready_at + timedelta(hours=facts.archive_link_hours())
        archive.save()
        request = archive.request
        request.status, request.completed_at = RequestStatus.COMPLETED, archive.ready_at
        request.save(update_fields=["status", "completed_at"])
        _event(request, "archive_ready")
    return Archive.Status.READY


def archives_expire(now: datetime | None = None) -> int:
    """Delete the content of archives whose link expired; the page then says so."""
    now = now or timezone.now()
    return Archive.objects.filter(status=Archive.Status.READY, expires_at__lte=now).update(
        status=Archive.Status.EXPIRED, content_sealed=b"", wrapped_key=b"", kek_id=""
    )


@transaction.atomic
def archive_downloaded(*, archive: Archive) -> None:
    Archive.objects.filter(pk=archive.pk, downloaded_at__isnull=True).update(
        downloaded_at=timezone.now()
    )


@transaction.atomic
def rights_request_extend(*, request: RightsRequest, reason: str, actor: User) -> RightsRequest:
    """Extend once, with a written reason the member is told inside the first period (RIG-7)."""
    _require_officer(actor)
    request = RightsRequest.objects.select_for_update().get(pk=request.pk)
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("Write the reason the member will read."), code="reason")
    if not request.is_open:
        raise ValidationError(_("Only an open request can be extended."), code="closed")
    if request.extended_due_on is not None:
        raise ValidationError(_("A request can be extended only once."), code="twice")
    if timezone.localdate() > request.due_on:
        raise ValidationError(
            _("The extension must be sent before the first deadline, %(date)s.")
            % {"date": request.due_on.isoformat()},
            code="late",
        )
    rule = facts.DEADLINES[request.law][request.kind]
    request.extended_due_on = rule.extended(request.due_on)
    request.extension_reason = reason
    request.extended_at, request.extended_by = timezone.now(), actor
    request.status = RequestStatus.EXTENDED
    request.save()
    _event(request, "extended", reason, actor)
    _request_email(request, "extended")
    return request


def _request_email(request: RightsRequest, what: str) -> None:
    """Tell the requester that their request changed; the e-mail says only that, with a link."""
    from haven.mail.services import outbox_enqueue

    user = request.requester
    if not user.email:
        return
    with translation.override(_language(user)):
        context = {
            "what": what,
            "request": request,
            "url": settings.SITE_URL.rstrip("/")
            + reverse("privacy:request_detail", kwargs={"pk": request.pk}),
            "site_name": settings.SITE_NAME,
        }
        subject = render_to_string("privacy/email/request_subject.txt", context).strip()
        body = render_to_string("privacy/email/request.txt", context)
    outbox_enqueue(
        to_address=user.email,
        subject=subject,
        text_body=body,
        category="answer",
        user=user,
        reason="privacy request update",
        idempotency_key=f"privacy-request:{request.pk}:{what}",
    )


@transaction.atomic
def correction_refuse(*, request: RightsRequest, reason: str, actor: User) -> RightsRequest:
    """Refuse with a reason the member reads; they may attach a statement of disagreement."""
    if not actor.has_staff_role(*CORRECTION_ROLES):
        raise PermissionDenied
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("Write the reason the member will read."), code="reason")
    request = RightsRequest.objects.select_for_update().get(pk=request.pk)
    if not request.is_open or request.kind != RequestKind.CORRECTION:
        raise ValidationError(_("This request is not waiting for a decision."), code="closed")
    request.status, request.decision_reason = RequestStatus.REFUSED, reason
    request.completed_at, request.decided_by = timezone.now(), actor
    request.save()
    _event(request, "refused", reason, actor)
    _request_email(request, "decided")
    return request


def correction_accept(
    *, request: RightsRequest, value: str, purpose: str, actor: User, http: HttpRequest | None
) -> RightsRequest:
    """Correct the item through the audited accessor's change, which decides whether this role
    may (RIG-2); a refusal there leaves the request open and says why."""
    if not actor.has_staff_role(*CORRECTION_ROLES):
        raise PermissionDenied
    if not request.is_open or request.kind != RequestKind.CORRECTION:
        raise ValidationError(_("This request is not waiting for a decision."), code="closed")
    field, member = request.field, request.member
    value = value.strip()
    if not value:
        raise ValidationError(_("Give the corrected value."), code="value")
    model_field = Member._meta.get_field(field)
    try:
        cleaned = model_field.clean(value, member)
    except ValidationError as error:
        raise ValidationError(error.messages, code="value") from error
    with access.change(
        member=member,
        resource=CORRECTABLE[field],
        fields=[field],
        purpose=purpose,
        record_id=member.pk,
        actor=actor,
        request=http,
    ):
        Member.objects.filter(pk=member.pk).update(**{field: cleaned})
        RightsRequest.objects.filter(pk=request.pk).update(
            status=RequestStatus.COMPLETED, completed_at=timezone.now(), decided_by=actor
        )
        _event(request, "corrected", actor=actor)
        _request_email(request, "decided")
    request.refresh_from_db()
    return request


@transaction.atomic
def disagreement_attach(*, request: RightsRequest, statement: str, actor: User) -> RightsRequest:
    """The member's statement of disagreement, kept with the item and in their archive (RIG-2)."""
    if request.requester_id != actor.pk:
        raise PermissionDenied
    if request.status != RequestStatus.REFUSED:
        raise ValidationError(_("You can add a statement once a correction is refused."))
    statement = statement.strip()
    if not statement:
        raise ValidationError(_("Write your statement."), code="statement")
    request.disagreement, request.disagreement_at = statement[:5000], timezone.now()
    request.save(update_fields=["disagreement", "disagreement_at"])
    _event(request, "disagreement", actor=actor)
    return request


@transaction.atomic
def rights_request_withdraw(*, request: RightsRequest, actor: User) -> RightsRequest:
    if request.requester_id != actor.pk:
        raise PermissionDenied
    if request.is_open:
        request.status, request.completed_at = RequestStatus.WITHDRAWN, timezone.now()
        request.save(update_fields=["status", "completed_at"])
        _event(request, "withdrawn", actor=actor)
    return request


def open_requests():
    return (
        RightsRequest.objects.filter(status__in=OPEN_STATUSES)
        .select_related("requester", "member")
        .order_by("due_on", "pk")
    )


# --- Deleting an account (ACC-11) ----------------------------------------------------------

ERASED_USER_FIELDS = ("first_name", "last_name", "preferred_name", "email", "phone", "username")
# What an e-mail in the outbox says about its addressee; the row itself (date, category, status)
# stays as the proof that a notice the law requires was sent.
ERASED_EMAIL_FIELDS = ("to_address", "subject", "text_body", "html_body", "headers")


def _user_emails(user: User, address: str):
    """The outbox rows addressed to this account, by link or by its address."""
    from django.db.models import Q

    from haven.mail.models import OutgoingEmail

    found = Q(user=user)
    if address:
        found |= Q(to_address__iexact=address)
    return OutgoingEmail.objects.filter(found)


def _appointments_of(user: User, member: Member | None):
    if not _care_installed():
        return None
    from django.apps import apps

    appointment_model = apps.get_model("care", "Appointment")
    if member is not None:
        return appointment_model.objects.filter(member=member)
    return appointment_model.objects.filter(account=user)


def _care_installed() -> bool:
    from django.apps import apps

    return apps.is_installed("haven.care")


def what_remains(user: User | None, member: Member | None) -> list[dict]:
    """What stays after an account's erasure and why: the clear statement the member reads
    (ACC-11), at a deletion request or on closing the account.

    Called before the erasure (the pages that ask, and `account_data_erase` itself), so it can
    see the account's own data."""
    kept = [
        {
            "what": _("Encrypted backups made before the deletion"),
            "why": _("They cannot be edited; they expire on their own."),
            "until": _("%(days)s days after the deletion")
            % {"days": facts.backup_retention_days()},
        },
        {
            "what": _("The record of who saw or received your data (audit trail)"),
            "why": _("The law requires it to be kept."),
            "until": _("at least %(days)s days; it is never deleted")
            % {"days": facts.audit_retention_days()},
        },
        {
            "what": _("Your consents and their withdrawals"),
            "why": _("They prove what you agreed to and when."),
            "until": _("%(days)s days after a later choice replaces each")
            % {"days": facts.consent_retention_days()},
        },
        {
            "what": _("Premium quotes you asked for"),
            "why": _(
                "They were never stored with your identity: only the area, the size of the "
                "family and the age bands, for the plan's totals."
            ),
            "until": _("kept for the plan's totals"),
        },
    ]
    if user is not None and _user_emails(user, user.email).exists():
        kept.append(
            {
                "what": _(
                    "A line for each e-mail Haven sent you: its date, kind and whether it was "
                    "delivered, without your address, the subject or the text"
                ),
                "why": _("It shows that the notices the law requires were sent."),
                "until": _("%(days)s days after sending") % {"days": facts.mail_keep_days()},
            }
        )
    if user is not None and _email_refusals(user):
        kept.append(
            {
                "what": _(
                    "Your refusals of optional e-mail, as a keyed fingerprint of your address "
                    "(not the address itself)"
                ),
                "why": _("So that Haven never again sends you what you refused."),
                "until": _("as long as Haven sends e-mail"),
            }
        )
    if member is not None:
        kept.append(
            {
                "what": _("Your enrolment, coverage and claims with the plan"),
                "why": _(
                    "Health plans must keep them (HIPAA documentation, tax and insurance law)."
                ),
                "until": _("%(days)s days") % {"days": facts.audit_retention_days()},
            }
        )
        from haven.messaging.models import Conversation
        from haven.privacy.retention import held

        conversations = Conversation.objects.filter(member=member)
        # A conversation's own flag, or a legal hold on the member (LOG-5).
        if conversations.filter(legal_hold=True).exists() or (
            conversations.exists() and member.pk in held(RetentionCategory.MESSAGES)[0]
        ):
            kept.append(
                {
                    "what": _("Secure messages under a legal hold"),
                    "why": _("A legal hold keeps them until it is lifted."),
                    "until": _("until the hold is lifted"),
                }
            )
        if conversations.exists():
            kept.append(
                {
                    "what": _("Secure messages with your care team and member services"),
                    "why": _("They are part of your medical and plan record."),
                    "until": _("%(days)s days after each conversation closed")
                    % {"days": facts.message_retention_days()},
                }
            )
    appointments = _appointments_of(user, member) if user is not None else None
    if appointments is not None and appointments.exists():
        if member is not None:
            kept.append(
                {
                    "what": _("Appointments booked through Haven, with their reasons"),
                    "why": _("They are part of your plan record, like your claims."),
                    "until": _("%(days)s days") % {"days": facts.audit_retention_days()},
                }
            )
        else:
            kept.append(
                {
                    "what": _(
                        "The time and practice of each appointment you booked, without the "
                        "reason or what you shared; upcoming ones are cancelled"
                    ),
                    "why": _("The practice's schedule must show the appointment and its end."),
                    "until": _("as long as the practice's schedule"),
                }
            )
        practices = sorted(
            {
                appointment.practitioner.display_name
                for appointment in appointments.exclude(shared=[]).select_related("practitioner")
            }
        )
        if practices and member is None:
            kept.append(
                {
                    "what": _("What you shared with practices when booking: %(practices)s")
                    % {"practices": ", ".join(practices)},
                    "why": _("Each practice holds its own copy; ask it directly."),
                    "until": _("as each practice keeps it"),
                }
            )
    if member is not None:
        shared = sorted({entry.recipient for entry in accounting_for(member)})
        if shared:
            kept.append(
                {
                    "what": _("Data already shared with: %(recipients)s")
                    % {"recipients": ", ".join(shared)},
                    "why": _("Haven cannot erase copies others hold; ask them directly."),
                    "until": _("as each recipient keeps it"),
                }
            )
    if user is not None:
        from haven.fhir.models import Authorisation

        if Authorisation.objects.filter(user=user).exists():
            kept.append(
                {
                    "what": _(
                        "Which apps you allowed to read a record, with the dates and what they "
                        "could read; every app loses its access at the deletion"
                    ),
                    "why": _("It is part of the accounting of who received your data."),
                    "until": _("%(days)s days") % {"days": facts.audit_retention_days()},
                }
            )
        from haven.plans.models import Application

        applications = Application.objects.filter(submitted_by=user)
        if user.kind == User.Kind.PRODUCER:
            if applications.exists():
                kept.append(
                    {
                        "what": _("Applications for coverage you sent for your clients"),
                        "why": _("They belong to your clients' files, not to your account."),
                        "until": _("%(days)s days") % {"days": facts.audit_retention_days()},
                    }
                )
        elif applications.exclude(status=Application.Status.SUBMITTED).exists():
            kept.append(
                {
                    "what": _("Your applications for coverage that were already decided"),
                    "why": _("Insurance law requires the plan to keep its decisions."),
                    "until": _("%(days)s days") % {"days": facts.audit_retention_days()},
                }
            )
    return [{key: str(value) for key, value in item.items()} for item in kept]


def _email_refusals(user: User) -> bool:
    from haven.mail.models import OptOut, address_hash

    refusals = OptOut.objects.filter(user=user)
    if user.email:
        refusals = refusals | OptOut.objects.filter(address_hash=address_hash(user.email))
    return refusals.exists()


def _erase_notifications(user: User, erased: list[str]) -> None:
    """The browsers push went to, the numbers texts went to, and how the person chose to hear."""
    from haven.messaging.models import NotificationPreference, OutgoingText, PushDevice

    if PushDevice.objects.filter(user=user).delete()[0]:
        erased.append("messaging.PushDevice (all)")
    texts = OutgoingText.objects.filter(notification__user=user).exclude(to_number="")
    if texts.update(to_number=""):
        erased.append("messaging.OutgoingText.to_number")
    if NotificationPreference.objects.filter(user=user).delete()[0]:
        erased.append("messaging.NotificationPreference")


def _erase_mail(user: User, address: str, erased: list[str]) -> None:
    """Outbox e-mails lose their address, subject and text (mail still waiting is not sent);
    refusals of optional e-mail stay, as the address's keyed hash only."""
    from haven.mail.models import EmailPreference, EmailStatus, OptOut, address_hash

    emails = _user_emails(user, address)
    emails.filter(status__in=[EmailStatus.QUEUED, EmailStatus.SENDING]).update(
        status=EmailStatus.SUPPRESSED, last_error="account erased"
    )
    blank = {"to_address": "", "subject": "", "text_body": "", "html_body": "", "headers": {}}
    if emails.update(user=None, tracking_token=None, **blank):
        erased += [f"mail.OutgoingEmail.{name}" for name in ERASED_EMAIL_FIELDS]
    own = OptOut.objects.filter(user=user)
    if address:
        hashed = address_hash(address)
        for category in own.values_list("category", flat=True):
            OptOut.objects.get_or_create(
                address_hash=hashed,
                category=category,
                defaults={"source": OptOut.Source.SUPPORT},
            )
    if own.delete()[0]:
        erased.append("mail.OptOut.user (kept as the address's keyed hash)")
    OptOut.objects.filter(actor=user).update(actor=None)
    if EmailPreference.objects.filter(user=user).delete()[0]:
        erased.append("mail.EmailPreference (all)")


def _erase_care(user: User, member: Member | None, actor: User | None, erased: list[str]) -> None:
    """Booking preferences, invitations (and their e-mails' words) and reviews go; a consumer's
    appointments keep their time and practice but lose the reason and the copy shared; upcoming
    ones are cancelled so the practice sees it. A member's appointments are part of the plan
    record and stay; reminders to this account stop."""
    if not _care_installed():
        return
    from haven.care.models import (
        AppointmentEvent,
        AppointmentStatus,
        BookingPreference,
        Invitation,
        Reminder,
        Review,
    )
    from haven.care.services import review_delete
    from haven.mail.models import OutgoingEmail

    if BookingPreference.objects.filter(user=user).delete()[0]:
        erased.append("care.BookingPreference (all)")
    invitations = Invitation.objects.filter(inviter=user)
    email_ids = [pk for pk in invitations.values_list("email_id", flat=True) if pk]
    OutgoingEmail.objects.filter(pk__in=email_ids, status="queued").update(
        status="suppressed", last_error="account erased"
    )
    OutgoingEmail.objects.filter(pk__in=email_ids).update(
        to_address="", subject="", text_body="", html_body="", headers={}, tracking_token=None
    )
    if invitations.delete()[0]:
        erased.append("care.Invitation (all, with the invitations' e-mails)")
    reviews = list(Review.objects.filter(author=user))
    for review in reviews:
        review_delete(review=review, actor=user)
    if reviews:
        erased.append("care.Review (all)")
    appointments = _appointments_of(user, member)
    Reminder.objects.filter(
        appointment__in=appointments.model.objects.filter(booked_by=user),
        status=Reminder.Status.PENDING,
    ).update(status=Reminder.Status.WITHDRAWN)
    if member is not None:
        return
    now = timezone.now()
    upcoming = appointments.filter(
        status__in=[AppointmentStatus.REQUESTED, AppointmentStatus.CONFIRMED],
        slot__starts_at__gt=now,
    )
    for pk in list(upcoming.values_list("pk", flat=True)):
        AppointmentEvent.objects.create(
            appointment_id=pk, what=AppointmentEvent.What.CANCELLED, actor=actor, at=now
        )
    upcoming.update(status=AppointmentStatus.CANCELLED, updated_at=now)
    if appointments.exclude(reason_sealed=b"", shared_sealed=b"").update(
        reason_sealed=b"", shared_sealed=b"", updated_at=now
    ):
        erased += ["care.Appointment.reason", "care.Appointment.shared (the practice's copy)"]


def _erase_apps_and_plans(user: User, actor: User | None, erased: list[str]) -> None:
    """Every app the account connected loses its access (tokens and codes deleted, the
    authorisation revoked and kept for the accounting); applications still waiting are
    withdrawn and deleted; quotes lose the producer's name."""
    from oauth2_provider.models import AccessToken, Grant, IDToken, RefreshToken

    from haven.fhir.models import Authorisation
    from haven.plans.models import Application, Quote

    if Authorisation.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=actor
    ):
        erased.append("fhir.Authorisation (revoked)")
    deleted = 0
    for model in (RefreshToken, AccessToken, IDToken, Grant):
        deleted += model.objects.filter(user=user).delete()[0]
    if deleted:
        erased.append("oauth2_provider tokens and grants (all)")
    waiting = Application.objects.filter(submitted_by=user, status=Application.Status.SUBMITTED)
    if user.kind != User.Kind.PRODUCER and waiting.delete()[0]:
        erased.append("plans.Application (waiting for review, with its people)")
    if Quote.objects.filter(producer=user).update(producer=None):
        erased.append("plans.Quote.producer")


class AccountHeld(ValidationError):
    """An erasure refused because a legal hold covers the person: the request stays open."""


def _refuse_if_held(user: User, member: Member | None) -> None:
    from haven.privacy.retention import holds_covering

    hold = holds_covering(account=user, member=member).select_related("placed_by").first()
    if hold is not None:
        raise AccountHeld(
            _(
                "A legal hold placed on %(date)s covers this person (%(reason)s): their data "
                "cannot be erased while it stands. The request stays open; carry it out once "
                "the hold is lifted."
            )
            % {"date": timezone.localdate(hold.placed_at).isoformat(), "reason": hold.reason},
            code="held",
        )


@transaction.atomic
def account_erase(*, request: RightsRequest, actor: User) -> Erasure:
    """Carry out a deletion request: erase the account (`account_data_erase`), unless a legal
    hold covers the person (LOG-5), then complete the request."""
    _require_officer(actor)
    request = RightsRequest.objects.select_for_update().get(pk=request.pk)
    if request.kind != RequestKind.DELETION or not request.is_open:
        raise ValidationError(_("This request is not waiting for a deletion."), code="closed")
    user = request.requester
    _refuse_if_held(user, request.member or user.member)
    erasure = account_data_erase(
        account=user,
        member=request.member,
        cause=Erasure.Cause.REQUEST,
        request=request,
        actor=actor,
    )
    request.status, request.completed_at, request.decided_by = (
        RequestStatus.COMPLETED,
        timezone.now(),
        actor,
    )
    request.save(update_fields=["status", "completed_at", "decided_by"])
    _event(request, "erased", actor=actor)
    return erasure


def closed_account_erase(*, account: User, cutoff: datetime) -> Erasure | None:
    """The retention run's erasure of one account closed before `cutoff` (LOG-5): as a deletion
    request erases it, with no request and no person acting. None when, by the time its row is
    locked, the account is no longer due (reopened, already erased) or a legal hold covers it."""
    with transaction.atomic():
        account = User.objects.select_for_update().get(pk=account.pk)
        if account.closed_at is None or account.closed_at >= cutoff:
            return None
        if Erasure.objects.filter(account=account).exists():
            return None
        try:
            _refuse_if_held(account, account.member)
        except AccountHeld:
            return None
        return account_data_erase(
            account=account, member=account.member, cause=Erasure.Cause.CLOSED_ACCOUNT
        )


@transaction.atomic
def account_data_erase(
    *,
    account: User,
    member: Member | None,
    cause: str,
    request: RightsRequest | None = None,
    actor: User | None = None,
) -> Erasure:
    """The one erasure of an account, for a deletion request and for the retention run alike:
    erase or de-identify its personal data, record each field erased and what remains, and
    close it; the roster and the trail stay as the law requires. Callers check legal holds."""
    user = User.objects.select_for_update().get(pk=account.pk)
    kept = what_remains(user, member)
    address = user.email
    erased = []
    for name in ERASED_USER_FIELDS:
        if getattr(user, name):
            erased.append(f"accounts.User.{name}")
    user.first_name = user.last_name = user.preferred_name = user.email = user.phone = ""
    user.username = f"erased-{user.pk}"
    user.set_unusable_password()
    user.is_active = False
    if user.closed_at is None:
        user.closed_at, user.closed_by = timezone.now(), actor
    if user.closed_reason:
        # Written by member services when they closed it; it may name the person.
        erased.append("accounts.User.closed_reason")
        user.closed_reason = ""
    user.save()
    from django.contrib.sessions.models import Session

    from haven.accounts.models import ConsumerProfile, UserSession

    keys = list(UserSession.objects.filter(user=user).values_list("session_key", flat=True))
    Session.objects.filter(session_key__in=keys).delete()
    if UserSession.objects.filter(user=user).delete()[0]:
        erased.append("accounts.UserSession (all)")
    profile = ConsumerProfile.objects.filter(user=user).first()
    if profile is not None:
        erased += [
            f"accounts.ConsumerProfile.{name}"
            for name in ("address_line", "city", "region", "postal_code")
        ]
        profile.delete()
    if ContactChoice.objects.filter(user=user).delete()[0]:
        erased.append("privacy.ContactChoice (all)")
    if LocationPermission.objects.filter(user=user).delete()[0]:
        erased.append("privacy.LocationPermission (all)")
    if PrintedCopyRequest.objects.filter(user=user).exclude(address="").update(address=""):
        erased.append("privacy.PrintedCopyRequest.address")
    if Inquiry.objects.filter(user=user).update(name="", email="", message=""):
        erased += ["privacy.Inquiry.name", "privacy.Inquiry.email", "privacy.Inquiry.message"]
    Archive.objects.filter(request__requester=user).update(
        status=Archive.Status.EXPIRED, content_sealed=b"", wrapped_key=b"", kek_id=""
    )
    _erase_mail(user, address, erased)
    _erase_notifications(user, erased)
    _erase_care(user, member, actor, erased)
    _erase_apps_and_plans(user, actor, erased)
    return Erasure.objects.create(
        account=user,
        cause=cause,
        request=request,
        erased_fields=erased,
        kept=kept,
        erased_by=actor,
    )


# --- Contact with the privacy officer (RIG-5) -----------------------------------------------


@transaction.atomic
def inquiry_create(*, name: str, email: str, message: str, user: User | None) -> Inquiry:
    return Inquiry.objects.create(
        name=name.strip(), email=email.strip(), message=message.strip(), user=user
    )


@transaction.atomic
def inquiry_answered(*, inquiry: Inquiry, actor: User) -> Inquiry:
    _require_officer(actor)
    if inquiry.answered_at is None:
        inquiry.answered_at, inquiry.answered_by = timezone.now(), actor
        inquiry.save(update_fields=["answered_at", "answered_by"])
    return inquiry


# --- Breach register (RIG-6) ---------------------------------------------------------------


@transaction.atomic
def incident_create(
    *,
    title: str,
    description: str,
    member_message: str,
    discovered_at: datetime,
    occurred_from: datetime | None,
    occurred_to: datetime | None,
    actor: User,
) -> Incident:
    """Record an incident; the legal deadline to notify runs from its discovery."""
    _require_officer(actor)
    if discovered_at > timezone.now():
        raise ValidationError(_("The discovery cannot be in the future."), code="discovered_at")
    return Incident.objects.create(
        title=title.strip(),
        description=description.strip(),
        member_message=member_message.strip(),
        discovered_at=discovered_at,
        occurred_from=occurred_from,
        occurred_to=occurred_to,
        notify_by=timezone.localdate(discovered_at) + timedelta(days=facts.breach_notice_days()),
        recorded_by=actor,
    )


def members_read_by(staff: User, start: datetime, end: datetime):
    """Everyone whose record this account opened between two times (from the audit trail)."""
    member_ids = (
        AuditEvent.objects.filter(
            actor=staff,
            outcome=Outcome.ALLOWED,
            recorded_at__gte=start,
            recorded_at__lt=end,
            member__isnull=False,
        )
        .exclude(type=EventType.TRAIL)
        .values("member")
    )
    return Member.objects.filter(pk__in=member_ids)


@transaction.atomic
def incident_select(*, incident: Incident, members, how: str, actor: User) -> int:
    """Add affected members (a query over the audit trail, or a list); returns how many new."""
    _require_officer(actor)
    if incident.notified_at is not None:
        raise ValidationError(_("This incident's notification has already gone out."))
    existing = set(incident.affected.values_list("member_id", flat=True))
    new = [
        AffectedMember(incident=incident, member=member, how_selected=how[:200])
        for member in members
        if member.pk not in existing
    ]
    AffectedMember.objects.bulk_create(new)
    return len(new)


def members_by_member_id(text: str) -> tuple[list[Member], list[str]]:
    """Members listed by member ID, one per line or comma; and the IDs not on the roster."""
    wanted = [item.strip() for item in text.replace(",", "\n").splitlines() if item.strip()]
    found = {member.member_id: member for member in Member.objects.filter(member_id__in=wanted)}
    return list(found.values()), [item for item in wanted if item not in found]


@transaction.atomic
def incident_notify(*, incident: Incident, actor: User) -> Incident:
    """Start notifying every affected member, in the background (progress on the page)."""
    from haven.privacy.tasks import notify_incident

    _require_officer(actor)
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if not incident.affected.exists():
        raise ValidationError(_("Select the affected members first."), code="empty")
    if incident.status != Incident.Status.OPEN:
        raise ValidationError(_("Notification has already started."), code="started")
    incident.status = Incident.Status.NOTIFYING
    incident.total = incident.affected.count()
    incident.save(update_fields=["status", "total"])
    notify_incident.enqueue(incident.pk)
    return incident


def _incident_email(user: User, incident: Incident) -> None:
    from haven.mail.services import outbox_enqueue

    with translation.override(_language(user)):
        context = {
            "url": settings.SITE_URL.rstrip("/")
            + reverse("privacy:incident_notice", kwargs={"pk": incident.pk}),
            "site_name": settings.SITE_NAME,
            "officer": facts.privacy_officer(),
        }
        subject = render_to_string("privacy/email/incident_subject.txt", context).strip()
        body = render_to_string("privacy/email/incident.txt", context)
    outbox_enqueue(
        to_address=user.email,
        subject=subject,
        text_body=body,
        category="required_notice",
        user=user,
        reason="breach notification",
        idempotency_key=f"privacy-incident:{incident.pk}:{user.pk}",
    )


def incident_notify_run(*, incident_id: int) -> int:
    """The worker: each affected member by e-mail where they take notices by e-mail, in the
    portal always, and by post where they have no e-mail (a letter in the print queue)."""
    incident = Incident.objects.get(pk=incident_id)
    done = 0
    pending = incident.affected.filter(notified_at__isnull=True).select_related("member")
    for affected in pending.iterator(chunk_size=200):
        with transaction.atomic():
            channels = ["portal"]
            user = User.objects.filter(member=affected.member, is_active=True).first()
            if user and user.email and may_contact(user, Channel.EMAIL, Kind.PLAN_NOTICES):
                _incident_email(user, incident)
                channels.append("email")
            else:
                channels.append("post")
            AffectedMember.objects.filter(pk=affected.pk).update(
                notified_at=timezone.now(), channels=channels
            )
        done += 1
        if done % 50 == 0:
            Incident.objects.filter(pk=incident.pk).update(done=F("done") + 50)
    Incident.objects.filter(pk=incident.pk).update(
        done=incident.affected.filter(notified_at__isnull=False).count(),
        status=Incident.Status.NOTIFIED,
        notified_at=timezone.now(),
    )
    return done


def incidents_for(member: Member | None):
    if member is None:
        return AffectedMember.objects.none()
    return (
        AffectedMember.objects.filter(member=member, notified_at__isnull=False)
        .select_related("incident")
        .order_by("-notified_at")
    )


@transaction.atomic
def incident_seen(*, affected: AffectedMember) -> None:
    AffectedMember.objects.filter(pk=affected.pk, seen_at__isnull=True).update(
        seen_at=timezone.now()
    )
