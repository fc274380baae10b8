"""Writes of the health library and programmes (PLAN-5).

Staff who write health content: the care team, and any staff member given the permission
`library.edit_content`. Members enrol in a programme, choose reminders, questionnaires and
channels; `send_due` (the `haven library send` command and the `send_due_deliveries` task) puts
each due reminder or questionnaire on the member's page and announces it by e-mail only when the
member chose e-mail here and accepted that kind of message in the privacy center (privacy's
`may_contact`). The e-mail has fixed wording and a link to Haven: nothing about health.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from haven.accounts.models import User
from haven.analytics.suppression import SMALLEST_SHOWN, is_small
from haven.library.models import (
    DEFAULT_LANGUAGE,
    PERIODS,
    Answer,
    Article,
    ArticleText,
    Delivery,
    DeliveryKind,
    EmailOutcome,
    Enrolment,
    Frequency,
    Item,
    ItemKind,
    ItemText,
    Programme,
    ProgrammeText,
    Status,
)
from haven.privacy.models import Channel, Kind
from haven.privacy.services import medical_data_collection_allowed

EDITOR_ROLES = (User.StaffRole.CARE_TEAM,)
EDIT_PERMISSION = "library.edit_content"
# Channels Haven can send programme messages by today; the member's own page always shows them.
CHANNELS = (Channel.EMAIL,)
# What each delivery is, in the privacy center's kinds of message.
KINDS = {
    DeliveryKind.REMINDER: Kind.HEALTH_REMINDERS,
    DeliveryKind.QUESTIONNAIRE: Kind.QUESTIONNAIRES,
}
MAIL_CATEGORY = "reminder"
# Counts below this are shown as "fewer than" (LOG-3).
SMALL_GROUP = SMALLEST_SHOWN  # counts of 1 to 10 people are never shown (LOG-3)
LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]


def can_edit(user: User) -> bool:
    return user.is_authenticated and (
        user.has_staff_role(*EDITOR_ROLES)
        or (user.is_staff_member and user.has_perm(EDIT_PERMISSION))
    )


def _require_editor(actor: User) -> None:
    if not can_edit(actor):
        raise PermissionDenied


def may_enrol(user: User) -> bool:
    return user.is_authenticated and user.kind == User.Kind.MEMBER


# --- The library ---------------------------------------------------------------------------------


def articles_for(user: User):
    """Published articles this person may read: all when signed in, the public ones otherwise."""
    articles = Article.objects.filter(status=Status.PUBLISHED).prefetch_related("texts")
    if not user.is_authenticated:
        articles = articles.filter(public=True)
    return articles


def programmes_published():
    return Programme.objects.filter(status=Status.PUBLISHED).prefetch_related("texts")


def _save_texts(owner, model, field: str, texts: dict[str, dict[str, str]]) -> None:
    if not (texts.get(DEFAULT_LANGUAGE) or {}).get("title"):
        raise ValidationError(
            _("Write the English version: it is shown where a language is missing.")
        )
    for language in LANGUAGE_CODES:
        values = texts.get(language) or {}
        if values.get("title"):
            model.objects.update_or_create(
                **{field: owner, "language": language},
                defaults={name: values.get(name, "") for name in ("title", "summary", "body")},
            )
        else:
            model.objects.filter(**{field: owner, "language": language}).delete()


@transaction.atomic
def article_save(
    *,
    article: Article | None,
    slug: str,
    status: str,
    public: bool,
    texts: dict[str, dict[str, str]],
    actor: User,
) -> Article:
    """Create or change an article with its language versions (a missing title drops a version)."""
    _require_editor(actor)
    if article is None:
        article = Article(author=actor)
    article.slug, article.status, article.public = slug, status, public
    if status == Status.PUBLISHED and article.published_at is None:
        article.published_at = timezone.now()
    article.save()
    _save_texts(article, ArticleText, "article", texts)
    return article


@transaction.atomic
def programme_save(
    *, programme: Programme, status: str, texts: dict[str, dict[str, str]], actor: User
) -> Programme:
    """Change a programme's status and its texts in each language."""
    _require_editor(actor)
    programme.status = status
    programme.save()
    _save_texts(programme, ProgrammeText, "programme", texts)
    return programme


@transaction.atomic
def item_save(
    *,
    programme: Programme,
    item: Item | None,
    kind: str,
    texts: dict[str, str],
    actor: User,
) -> Item:
    """Add a tip or question at the end of its list, or change its texts (English required)."""
    _require_editor(actor)
    if not texts.get(DEFAULT_LANGUAGE):
        raise ValidationError(
            _("Write the English version: it is shown where a language is missing.")
        )
    if item is None:
        if kind not in ItemKind.values:
            raise ValidationError(_("Choose a reminder or a question."))
        last = programme.items.filter(kind=kind).order_by("-position").first()
        item = Item.objects.create(
            programme=programme, kind=kind, position=(last.position + 1) if last else 1
        )
    for language in LANGUAGE_CODES:
        if texts.get(language):
            ItemText.objects.update_or_create(
                item=item, language=language, defaults={"text": texts[language]}
            )
        else:
            ItemText.objects.filter(item=item, language=language).delete()
    return item


