from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from haven.library.models import Article, Frequency, ItemKind, Status
from haven.library.services import CHANNELS
from haven.privacy.models import Channel


class ArticleForm(forms.ModelForm):
    class Meta:
        model = Article
        fields = ["slug", "status", "public"]


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("status"), choices=Status.choices)


class TextForm(forms.Form):
    """One language version; only English is required (the others fall back to it)."""

    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    summary = forms.CharField(label=_("Summary"), max_length=300, required=False)
    body = forms.CharField(
        label=_("Text"), widget=forms.Textarea(attrs={"rows": 8}), required=False
    )

    def __init__(self, *args, language: str, **kwargs):
        kwargs.setdefault("prefix", language)
        super().__init__(*args, **kwargs)
        self.language = language
        self.language_name = dict(settings.LANGUAGES)[language]
        if language == settings.LANGUAGE_CODE:
            self.fields["title"].required = True
            self.fields["body"].required = True

    def clean(self):
        data = super().clean()
        if data.get("title") and not data.get("body"):
            self.add_error(
                "body", _("Write the text, or leave the title empty to drop this language.")
            )
        return data


def text_forms(data=None, texts=None) -> list[TextForm]:
    by_language = {text.language: text for text in texts or []}
    return [
        TextForm(
            data,
            language=code,
            initial=(
                {
                    "title": by_language[code].title,
                    "summary": by_language[code].summary,
                    "body": by_language[code].body,
                }
                if code in by_language
                else None
            ),
        )
        for code, _name in settings.LANGUAGES
    ]


class EnrolForm(forms.Form):
    reminders = forms.ChoiceField(
        label=_("Reminders with a tip"),
        choices=Frequency.choices,
        initial=Frequency.WEEKLY,
        widget=forms.RadioSelect,
    )
    questionnaires = forms.ChoiceField(
        label=_("Short questionnaires on your progress"),
        choices=Frequency.choices,
        initial=Frequency.WEEKLY,
        widget=forms.RadioSelect,
    )
    channels = forms.MultipleChoiceField(
        label=_("Also tell me by"),
        choices=[(channel, Channel(channel).label) for channel in CHANNELS],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "They always wait for you on your page in Haven. An e-mail only says that something "
            "is waiting, never what, and goes only if your privacy preferences allow it."
        ),
    )


class AnswerForm(forms.Form):
    def __init__(self, *args, questions, language: str, **kwargs):
        super().__init__(*args, **kwargs)
        for item in questions:
            self.fields[f"q{item.pk}"] = forms.IntegerField(
                label=item.text_in(language), min_value=0, max_value=100
            )

    def values(self) -> dict[int, int]:
        return {int(name[1:]): value for name, value in self.cleaned_data.items()}


class ItemForm(forms.Form):
    """A tip or a question in each language; English required."""

    kind = forms.ChoiceField(label=_("Kind"), choices=ItemKind.choices)

    def __init__(self, *args, new: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not new:
            del self.fields["kind"]
        for code, name in settings.LANGUAGES:
            self.fields[code] = forms.CharField(
                label=name,
                widget=forms.Textarea(attrs={"rows": 3, "lang": code}),
                required=code == settings.LANGUAGE_CODE,
            )

    def texts(self) -> dict[str, str]:
        return {code: self.cleaned_data.get(code, "") for code, _name in settings.LANGUAGES}
