from django import forms
from django.utils.translation import gettext_lazy as _

from haven.audit.access import BREAK_GLASS_REASON_MIN_LENGTH, purposes_for
from haven.audit.policy import Purpose
from haven.records.models import Category


class PurposeField(forms.ChoiceField):
    """Offers the purposes of the user's role; any other purpose goes on to the accessor, which
    refuses it and records the refusal (a form error would leave no trace)."""

    def __init__(self, user, **kwargs):
        super().__init__(
            label=_("Why are you opening members' records?"),
            choices=[("", _("Choose a purpose"))] + purposes_for(user),
            help_text=_("You will see only the parts of the record this purpose needs."),
            **kwargs,
        )

    def valid_value(self, value):
        return value in Purpose.values


class RosterSearchForm(forms.Form):
    """Find a member by member ID, or by last name and date of birth, for a stated purpose."""

    member_id = forms.CharField(label=_("Member ID"), max_length=32, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=100, required=False)
    date_of_birth = forms.DateField(
        label=_("Date of birth"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["purpose"] = PurposeField(user)

    def clean(self):
        data = super().clean()
        if not data.get("member_id") and not (data.get("last_name") and data.get("date_of_birth")):
            raise forms.ValidationError(
                _("Enter a member ID, or a last name and a date of birth."), code="criteria"
            )
        return data


class PurposeForm(forms.Form):
    """The purpose stated before a record opens (GET: the purpose travels with the address)."""

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["purpose"] = PurposeField(user)


class EmergencyForm(forms.Form):
    reason = forms.CharField(
        label=_("What is the emergency?"),
        min_length=BREAK_GLASS_REASON_MIN_LENGTH,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "Say who needs the information and why it cannot wait. The privacy officer reviews "
            "every emergency access."
        ),
    )


class DocumentForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices)
    content = forms.CharField(
        label=_("Content"), max_length=20000, widget=forms.Textarea(attrs={"rows": 8})
    )