# --- Enrolment -----------------------------------------------------------------------------------


def enrolment_of(user: User, programme: Programme) -> Enrolment | None:
    if not user.is_authenticated:
        return None
    return Enrolment.objects.filter(user=user, programme=programme).first()


def _check_choices(reminders: str, questionnaires: str, channels) -> list[str]:
    if reminders not in Frequency.values or questionnaires not in Frequency.values:
        raise ValidationError(_("Choose how often."))
    chosen = sorted({str(channel) for channel in channels})
    if any(channel not in CHANNELS for channel in chosen):
        raise ValidationError(_("Choose among the channels offered."))
    return chosen


def _next(frequency: str, now: datetime) -> datetime | None:
    return now + PERIODS[frequency] if frequency in PERIODS else None


@transaction.atomic
def enrol(
    *,
    user: User,
    programme: Programme,
    reminders: str,
    questionnaires: str,
    channels,
    now: datetime | None = None,
) -> Enrolment:
    """Enrol the member (or change their choices): the first reminder and questionnaire come one
    period after enrolling or changing."""
    if not may_enrol(user) or programme.status != Status.PUBLISHED:
        raise PermissionDenied
    now = now or timezone.now()
    chosen = _check_choices(reminders, questionnaires, channels)
    enrolment = Enrolment.objects.select_for_update().filter(user=user, programme=programme).first()
    if enrolment is None:
        enrolment = Enrolment(user=user, programme=programme, started_at=now)
    if enrolment.pk is None or enrolment.reminders != reminders:
        enrolment.next_reminder_at = _next(reminders, now)
    if enrolment.pk is None or enrolment.questionnaires != questionnaires:
        enrolment.next_questionnaire_at = _next(questionnaires, now)
    enrolment.reminders, enrolment.questionnaires, enrolment.channels = (
        reminders,
        questionnaires,
        chosen,
    )
    enrolment.save()
    return enrolment


def _outbox_key(enrolment: Enrolment, delivery_id: int) -> str:
    # Opaque: the outbox, which staff see, does not say which programme or person it is about.
    digest = hashlib.sha256(f"{enrolment.token}:{delivery_id}".encode()).hexdigest()[:40]
    return f"reminder:{digest}"


@transaction.atomic
def enrolment_leave(*, enrolment: Enrolment, actor: User) -> None:
    """Leave the programme: nothing more is sent, e-mail still waiting in the outbox is withdrawn,
    and the enrolment is deleted with every reminder, questionnaire and answer under it."""
    from haven.mail.models import OutgoingEmail

    if actor.pk != enrolment.user_id:
        raise PermissionDenied
    keys = [_outbox_key(enrolment, pk) for pk in enrolment.deliveries.values_list("pk", flat=True)]
    if keys:
        OutgoingEmail.objects.filter(
            idempotency_key__in=keys, status=OutgoingEmail.Status.QUEUED
        ).update(status=OutgoingEmail.Status.SUPPRESSED, last_error="withdrawn by the member")
    enrolment.delete()


# --- Sending -------------------------------------------------------------------------------------


def channel_allowed(user: User, channel: str, kind: str) -> bool:
    """The privacy center decides (may_contact): this app never keeps its own copy of consent."""
    from haven.privacy.services import may_contact

    return may_contact(user, channel, KINDS[kind])


def _email(enrolment: Enrolment, delivery: Delivery) -> str:
    from haven.mail import links
    from haven.mail.models import address_hash
    from haven.mail.services import outbox_enqueue

    user = enrolment.user
    if Channel.EMAIL not in enrolment.channels:
        return EmailOutcome.NOT_CHOSEN
    if not user.email:
        return EmailOutcome.NO_ADDRESS
    if not channel_allowed(user, Channel.EMAIL, delivery.kind):
        return EmailOutcome.NOT_ACCEPTED
    with translation.override(user.language or settings.LANGUAGE_CODE):
        context = {
            "link": links.site_url(reverse("library:mine")),
            "genuine_url": links.site_url(reverse("mail:genuine")),
            "unsubscribe_url": links.unsubscribe_url(
                address_hash=address_hash(user.email), category=MAIL_CATEGORY
            ),
            "site_name": settings.SITE_NAME,
            "organisation_name": settings.ORGANISATION_NAME,
        }
        subject = _("%(site)s: something is waiting for you") % {"site": settings.SITE_NAME}
        body = render_to_string("library/email/waiting.txt", context)
    email = outbox_enqueue(
        to_address=user.email,
        subject=subject,
        text_body=body.strip() + "\n",
        category=MAIL_CATEGORY,
        user=user,
        reason="a reminder the member chose",
        idempotency_key=_outbox_key(enrolment, delivery.pk),
    )
    # The outbox has the last word: an unsubscribe from reminder e-mail stops questionnaires too.
    if email.status == email.Status.SUPPRESSED:
        return EmailOutcome.NOT_ACCEPTED
    return EmailOutcome.SENT


def _deliver(enrolment: Enrolment, kind: str, due_at: datetime, now: datetime) -> Delivery | None:
    item = None
    if kind == DeliveryKind.REMINDER:
        tips = list(enrolment.programme.items.filter(kind=ItemKind.TIP).order_by("position"))
        if not tips:
            return None
        item = tips[enrolment.next_tip % len(tips)]
        enrolment.next_tip = (enrolment.next_tip + 1) % len(tips)
    elif not enrolment.programme.items.filter(kind=ItemKind.QUESTION).exists():
        return None
    delivery, created = Delivery.objects.get_or_create(
        enrolment=enrolment, kind=kind, due_at=due_at, defaults={"item": item, "created_at": now}
    )
    if created:
        delivery.email = _email(enrolment, delivery)
        delivery.save(update_fields=["email"])
    return delivery


@transaction.atomic
def enrolment_send_due(*, enrolment_id: int, now: datetime | None = None) -> int:
    """Send what is due for one enrolment (one of each kind at most, however late), then move
    each next time on past now. Returns how many were delivered."""
    now = now or timezone.now()
    enrolment = (
        Enrolment.objects.select_for_update()
        .select_related("user", "programme")
        .filter(pk=enrolment_id)
        .first()
    )
    if enrolment is None:
        return 0
    if not enrolment.user.is_active or enrolment.programme.status != Status.PUBLISHED:
        return 0
    sent = 0
    schedule = (
        (DeliveryKind.REMINDER, "next_reminder_at", enrolment.reminders),
        (DeliveryKind.QUESTIONNAIRE, "next_questionnaire_at", enrolment.questionnaires),
    )
    for kind, field, frequency in schedule:
        due_at = getattr(enrolment, field)
        if due_at is None or due_at > now:
            continue
        if frequency not in PERIODS:
            setattr(enrolment, field, None)
            continue
        if _deliver(enrolment, kind, due_at, now) is not None:
            sent += 1
        following = due_at
        while following <= now:
            following += PERIODS[frequency]
        setattr(enrolment, field, following)
    enrolment.save(update_fields=["next_reminder_at", "next_questionnaire_at", "next_tip"])
    return sent


def send_due(now: datetime | None = None) -> int:
    """Send every reminder and questionnaire now due; for cron (`haven library send`) and the task."""
    now = now or timezone.now()
    due = Enrolment.objects.filter(
        Q(next_reminder_at__lte=now) | Q(next_questionnaire_at__lte=now)
    ).values_list("pk", flat=True)
    return sum(enrolment_send_due(enrolment_id=pk, now=now) for pk in list(due))


# --- Questionnaires ------------------------------------------------------------------------------


def questions_of(programme: Programme) -> list[Item]:
    return list(
        programme.items.filter(kind=ItemKind.QUESTION)
        .order_by("position")
        .prefetch_related("texts")
    )


@transaction.atomic
def questionnaire_answer(*, delivery: Delivery, values: dict[int, int], actor: User) -> Delivery:
    """Keep the member's answers (only they see them); answering again replaces them."""
    if delivery.enrolment.user_id != actor.pk or delivery.kind != DeliveryKind.QUESTIONNAIRE:
        raise PermissionDenied
    if actor.member is not None and not medical_data_collection_allowed(actor.member):
        # Answers about one's health are medical data: where consent is their basis (CON-6).
        raise ValidationError(
            _(
                "Your answers are medical data, and the law in force asks for your consent before "
                "Haven keeps them: give it in the privacy center first."
            ),
            code="consent",
        )
    questions = {item.pk: item for item in questions_of(delivery.enrolment.programme)}
    for item_id, value in values.items():
        if item_id not in questions or not 0 <= value <= 100:
            raise ValidationError(_("Answer each question with a number from 0 to 100."))
        Answer.objects.update_or_create(
            delivery=delivery, item=questions[item_id], defaults={"value": value}
        )
    delivery.answered_at = timezone.now()
    delivery.save(update_fields=["answered_at"])
    return delivery


# --- Counts for staff (LOG-3) --------------------------------------------------------------------


@dataclass(frozen=True)
class ProgrammeCount:
    programme: Programme
    enrolled: int | None  # None: a small group, not shown


def enrolment_counts() -> list[ProgrammeCount]:
    """How many members take part in each programme, without anyone's name; small groups hidden."""
    programmes = Programme.objects.annotate(enrolled=Count("enrolments")).prefetch_related("texts")
    return [
        ProgrammeCount(programme, None if is_small(programme.enrolled) else programme.enrolled)
        for programme in programmes
    ]
