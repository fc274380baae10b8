from datetime import time, timedelta

from django import forms
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from haven.care import directory, geo
from haven.care.models import (
    BookingMode,
    FacilityKind,
    Language,
    ReminderChoice,
    ShareCategory,
    Slot,
    Specialty,
    VisitType,
)

ANY = _("Any")


def _attributes(attrs: dict) -> str:
    """As Django's widgets/attrs.html writes them."""
    return "".join(
        format_html(" {}", name) if value is True else format_html(' {}="{}"', name, value)
        for name, value in attrs.items()
        if value is not False and value is not None
    )


class ListSelect(forms.Select):
    """A select written in Python, the same HTML as Django's select template: the finder's
    lists (specialties, languages...) cost one template per option otherwise, about a fifth of
    the search page's time."""

    def _render(self, template_name, context, renderer=None):
        widget = context["widget"]
        options = []
        for group_name, group_choices, _index in widget["optgroups"]:
            rendered = "".join(
                format_html(
                    '\n  <option value="{}"{}>{}</option>',
                    str(option["value"]),
                    mark_safe(_attributes(option["attrs"])),  # noqa: S308 (escaped above)  # nosec B308 B703
                    option["label"],
                )
                for option in group_choices
            )
            if group_name:
                rendered = format_html(
                    '\n  <optgroup label="{}">{}\n  </optgroup>',
                    group_name,
                    mark_safe(rendered),  # noqa: S308  # nosec B308 B703  # built by format_html
                )
            options.append(rendered)
        return format_html(
            '<select name="{}"{}>{}\n</select>',
            widget["name"],
            mark_safe(_attributes(widget["attrs"])),  # noqa: S308 (escaped above)  # nosec B308 B703
            mark_safe("".join(options)),  # noqa: S308 (escaped above)  # nosec B308 B703
        )


def _any(choices, label=ANY) -> list:
    return [("", label), *choices]


class SearchForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Looking for"),
        choices=[
            (directory.PRACTITIONERS, _("Doctors and other practitioners")),
            (directory.FACILITIES, _("Hospitals, clinics, labs and pharmacies")),
        ],
        initial=directory.PRACTITIONERS,
        required=False,
        widget=ListSelect,
    )
    q = forms.CharField(label=_("Name"), max_length=100, required=False)
    specialty = forms.ChoiceField(
        label=_("Specialty"), choices=_any(Specialty.choices), required=False, widget=ListSelect
    )
    facility_kind = forms.ChoiceField(
        label=_("Kind of place"),
        choices=_any(FacilityKind.choices),
        required=False,
        widget=ListSelect,
    )
    language = forms.ChoiceField(
        label=_("Speaks"),
        choices=_any(Language.choices, _("Any language")),
        required=False,
        widget=ListSelect,
    )
    accepting = forms.BooleanField(label=_("Accepting new patients"), required=False)
    near = forms.CharField(
        label=_("Near (ZIP code, city or address)"),
        max_length=200,
        required=False,
        help_text=_(
            "We look up Connecticut ZIP codes and towns in a table on Haven's own server; "
            "what you type is not sent anywhere else and not kept."
        ),
    )
    radius = forms.TypedChoiceField(
        label=_("Within"),
        choices=[
            (miles, _("%(miles)s miles") % {"miles": miles}) for miles in directory.RADIUS_CHOICES
        ],
        coerce=int,
        initial=directory.DEFAULT_RADIUS,
        required=False,
        widget=ListSelect,
    )
    page = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)
    # "off": the visitor asked not to use the approximate location of their connection.
    approximate = forms.CharField(max_length=3, required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Labelled in the language of the request, not the one active when Haven started.
        self.fields["radius"].choices = [
            (miles, _("%(miles)s miles") % {"miles": miles}) for miles in directory.RADIUS_CHOICES
        ]

    def clean_near(self) -> str:
        near = " ".join(self.cleaned_data.get("near", "").split())
        self.position = geo.geocode(near) if near else None
        if near and self.position is None:
            raise forms.ValidationError(
                _("We could not find “%(place)s”. Type a Connecticut ZIP code or town."),
                params={"place": near},
                code="unknown_place",
            )
        return near

    def query(self, position: geo.Position | None) -> directory.Query:
        data = self.cleaned_data
        return directory.Query(
            kind=data.get("kind") or directory.PRACTITIONERS,
            text=data.get("q", ""),
            specialty=data.get("specialty", ""),
            facility_kind=data.get("facility_kind", ""),
            language=data.get("language", ""),
            accepting=bool(data.get("accepting")),
            position=position,
            radius_miles=data.get("radius") or directory.DEFAULT_RADIUS,
            page=data.get("page") or 1,
        )


class PreciseLocationForm(SearchForm):
    """The same search from the browser's position, posted by care/finder.js after the person
    clicked "use my location" and the browser's permission prompt allowed it (CON-3)."""

    latitude = forms.FloatField(min_value=-90, max_value=90, widget=forms.HiddenInput)
    longitude = forms.FloatField(min_value=-180, max_value=180, widget=forms.HiddenInput)
    permission = forms.CharField(max_length=10, widget=forms.HiddenInput)

    def clean_permission(self) -> str:
        if self.cleaned_data["permission"] != "granted":
            raise forms.ValidationError(_("Your location is used only after you allow it."))
        return "granted"


class BookingForm(forms.Form):
    shared = forms.MultipleChoiceField(
        label=_("What the practice receives"),
        choices=ShareCategory.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    reason = forms.CharField(
        label=_("Reason for the visit (optional)"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Goes to the practice only if you share your visit details."),
    )
    phone = forms.CharField(
        label=_("Your phone number"),
        max_length=32,
        required=False,
        help_text=_("Asked once: we keep it on your account for the next time."),
    )
    reminders = forms.MultipleChoiceField(
        label=_("Reminders"),
        choices=ReminderChoice.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("They say only the day and time, never the practice or the reason."),
    )
    allow_referrals = forms.BooleanField(
        label=_(
            "Let this practice book appointments with other doctors for me (they receive only my "
            "name, phone, e-mail and insurance, nothing about my health)"
        ),
        required=False,
    )

    def __init__(
        self, *args, open_categories: list[str], ask_phone: bool, for_member: bool, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.fields["shared"].choices = [
            (value, label) for value, label in ShareCategory.choices if value in open_categories
        ]
        if not ask_phone:
            del self.fields["phone"]
        if not for_member:
            del self.fields["allow_referrals"]


class MoveForm(forms.Form):
    slot = forms.ModelChoiceField(
        label=_("New time"),
        queryset=Slot.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
    )

    def __init__(self, *args, slots, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slot"].queryset = slots
        self.fields["slot"].label_from_instance = lambda slot: _slot_label(slot)


def _slot_label(slot: Slot) -> str:
    from haven.care.services import when

    return f"{when(slot.starts_at)} · {slot.service.get_visit_type_display()}"


class ReviewForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("Your rating"),
        choices=[(n, _("%(count)s of 5 stars") % {"count": n}) for n in range(5, 0, -1)],
        coerce=int,
        widget=forms.RadioSelect,
    )
    text = forms.CharField(
        label=_("Your review"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "Reviews are public and never show who wrote them. Write about the care and the "
            "practice, not about yourself: no names, dates, contact details or health details."
        ),
    )


class AnswerForm(forms.Form):
    text = forms.CharField(
        label=_("Your public answer"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "Answers are public and bound by patient confidentiality: do not confirm that the "
            "writer is your patient, and say nothing about their care."
        ),
    )


class InvitationForm(forms.Form):
    addresses = forms.CharField(
        label=_("E-mail addresses"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One per line, or separated by commas; up to ten at a time."),
    )

    def clean_addresses(self) -> list[str]:
        raw = self.cleaned_data["addresses"].replace(",", "\n").replace(";", "\n")
        return [line.strip() for line in raw.splitlines() if line.strip()]


class ServiceForm(forms.Form):
    booking = forms.ChoiceField(label=_("Booking"), choices=BookingMode.choices)
    duration_minutes = forms.IntegerField(label=_("Length (minutes)"), min_value=5, max_value=240)


class NewServiceForm(forms.Form):
    visit_type = forms.ChoiceField(label=_("Visit"), choices=VisitType.choices)
    booking = forms.ChoiceField(label=_("Booking"), choices=BookingMode.choices)


WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]


class AvailabilityForm(forms.Form):
    service = forms.ModelChoiceField(label=_("Visit"), queryset=None, empty_label=None)
    first_day = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    last_day = forms.DateField(label=_("Until"), widget=forms.DateInput(attrs={"type": "date"}))
    weekdays = forms.TypedMultipleChoiceField(
        label=_("On"), choices=WEEKDAYS, coerce=int, widget=forms.CheckboxSelectMultiple
    )
    start = forms.TimeField(label=_("From (time)"), widget=forms.TimeInput(attrs={"type": "time"}))
    end = forms.TimeField(label=_("Until (time)"), widget=forms.TimeInput(attrs={"type": "time"}))

    def __init__(self, *args, services, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = services
        self.fields["service"].label_from_instance = lambda service: (
            f"{service.get_visit_type_display()} ({service.duration_minutes} min)"
        )
        today = timezone.localdate()
        self.initial.setdefault("first_day", today + timedelta(days=1))
        self.initial.setdefault("last_day", today + timedelta(days=14))
        self.initial.setdefault("weekdays", [0, 1, 2, 3, 4])
        self.initial.setdefault("start", time(9, 0))
        self.initial.setdefault("end", time(12, 0))


class ReferralSearchForm(forms.Form):
    q = forms.CharField(label=_("Doctor's name"), max_length=100, required=False)
    specialty = forms.ChoiceField(
        label=_("Specialty"), choices=_any(Specialty.choices), required=False
    )
