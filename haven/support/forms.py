from django import forms
from django.utils.translation import gettext_lazy as _

from haven.accounts.models import User
from haven.plans.models import Member


class MemberSearchForm(forms.Form):
    member_id = forms.CharField(
        label=_("Member ID"),
        max_length=32,
        help_text=_("As printed on the member's ID card."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def clean_member_id(self) -> Member:
        member_id = "".join(self.cleaned_data["member_id"].split())
        member = Member.objects.filter(member_id__iexact=member_id).first()
        if member is None:
            raise forms.ValidationError(
                _("No member on the roster has that member ID. Check it with the member.")
            )
        return member


class AccessBlockForm(forms.Form):
    include_family = forms.BooleanField(
        label=_("Also block the family's accounts"),
        required=False,
        help_text=_("Only if the member asks: the subscriber, spouse and dependants on the plan."),
    )
    reason = forms.CharField(
        label=_("Reason the member gave"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    identity_checked = forms.BooleanField(
        label=_("I checked the identity of the person asking"),
        error_messages={"required": _("Check the member's identity before blocking.")},
    )


class AccessBlockLiftForm(forms.Form):
    note = forms.CharField(
        label=_("How the request to lift was checked"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For example: the member called and answered the security questions."),
    )
    identity_checked = forms.BooleanField(
        label=_("I checked the identity of the person asking"),
        error_messages={"required": _("Check the member's identity before lifting the block.")},
    )


class GuardianForm(forms.Form):
    guardian_username = forms.CharField(
        label=_("Username of the parent or guardian"),
        max_length=150,
        help_text=_("Their own Haven account: an adult member or a caregiver account."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    documents_verified = forms.BooleanField(
        label=_("I verified documents showing they are the parent or legal guardian"),
        error_messages={"required": _("Verify the documents before giving access.")},
    )
    note = forms.CharField(
        label=_("Documents checked"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Which documents, and anything notable. No copies of numbers from them."),
    )

    def clean_guardian_username(self) -> User:
        username = self.cleaned_data["guardian_username"].strip()
        user = User.objects.filter(username__iexact=username).first()
        if user is None:
            raise forms.ValidationError(_("No account has that username."))
        return user


class GuardianEndForm(forms.Form):
    note = forms.CharField(
        label=_("Why the guardian's access ends"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
