from django import forms
from django.contrib.auth import authenticate
from django.utils.translation import gettext_lazy as _

from haven.accounts import signin
from haven.accounts.models import User
from haven.support.services import online_access_blocked


class SignInForm(forms.Form):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    error_messages = {
        "invalid": _(
            "That username and password do not match an account we can sign in. "
            "Check them and try again."
        ),
        "slow": _("Too many attempts. Wait %(seconds)s seconds, then try again."),
        "blocked": _(
            "Online access to this account is blocked at your request. "
            "Call member services to lift the block."
        ),
    }

    def __init__(self, request, *args, **kwargs):
        self.request = request
        self.user: User | None = None
        super().__init__(*args, **kwargs)

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if not username or not password:
            return self.cleaned_data
        wait = signin.seconds_to_wait(username)
        if wait:
            raise forms.ValidationError(
                self.error_messages["slow"], code="slow", params={"seconds": wait}
            )
        user = authenticate(self.request, username=username, password=password)
        if user is None:
            signin.record_failure(username)
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        signin.forget_failures(username)
        if online_access_blocked(user):
            raise forms.ValidationError(self.error_messages["blocked"], code="blocked")
        self.user = user
        return self.cleaned_data


class SecondFactorForm(forms.Form):
    otp_token = forms.CharField(
        label=_("Six-digit code from your authenticator app"),
        min_length=6,
        max_length=6,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9]{6}"}
        ),
    )

    def __init__(self, device, *args, **kwargs):
        self.device = device
        super().__init__(*args, **kwargs)

    def clean_otp_token(self):
        token = self.cleaned_data["otp_token"]
        if not token.isdigit() or not self.device.verify_token(token):
            raise forms.ValidationError(
                _("That code is not right or has expired. Enter the code your app shows now."),
                code="invalid",
            )
        return token


class PasswordConfirmForm(forms.Form):
    """Asks for the password again before a sensitive change."""

    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, user: User, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("That is not your current password."), code="invalid")
        return password
