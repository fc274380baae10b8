from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from haven.analytics.services import COLUMNS, MEASURES


class ReportForm(forms.Form):
    measure = forms.ChoiceField(
        label=_("Count"), choices=[(name, m.label) for name, m in MEASURES.items()]
    )
    column = forms.ChoiceField(
        label=_("By age band and"), choices=[(name, label) for name, (label, _f) in COLUMNS.items()]
    )
    as_of = forms.DateField(
        label=_("Members covered on"),
        widget=forms.DateInput(attrs={"type": "date"}),
        initial=timezone.localdate,
    )
