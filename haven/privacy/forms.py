from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from haven.accounts.models import User
from haven.audit.access import purposes_for
from haven.privacy.models import (
    Channel,
    DisclosurePurpose,
    Incident,
    Kind,
    LocationPermission,
    Recipient,
)
from haven.privacy.services import CORRECTABLE


def cell_name(channel: str, kind: str) -> str:
    return f"{kind}__{channel}"


class PreferencesForm(forms.Form):
    """The grid of kinds of message by channel, and the preferred name (CON-1)."""

    preferred_name = forms.CharField(
        label=_("Preferred name"),
        max_length=100,
        required=False,
        help_text=_("What we call you in messages and on the site."),
    )

    def __init__(self, *args, current: dict, **kwargs):
        super().__init__(*args, **kwargs)
        for kind, kind_label in Kind.choices:
            for channel, channel_label in Channel.choices:
                self.fields[cell_name(channel, kind)] = forms.BooleanField(
                    label=f"{kind_label}: {channel_label}",
                    required=False,
                    initial=current[(channel, kind)],
                )

    def rows(self):
        """The grid as rows of a table: each kind with its bound checkbox per channel."""
        return [
            (label, [self[cell_name(channel, kind)] for channel in Channel.values])
            for kind, label in Kind.choices
        ]

    def choices(self) -> dict[tuple[str, str], bool]:
        return {
            (channel, kind): self.cleaned_data[cell_name(channel, kind)]
            for kind in Kind.values
            for channel in Channel.values
        }


class MarketingForm(forms.Form):
    channels = forms.MultipleChoiceField(
        label=_("You may send me these by"),
        choices=Channel.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    agree = forms.BooleanField(label=_("I agree to the words above."), required=True)


class MedicalDataForm(forms.Form):
    agree = forms.BooleanField(label=_("I agree to the words above."), required=True)


class LocationForm(forms.Form):
    purpose = forms.ChoiceField(choices=LocationPermission.Purpose.choices)


class CookieForm(forms.Form):
    analytics = forms.BooleanField(label=_("Site analytics"), required=False)
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)
    next = forms.CharField(required=False, widget=forms.HiddenInput)


class PrintedCopyForm(forms.Form):
    address = forms.CharField(
        label=_("Postal address"), widget=forms.Textarea(attrs={"rows": 5}), max_length=500
    )
    language = forms.ChoiceField(label=_("Language of the copy"), choices=settings.LANGUAGES)


class ContactForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=200)
    email = forms.EmailField(label=_("Your e-mail address"))
    message = forms.CharField(
        label=_("Your question"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=5000,
        help_text=_("Please do not include health details; we will reply by e-mail."),
    )


class CorrectionForm(forms.Form):
    field = forms.ChoiceField(label=_("What is wrong"))
    proposed_value = forms.CharField(label=_("What it should say"), max_length=200, required=False)
    details = forms.CharField(
        label=_("Anything else we should know"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from haven.plans.models import Member

        self.fields["field"].choices = [("", "---------")] + [
            (name, Member._meta.get_field(name).verbose_name.capitalize()) for name in CORRECTABLE
        ]


class ConfirmForm(forms.Form):
    confirm = forms.BooleanField(label=_("I understand, go ahead."), required=True)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason the member will read"), widget=forms.Textarea(attrs={"rows": 4})
    )


class CorrectionDecisionForm(forms.Form):
    value = forms.CharField(label=_("Corrected value"), max_length=200)
    purpose = forms.ChoiceField(label=_("Why you are changing the record"))

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["purpose"].choices = purposes_for(user)


class DisagreementForm(forms.Form):
    statement = forms.CharField(
        label=_("Your statement of disagreement"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=5000,
    )


class NoticeForm(forms.Form):
    revision_date = forms.DateField(
        label=_("Revision date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    effective_date = forms.DateField(
        label=_("Effective date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    material = forms.BooleanField(label=_("Material change"), required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for code, name in settings.LANGUAGES:
            self.fields[f"title_{code}"] = forms.CharField(
                label=_("Title (%(language)s)") % {"language": name}, max_length=200
            )
            self.fields[f"changes_{code}"] = forms.CharField(
                label=_("What changed (%(language)s)") % {"language": name},
                widget=forms.Textarea(attrs={"rows": 3}),
                required=False,
            )
            self.fields[f"body_{code}"] = forms.CharField(
                label=_("Text (%(language)s)") % {"language": name},
                widget=forms.Textarea(attrs={"rows": 12}),
                help_text=_("Paragraphs separated by a blank line; '## ' starts a heading."),
            )

    def texts(self) -> dict[str, dict[str, str]]:
        return {
            code: {
                "title": self.cleaned_data[f"title_{code}"],
                "changes": self.cleaned_data[f"changes_{code}"],
                "body": self.cleaned_data[f"body_{code}"],
            }
            for code, _name in settings.LANGUAGES
        }


class RecipientForm(forms.ModelForm):
    purposes = forms.MultipleChoiceField(
        label=_("Purposes"), choices=DisclosurePurpose.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Recipient
        fields = ["name", "category", "country", "address", "description", "purposes", "active"]

    def clean_country(self):
        country = self.cleaned_data["country"].strip().upper()
        if len(country) != 2 or not country.isalpha():
            raise forms.ValidationError(_("Use the two-letter country code, for example US."))
        return country


class DisclosureForm(forms.Form):
    member_id = forms.CharField(label=_("Member ID"), max_length=32)
    recipient = forms.ModelChoiceField(
        label=_("Recipient"), queryset=Recipient.objects.filter(active=True)
    )
    purpose = forms.ChoiceField(label=_("Purpose"), choices=DisclosurePurpose.choices)
    resources = forms.MultipleChoiceField(
        label=_("Parts of the record disclosed"), widget=forms.CheckboxSelectMultiple
    )
    description = forms.CharField(label=_("Brief description of the data"), max_length=300)
    legal_basis = forms.CharField(
        label=_("Legal basis"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("The law, court order or agency request that requires the disclosure."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from haven.audit.policy import Resource

        self.fields["resources"].choices = [
            choice for choice in Resource.choices if choice[0] != Resource.AUDIT_TRAIL
        ]


class IncidentForm(forms.ModelForm):
    class Meta:
        model = Incident
        fields = [
            "title",
            "description",
            "member_message",
            "discovered_at",
            "occurred_from",
            "occurred_to",
        ]
        widgets = {
            "discovered_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            "occurred_from": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            "occurred_to": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            "description": forms.Textarea(attrs={"rows": 4}),
            "member_message": forms.Textarea(attrs={"rows": 6}),
        }


class AffectedByAccessForm(forms.Form):
    staff = forms.ModelChoiceField(
        label=_("Staff account"), queryset=User.objects.filter(kind=User.Kind.STAFF)
    )
    start = forms.DateTimeField(
        label=_("From"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    end = forms.DateTimeField(
        label=_("Until"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] <= data["start"]:
            raise forms.ValidationError(_("The end must be after the start."))
        return data


class AffectedListForm(forms.Form):
    member_ids = forms.CharField(
        label=_("Member IDs, one per line"), widget=forms.Textarea(attrs={"rows": 5})
    )


class LegalHoldForm(forms.Form):
    """A legal hold: whose data (a member number or a user name), which categories, why (LOG-5)."""

    member_number = forms.CharField(label=_("Member number"), max_length=32, required=False)
    username = forms.CharField(label=_("Account (user name)"), max_length=150, required=False)
    categories = forms.MultipleChoiceField(
        label=_("Categories"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every category."),
    )
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        from haven.privacy.models import RetentionCategory

        super().__init__(*args, **kwargs)
        self.fields["categories"].choices = RetentionCategory.choices

    def clean(self):
        from haven.accounts.models import User
        from haven.plans.models import Member

        data = super().clean()
        number, username = data.get("member_number", "").strip(), data.get("username", "").strip()
        data["member"] = data["account"] = None
        if not number and not username:
            raise forms.ValidationError(_("Name the member or the account."))
        if number:
            data["member"] = Member.objects.filter(member_id=number).first()
            if data["member"] is None:
                self.add_error("member_number", _("No member has this number."))
        if username:
            data["account"] = User.objects.filter(username=username).first()
            if data["account"] is None:
                self.add_error("username", _("No account has this user name."))
        return data
