from django import forms
from django.contrib.auth.password_validation import (
    password_validators_help_text_html,
    validate_password,
)
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from haven.accounts.models import User
from haven.caregivers.models import SENSITIVE_NEVER_GRANTED, Grant, Scope


class LastDayField(forms.DateField):
    """The last day a grant works; 18 months from today at most."""

    widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

    def validate(self, value):
        super().validate(value)
        if value is None:
            return
        if value < timezone.localdate():
            raise forms.ValidationError(_("The last day cannot be in the past."), code="past")
        limit = Grant.last_day_limit()
        if value > limit:
            raise forms.ValidationError(
                _("Access can be given for 18 months at most; choose %(day)s or earlier."),
                code="too_long",
                params={"day": limit.isoformat()},
            )


class InvitationForm(forms.Form):
    invited_name = forms.CharField(
        label=_("Your caregiver's name"),
        max_length=200,
        help_text=_("So you can recognise this invitation in your list."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    scopes = forms.MultipleChoiceField(
        label=_("Parts of your record they may see and act on"),
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=SENSITIVE_NEVER_GRANTED,
        error_messages={"required": _("Choose at least one part of your record.")},
    )
    last_day = LastDayField(
        label=_("Last day of access"),
        help_text=_("18 months from today at most. You can renew or revoke it at any time."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["last_day"].initial = Grant.last_day_limit()


class RenewForm(forms.Form):
    last_day = LastDayField(
        label=_("New last day of access"),
        help_text=_("18 months from today at most."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["last_day"].initial = Grant.last_day_limit()


class CaregiverAccountForm(forms.Form):
    """A caregiver account created from an invitation: username, password, name and e-mail."""

    first_name = forms.CharField(
        label=_("First name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label=_("Last name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    email = forms.EmailField(
        label=_("E-mail"),
        help_text=_("We only write about your account; never with health information."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        help_text=password_validators_help_text_html,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        User.username_validator(username)
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("That username is taken. Choose another."))
        return username

    def clean(self):
        cleaned = super().clean()
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("The two passwords are not the same."))
        elif password1:
            candidate = User(
                username=cleaned.get("username", ""),
                first_name=cleaned.get("first_name", ""),
                last_name=cleaned.get("last_name", ""),
                email=cleaned.get("email", ""),
            )
            try:
                validate_password(password1, candidate)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned
