import uuid

from django import forms
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from haven.accounts.models import User
from haven.mail.models import OPTIONAL, Category

OPTIONAL_CHOICES = [(category.value, category.label) for category in OPTIONAL]


class PortalSignInForm(forms.Form):
    address = forms.EmailField(label=_("Your e-mail address"), max_length=254)
    password = forms.CharField(
        label=_("Portal password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class PortalPasswordForm(forms.Form):
    password = forms.CharField(
        label=_("Portal password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class PortalNewPasswordForm(forms.Form):
    """First access and reset: a new password, typed twice."""

    password1 = forms.CharField(
        label=_("New password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 10 characters; not a common password and not only numbers."),
    )
    password2 = forms.CharField(
        label=_("New password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords are not the same."))
        if first:
            try:
                password_validation.validate_password(first)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class SendKeyMixin(forms.Form):
    # A double submit carries the same key, so the message is sent once (as in the message center).
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)


class PortalReplyForm(SendKeyMixin):
    body = forms.CharField(
        label=_("Your reply"), widget=forms.Textarea(attrs={"rows": 6}), max_length=20000
    )
    send_copy = forms.BooleanField(label=_("Send me a copy by e-mail"), required=False)
    copy_warning_accepted = forms.BooleanField(
        label=_("I understand that the copy travels as ordinary e-mail and is not secure"),
        required=False,
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("send_copy") and not cleaned.get("copy_warning_accepted"):
            self.add_error(
                "copy_warning_accepted",
                _("To get a copy by e-mail, confirm that you understand the copy is not secure."),
            )
        return cleaned


class PortalResetRequestForm(forms.Form):
    address = forms.EmailField(label=_("Your e-mail address"), max_length=254)


class SecureComposeForm(SendKeyMixin):
    to_address = forms.EmailField(label=_("Recipient's e-mail address"), max_length=254)
    subject = forms.CharField(
        label=_("Subject"),
        max_length=200,
        help_text=_("Seen only in the portal; the notification e-mail never shows it."),
    )
    body = forms.CharField(
        label=_("Message"), widget=forms.Textarea(attrs={"rows": 8}), max_length=20000
    )


class SecureReplyForm(SendKeyMixin):
    body = forms.CharField(
        label=_("Your reply"), widget=forms.Textarea(attrs={"rows": 6}), max_length=20000
    )


class SupportOptOutForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150, required=False)
    address = forms.EmailField(label=_("E-mail address"), max_length=254, required=False)
    categories = forms.MultipleChoiceField(
        label=_("Stop these kinds of e-mail"),
        choices=OPTIONAL_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        initial=[category.value for category in OPTIONAL],
    )

    def clean(self):
        cleaned = super().clean()
        username, address = cleaned.get("username", ""), cleaned.get("address", "")
        if not username and not address and not self.errors.get("address"):
            raise forms.ValidationError(_("Give the person's username, their address, or both."))
        if username:
            user = User.objects.filter(username__iexact=username).first()
            if user is None:
                self.add_error("username", _("No account has this username."))
            cleaned["user"] = user
        return cleaned


class PreferencesForm(forms.Form):
    wanted = forms.MultipleChoiceField(
        label=_("E-mail I want to receive"),
        choices=OPTIONAL_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_(
            "E-mail about your registration, answers to your requests and notices the law "
            "requires always come."
        ),
    )
    open_tracking = forms.BooleanField(
        label=_("Let Haven see when I open its e-mail"),
        required=False,
        help_text=_(
            "A tiny image in the e-mail tells Haven that it was opened. It is never linked to "
            "health information. Off unless you turn it on."
        ),
    )


CATEGORY_LABELS = dict(Category.choices)
