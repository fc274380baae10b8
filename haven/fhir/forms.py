"""The staff page's form to register an app (it then waits for approval)."""

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from haven.fhir.oauth import SCOPES


class AppRegistrationForm(forms.Form):
    name = forms.CharField(label=_("App name"), max_length=255)
    developer = forms.CharField(label=_("Developer"), max_length=200)
    redirect_uris = forms.CharField(
        label=_("Redirect addresses"),
        help_text=_("One complete https address per line; the app must use one of them exactly."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    scopes = forms.MultipleChoiceField(
        label=_("What the app may ask members for"),
        choices=[(name, format_lazy("{}: {}", name, text)) for name, text in SCOPES.items()],
        widget=forms.CheckboxSelectMultiple,
    )
    privacy_policy_url = forms.URLField(
        label=_("Privacy policy address"), required=False, assume_scheme="https"
    )
    privacy_practices = forms.CharField(
        label=_("What the developer declares about its privacy practices"),
        help_text=_("Shown to members, in the developer's words, before they approve."),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
    )
    confidential = forms.BooleanField(
        label=_("Confidential app (a server that keeps a client secret)"), required=False
    )

    def clean_redirect_uris(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["redirect_uris"].splitlines() if line]
