from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from haven.accounts.models import User
from haven.audit.models import AuditReview, Outcome
from haven.audit.policy import Purpose

DATE_INPUT = forms.DateInput(attrs={"type": "date"})


def staff_choices():
    return User.objects.filter(kind=User.Kind.STAFF).order_by("last_name", "first_name", "username")


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.get_full_name() or obj.username} ({obj.get_staff_role_display()})"


class TrailFilterForm(forms.Form):
    """Search the trail; GET, since filters hold no member identifiers (a member is a pk)."""

    member = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)
    staff = StaffChoiceField(
        label=_("Staff member"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Anyone"),
    )
    purpose = forms.ChoiceField(
        label=_("Purpose"), choices=[("", _("Any purpose"))] + Purpose.choices, required=False
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=[("", _("Allowed or denied"))] + Outcome.choices, required=False
    )
    date_from = forms.DateField(label=_("From"), required=False, widget=DATE_INPUT)
    date_to = forms.DateField(label=_("To"), required=False, widget=DATE_INPUT)
    # The box comes before its label here, so no colon after the label.
    flagged_only = forms.BooleanField(label=_("Flagged only"), required=False, label_suffix="")
    include_trail_use = forms.BooleanField(
        label=_("Include views of the trail itself"), required=False, label_suffix=""
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = staff_choices()

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            self.add_error("date_to", _("The end date is before the start date."))
        return data


class FindMemberForm(forms.Form):
    """Find a member to filter the trail by; POST keeps names out of addresses."""

    member_id = forms.CharField(label=_("Member ID"), max_length=32, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=100, required=False)
    date_of_birth = forms.DateField(label=_("Date of birth"), required=False, widget=DATE_INPUT)

    def clean(self):
        data = super().clean()
        if not data.get("member_id") and not (data.get("last_name") and data.get("date_of_birth")):
            raise forms.ValidationError(
                _("Enter a member ID, or a last name and a date of birth."), code="criteria"
            )
        return data


class ReviewForm(forms.Form):
    finding = forms.ChoiceField(
        label=_("Finding"), choices=AuditReview.Finding.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=_("Note"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What you checked and concluded. The event itself is never changed."),
    )


class TrainingForm(forms.Form):
    staff = StaffChoiceField(label=_("Staff member"), queryset=User.objects.none())
    course = forms.CharField(
        label=_("Course"), max_length=200, initial="HIPAA privacy and security (annual)"
    )
    completed_on = forms.DateField(label=_("Completed on"), widget=DATE_INPUT)
    valid_until = forms.DateField(
        label=_("Valid until"),
        widget=DATE_INPUT,
        help_text=_("The last day the training counts; usually one year after completion."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = staff_choices()
        today = timezone.localdate()
        self.fields["completed_on"].initial = today
        self.fields["valid_until"].initial = today + timedelta(days=365)
