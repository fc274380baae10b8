"""The health library and health programmes (PLAN-5).

Articles and programmes are written by staff, each in English, Spanish and Italian: one row per
language beside the article or programme, the member's language shown, English when it is missing.
Nothing records which article anyone reads.

A programme is data (its texts, its tips and its questions), so further programmes need no code.
An enrolment says something about a member's health (that they smoke, say): it is theirs alone.
No staff page reads it; staff see only counts with small groups suppressed (LOG-3), and leaving
the programme deletes the enrolment with everything sent and answered under it.
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

DEFAULT_LANGUAGE = "en"


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


def in_language(texts, language: str):
    """The text in this language, or the English one, or None (texts: rows with `language`)."""
    by_language = {text.language: text for text in texts}
    return by_language.get(language) or by_language.get(DEFAULT_LANGUAGE)


class Article(models.Model):
    slug = models.SlugField(_("address"), max_length=80, unique=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.DRAFT
    )
    public = models.BooleanField(
        _("visitors may read it"),
        default=False,
        help_text=_("Off: only people who have signed in see it."),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-published_at", "slug"]
        permissions = [("edit_content", "Can write the health library and programmes")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=Status.values), name="article_status_known"
            )
        ]

    def __str__(self) -> str:
        return self.slug

    def text_in(self, language: str) -> "ArticleText | None":
        return in_language(self.texts.all(), language)


class ArticleText(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="texts")
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    title = models.CharField(_("title"), max_length=200)
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    body = models.TextField(_("text"), help_text=_("Plain text; a blank line starts a paragraph."))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["article", "language"], name="article_text_once")
        ]

    def __str__(self) -> str:
        return self.title


class Programme(models.Model):
    slug = models.SlugField(_("address"), max_length=80, unique=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.DRAFT
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=Status.values), name="programme_status_known"
            )
        ]

    def __str__(self) -> str:
        return self.slug

    def text_in(self, language: str) -> "ProgrammeText | None":
        return in_language(self.texts.all(), language)


class ProgrammeText(models.Model):
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="texts")
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    title = models.CharField(_("title"), max_length=200)
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    body = models.TextField(_("text"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["programme", "language"], name="programme_text_once")
        ]

    def __str__(self) -> str:
        return self.title


class ItemKind(models.TextChoices):
    TIP = "tip", _("Reminder")
    QUESTION = "question", _("Question")


class Item(models.Model):
    """One tip that a reminder shows, or one question of the programme's questionnaire."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(_("kind"), max_length=12, choices=ItemKind.choices)
    position = models.PositiveSmallIntegerField(_("position"))

    class Meta:
        ordering = ["programme", "kind", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "kind", "position"], name="programme_item_position_once"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=ItemKind.values), name="programme_item_kind_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.programme.slug} {self.kind} {self.position}"

    def text_in(self, language: str) -> str:
        text = in_language(self.texts.all(), language)
        return text.text if text else ""


class ItemText(models.Model):
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="texts")
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    text = models.TextField(_("text"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "language"], name="item_text_once")]

    def __str__(self) -> str:
        return f"{self.item} ({self.language})"


class Frequency(models.TextChoices):
    NONE = "none", _("Never")
    WEEKLY = "weekly", _("Once a week")
    DAILY = "daily", _("Every day")


PERIODS = {Frequency.WEEKLY: timedelta(days=7), Frequency.DAILY: timedelta(days=1)}


class Enrolment(models.Model):
    """A member's place in a programme, with what they chose to receive and how."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="enrolments")
    # Names this enrolment in outbox keys: a later enrolment never reuses an earlier one's.
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    reminders = models.CharField(
        _("reminders"), max_length=8, choices=Frequency.choices, default=Frequency.WEEKLY
    )
    questionnaires = models.CharField(
        _("questionnaires"), max_length=8, choices=Frequency.choices, default=Frequency.WEEKLY
    )
    # Channels (privacy's Channel values) the member chose besides their Haven page.
    channels = models.JSONField(_("channels"), default=list, blank=True)
    next_reminder_at = models.DateTimeField(null=True, blank=True)
    next_questionnaire_at = models.DateTimeField(null=True, blank=True)
    next_tip = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "programme"], name="enrolment_once"),
            models.CheckConstraint(
                condition=models.Q(reminders__in=Frequency.values), name="enrolment_reminders_known"
            ),
            models.CheckConstraint(
                condition=models.Q(questionnaires__in=Frequency.values),
                name="enrolment_questionnaires_known",
            ),
        ]

    def __str__(self) -> str:
        return f"enrolment {self.pk}"


class DeliveryKind(models.TextChoices):
    REMINDER = "reminder", _("Reminder")
    QUESTIONNAIRE = "questionnaire", _("Questionnaire")


class EmailOutcome(models.TextChoices):
    NOT_CHOSEN = "not_chosen", _("Not chosen")
    SENT = "sent", _("E-mail sent")
    NOT_ACCEPTED = "not_accepted", _("Not sent: not accepted in your privacy preferences")
    NO_ADDRESS = "no_address", _("Not sent: no e-mail address")


class Delivery(models.Model):
    """One reminder or questionnaire, shown on the member's page and perhaps announced by e-mail."""

    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="deliveries")
    kind = models.CharField(max_length=16, choices=DeliveryKind.choices)
    item = models.ForeignKey(
        Item, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    due_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    email = models.CharField(
        max_length=16, choices=EmailOutcome.choices, default=EmailOutcome.NOT_CHOSEN
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-due_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "kind", "due_at"], name="delivery_once"),
            models.CheckConstraint(
                condition=models.Q(kind__in=DeliveryKind.values), name="delivery_kind_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.pk}"


class Answer(models.Model):
    """The member's answer to one question of a questionnaire: a number from 0 to 100."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="answers")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="+")
    value = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["delivery", "item"], name="answer_once"),
            models.CheckConstraint(condition=models.Q(value__lte=100), name="answer_in_range"),
        ]

    def __str__(self) -> str:
        return f"answer {self.pk}"
