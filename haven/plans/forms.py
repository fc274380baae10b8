from datetime import date

from django import forms
from django.core.validators import RegexValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from haven.plans.models import Application, ApplicationPerson, Product, RatingArea

MAX_PEOPLE = 10

zip_code_validator = RegexValidator(
    r"^[0-9]{5}$", _("Enter the five digits of a ZIP code, like 06103.")
)


class ProductChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Product) -> str:
        return obj.name


def published_products():
    return Product.objects.filter(published=True).order_by("name")


class QuoteForm(forms.Form):
    product = ProductChoiceField(
        label=_("Plan"),
        queryset=published_products(),
        empty_label=_("Choose a plan"),
        error_messages={"required": _("Choose the plan you want a quote for.")},
    )
    zip_code = forms.CharField(
        label=_("ZIP code"),
        max_length=5,
        validators=[zip_code_validator],
        help_text=_("Premiums depend on where you live."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "postal-code"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = published_products()


class QuotePersonForm(forms.Form):
    age = forms.IntegerField(
        label=_("Age"),
        min_value=0,
        max_value=120,
        error_messages={"required": _("Enter this person's age, or leave the row empty.")},
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    tobacco = forms.BooleanField(label=_("Uses tobacco"), required=False)


class BaseQuotePeopleFormSet(forms.BaseFormSet):
    def clean(self):
        super().clean()
        if not any(form.cleaned_data for form in self.forms if form.is_valid()):
            raise forms.ValidationError(_("Enter the age of at least one person to cover."))


QuotePeopleFormSet = forms.formset_factory(
    QuotePersonForm, formset=BaseQuotePeopleFormSet, extra=6, max_num=MAX_PEOPLE
)


def _birth_date_errors(born: date) -> str | None:
    today = timezone.localdate()
    if born > today:
        return _("The date of birth cannot be in the future.")
    if today.year - born.year > 120:
        return _("Check the year of birth.")
    return None


class ApplicationForm(forms.ModelForm):
    product = ProductChoiceField(
        label=_("Plan"),
        queryset=published_products(),
        empty_label=_("Choose a plan"),
        error_messages={"required": _("Choose the plan you are applying for.")},
    )
    postal_code = forms.CharField(
        label=_("ZIP code"),
        max_length=5,
        validators=[zip_code_validator],
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "postal-code"}),
    )
    confirm = forms.BooleanField(
        label=_(
            "I confirm that this information is true, and I agree that Haven uses it to review "
            "this application and to contact me about it."
        ),
        error_messages={"required": _("Tick the box to confirm before you send the application.")},
    )

    class Meta:
        model = Application
        fields = [
            "product",
            "first_name",
            "last_name",
            "date_of_birth",
            "tobacco",
            "address_line",
            "city",
            "region",
            "postal_code",
            "phone",
            "email",
        ]
        widgets = {
            "first_name": forms.TextInput(attrs={"autocomplete": "given-name"}),
            "last_name": forms.TextInput(attrs={"autocomplete": "family-name"}),
            "date_of_birth": forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}),
            "address_line": forms.TextInput(attrs={"autocomplete": "address-line1"}),
            "city": forms.TextInput(attrs={"autocomplete": "address-level2"}),
            "region": forms.TextInput(attrs={"autocomplete": "address-level1"}),
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
        }
        labels = {"tobacco": _("I use tobacco")}
        help_texts = {
            "phone": _("Give a phone number, an e-mail address, or both, so we can reach you."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = published_products()

    def clean_date_of_birth(self):
        born = self.cleaned_data["date_of_birth"]
        problem = _birth_date_errors(born)
        if problem:
            raise forms.ValidationError(problem)
        return born

    def clean_postal_code(self):
        zip_code = self.cleaned_data["postal_code"]
        if RatingArea.for_zip(zip_code) is None:
            raise forms.ValidationError(
                _("We do not offer plans in the area of this ZIP code yet. Check the ZIP code.")
            )
        return zip_code

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("phone") and not cleaned.get("email"):
            self.add_error("phone", _("Give a phone number or an e-mail address."))
        return cleaned


class ApplicationPersonForm(forms.ModelForm):
    class Meta:
        model = ApplicationPerson
        fields = ["relationship", "first_name", "last_name", "date_of_birth", "tobacco"]
        widgets = {"date_of_birth": forms.DateInput(attrs={"type": "date"})}

    def clean_date_of_birth(self):
        born = self.cleaned_data["date_of_birth"]
        problem = _birth_date_errors(born)
        if problem:
            raise forms.ValidationError(problem)
        return born


ApplicationPeopleFormSet = forms.formset_factory(
    ApplicationPersonForm, extra=4, max_num=MAX_PEOPLE - 1
)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            (Application.Status.ACCEPTED, _("Accept")),
            (Application.Status.DECLINED, _("Decline")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose accept or decline.")},
    )
    note = forms.CharField(
        label=_("Note for the file"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Write a short note on why.")},
    )


class FindApplicationForm(forms.Form):
    reference = forms.CharField(
        label=_("Reference"),
        max_length=16,
        help_text=_("The reference the applicant quotes, like HA-7K3M-9QX2."),
    )

    def clean_reference(self):
        return self.cleaned_data["reference"].strip().upper()
