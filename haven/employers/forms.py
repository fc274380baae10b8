from django import forms
from django.utils.translation import gettext_lazy as _

from haven.accounts.models import User
from haven.plans.models import EmployerGroup


class LinkForm(forms.Form):
    """An administrator links an employer's account to the group it sponsors."""

    username = forms.CharField(label=_("Employer account (username)"), max_length=150)
    group_number = forms.CharField(label=_("Group ID"), max_length=32)

    def clean_username(self):
        user = User.objects.filter(
            username__iexact=self.cleaned_data["username"].strip(), kind=User.Kind.EMPLOYER
        ).first()
        if user is None:
            raise forms.ValidationError(_("No employer account has this username."))
        return user

    def clean_group_number(self):
        group = EmployerGroup.objects.filter(
            group_number=self.cleaned_data["group_number"].strip()
        ).first()
        if group is None:
            raise forms.ValidationError(_("No group has this ID."))
        return group
