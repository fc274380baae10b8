from django import forms
from django.utils.translation import gettext_lazy as _


class ReviewForm(forms.Form):
    note = forms.CharField(label=_("What you found or did"), max_length=500)
    lift_throttle = forms.BooleanField(label=_("Let this source in again now"), required=False)


class WebLogFilterForm(forms.Form):
    address = forms.GenericIPAddressField(label=_("IP address"), required=False)
