import dataclasses
import re

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from haven.accounts.models import User
from haven.producers.models import (
    US_STATES,
    ClientElement,
    Producer,
    licence_number_normalised,
    tax_id_digits,
)
from haven.producers.services import ProducerDetails

DUPLICATE_MESSAGE = _(
    "A producer with these registration details already exists; contact producer support."
)
PHONE_FORMAT = re.compile(r"^\+?[0-9 ().-]+$")
ZIP_FORMAT = re.compile(r"^\d{5}(-\d{4})?$")
STATE_CHOICES = [("", _("Choose a state")), *US_STATES]
OLDEST_AGE = 120
YOUNGEST_PRODUCER_AGE = 18


class FieldsetForm(forms.Form):
    """A form that `{{ form }}` renders in titled groups, so long forms stay easy to follow."""

    template_name = "producers/fieldset_form.html"
    fieldsets: list[tuple[str, list[str]]] = []

    def grouped_fields(self):
        return [
            (legend, [self[name] for name in names if name in self.fields])
            for legend, names in self.fieldsets
        ]


class ProducerDetailsForm(FieldsetForm):
    """What a producer tells us about themselves; the same fields when they correct it later."""

    kind = forms.ChoiceField(
        label=_("I am registering as"), choices=Producer.Kind.choices, widget=forms.RadioSelect
    )
    legal_name = forms.CharField(
        label=_("Legal name"),
        max_length=200,
        help_text=_(
            "For an individual producer, your full name as on your licence; "
            "for an agency, its registered business name."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    agency_name = forms.CharField(
        label=_("Agency name"),
        max_length=200,
        required=False,
        help_text=_("Required for agencies: the name your clients know the agency by."),
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    first_name = forms.CharField(
        label=_("Your first name"),
        max_length=150,
        help_text=_("The person who will sign in to this account."),
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label=_("Your last name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    date_of_birth = forms.DateField(
        label=_("Date of birth"),
        required=False,
        help_text=_("Individual producers only; agencies leave it empty."),
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}, format="%Y-%m-%d"),
    )
    tax_id = forms.CharField(
        label=_("Tax ID (EIN or Social Security number)"),
        max_length=20,
        help_text=_(
            "Nine digits; dashes are fine. We keep only a protected fingerprint of it "
            "and its last four digits, never the number itself."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    licence_number = forms.CharField(
        label=_("Licence number"),
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    licence_region = forms.ChoiceField(label=_("Licensing state"), choices=STATE_CHOICES)
    address_line = forms.CharField(
        label=_("Business address"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "address-line1"}),
    )
    city = forms.CharField(
        label=_("City"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "address-level2"}),
    )
    region = forms.ChoiceField(
        label=_("State"),
        choices=STATE_CHOICES,
        widget=forms.Select(attrs={"autocomplete": "address-level1"}),
    )
    postal_code = forms.CharField(
        label=_("ZIP code"),
        max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "postal-code", "inputmode": "numeric"}),
    )
    phone = forms.CharField(
        label=_("Business phone"),
        max_length=32,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    email = forms.EmailField(
        label=_("E-mail"),
        max_length=254,
        help_text=_("We write here when your registration has been reviewed."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    fieldsets = [
        (
            _("Who is registering"),
            ["kind", "legal_name", "agency_name", "first_name", "last_name", "date_of_birth"],
        ),
        (_("Tax ID and licence"), ["tax_id", "licence_number", "licence_region"]),
        (
            _("Business contact"),
            ["address_line", "city", "region", "postal_code", "phone", "email"],
        ),
    ]

    def clean_tax_id(self) -> str:
        value = self.cleaned_data["tax_id"]
        # Only the digits move on; the service hashes them and keeps the last four.
        return tax_id_digits(value) if value.strip() else ""

    def clean_licence_number(self) -> str:
        return licence_number_normalised(self.cleaned_data["licence_number"])

    def clean_legal_name(self) -> str:
        return " ".join(self.cleaned_data["legal_name"].split())

    def clean_agency_name(self) -> str:
        return " ".join(self.cleaned_data["agency_name"].split())

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        digits = re.sub(r"\D", "", phone)
        if not PHONE_FORMAT.match(phone) or not 10 <= len(digits) <= 15:
            raise forms.ValidationError(
                _("Enter a phone number with its area code, such as (860) 555-0100."),
                code="invalid",
            )
        return phone

    def clean_postal_code(self) -> str:
        postal_code = self.cleaned_data["postal_code"].strip()
        if not ZIP_FORMAT.match(postal_code):
            raise forms.ValidationError(
                _("Enter a five-digit ZIP code, such as 06103 (ZIP+4 is fine too)."),
                code="invalid",
            )
        return postal_code

    def clean_date_of_birth(self):
        born = self.cleaned_data["date_of_birth"]
        if born is None:
            return None
        today = timezone.localdate()
        age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
        if born > today or age > OLDEST_AGE:
            raise forms.ValidationError(_("Enter your real date of birth."), code="invalid")
        if age < YOUNGEST_PRODUCER_AGE:
            raise forms.ValidationError(
                _("A licensed producer must be 18 or older."), code="too_young"
            )
        return born

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        if kind == Producer.Kind.AGENCY and not cleaned.get("agency_name"):
            self.add_error("agency_name", _("Enter the agency's name."))
        if (
            kind == Producer.Kind.INDIVIDUAL
            and "date_of_birth" not in self.errors
            and cleaned.get("date_of_birth") is None
        ):
            self.add_error("date_of_birth", _("Enter your date of birth."))
        return cleaned

    def details(self) -> ProducerDetails:
        data = self.cleaned_data
        return ProducerDetails(
            **{field.name: data[field.name] for field in dataclasses.fields(ProducerDetails)}
        )


class RegistrationForm(ProducerDetailsForm):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text=_("150 characters or fewer: letters, digits and @ . + - _ only."),
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        help_text=password_validation.password_validators_help_text_html(),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    fieldsets = [
        *ProducerDetailsForm.fieldsets,
        (_("Sign-in details"), ["username", "password1", "password2"]),
    ]

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(
                _("That username is taken. Choose another."), code="username_taken"
            )
        return username

    def clean(self):
        cleaned = super().clean()
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("The two passwords do not match."))
        elif password2:
            candidate = User(
                username=cleaned.get("username", ""),
                email=cleaned.get("email", ""),
                first_name=cleaned.get("first_name", ""),
                last_name=cleaned.get("last_name", ""),
            )
            try:
                password_validation.validate_password(password2, candidate)
            except forms.ValidationError as error:
                self.add_error("password2", error)
        return cleaned


class ProducerUpdateForm(ProducerDetailsForm):
    """Correcting a waiting registration: the tax ID may be left empty to keep the one we have."""

    def __init__(self, *args, producer: Producer, **kwargs):
        initial = dataclasses.asdict(ProducerDetails.of(producer))
        super().__init__(*args, initial=initial, **kwargs)
        self.fields["tax_id"].required = False
        self.fields["tax_id"].help_text = _(
            "Leave empty to keep the tax ID ending in %(last4)s. "
            "A new one replaces it; we keep only its fingerprint and last four digits."
        ) % {"last4": producer.tax_id_last4}


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("approve", _("Approve")), ("reject", _("Reject"))],
        error_messages={"required": _("Choose to approve or reject.")},
    )
    note = forms.CharField(
        label=_("Note to the producer"),
        required=False,
        max_length=2000,
        help_text=_(
            "Required when you reject: say what is wrong and what to do next. "
            "The producer sees this note."
        ),
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == "reject" and not cleaned.get("note", "").strip():
            self.add_error(
                "note", _("Write the reason for rejecting, so the producer can act on it.")
            )
        return cleaned

    @property
    def approve(self) -> bool:
        return self.cleaned_data["decision"] == "approve"


class AuthoriseForm(forms.Form):
    """A member names a producer by the licence the producer gave them, and what they may see."""

    licence_number = forms.CharField(
        label=_("Producer's licence number"),
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    licence_region = forms.ChoiceField(label=_("Licensing state"), choices=STATE_CHOICES)
    elements = forms.MultipleChoiceField(
        label=_("What the producer may see"),
        choices=ClientElement.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Producers never see your claims, health records or messages."),
        error_messages={"required": _("Choose at least one thing the producer may see.")},
    )


class ClientElementsForm(forms.Form):
    """What the producer asks to see of one client now, among what the client authorised."""

    elements = forms.MultipleChoiceField(
        label=_("Show"),
        choices=ClientElement.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose what you need to see.")},
    )

    def __init__(self, *args, authorised: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["elements"].choices = [
            (value, label) for value, label in ClientElement.choices if value in authorised
        ]


class ActivityForm(forms.Form):
    since = forms.DateField(
        label=_("Since"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
