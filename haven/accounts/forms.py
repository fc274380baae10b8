import re

from django import forms
from django.contrib.auth import authenticate, password_validation
from django.contrib.auth import forms as auth_forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from haven.accounts import signin
from haven.accounts.models import ConsumerProfile, User
from haven.accounts.services import RegistrationRefused
from haven.plans.models import Member
from haven.support.services import online_access_blocked


class SignInForm(forms.Form):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    error_messages = {
        "invalid": _(
            "That username and password do not match an account we can sign in. "
            "Check them and try again."
        ),
        "slow": _("Too many attempts. Wait %(seconds)s seconds, then try again."),
        "blocked": _(
            "Online access to this account is blocked at your request. "
            "Call member services to lift the block."
        ),
    }

    def __init__(self, request, *args, **kwargs):
        self.request = request
        self.user: User | None = None
        super().__init__(*args, **kwargs)

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if not username or not password:
            return self.cleaned_data
        wait = signin.seconds_to_wait(username)
        if wait:
            raise forms.ValidationError(
                self.error_messages["slow"], code="slow", params={"seconds": wait}
            )
        # A closed account is inactive, so authenticate() refuses it as it refuses a wrong
        # password: the same words, the same count of failures, the same time taken. Saying
        # "this account is closed" would tell anyone holding a leaked password that it is right
        # and that the username exists; the owner already knows they closed it.
        user = authenticate(self.request, username=username, password=password)
        if user is None:
            signin.record_failure(username)
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        signin.forget_failures(username)
        if online_access_blocked(user):
            raise forms.ValidationError(self.error_messages["blocked"], code="blocked")
        self.user = user
        return self.cleaned_data


class SecondFactorForm(forms.Form):
    otp_token = forms.CharField(
        label=_("Six-digit code from your authenticator app"),
        min_length=6,
        max_length=6,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9]{6}"}
        ),
    )

    def __init__(self, device, *args, **kwargs):
        self.device = device
        super().__init__(*args, **kwargs)

    def clean_otp_token(self):
        token = self.cleaned_data["otp_token"]
        if not token.isdigit() or not self.device.verify_token(token):
            raise forms.ValidationError(
                _("That code is not right or has expired. Enter the code your app shows now."),
                code="invalid",
            )
        return token


class PasswordConfirmForm(forms.Form):
    """Asks for the password again before a sensitive change."""

    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, user: User, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("That is not your current password."), code="invalid")
        return password


USERNAME_TAKEN = _("That username is taken. Choose another.")
USERNAME_HELP = _("150 characters or fewer: letters, digits and @ . + - _ only.")
PHONE_CHARACTERS = re.compile(r"^\+?[0-9 ()./-]+$")


def clean_phone_number(value: str) -> str:
    """Digits with the usual separators; at least seven digits, at most fifteen (E.164)."""
    value = " ".join(value.split())
    digits = sum(char.isdigit() for char in value)
    if value and (not PHONE_CHARACTERS.match(value) or not 7 <= digits <= 15):
        raise forms.ValidationError(
            _("Enter a phone number with its area code, for example (860) 555-0123."),
            code="invalid_phone",
        )
    return value


def clean_new_username(value: str, *, user: User | None = None) -> str:
    """A valid username nobody else has, ignoring case."""
    value = value.strip()
    User.username_validator(value)
    taken = User.objects.filter(username__iexact=value)
    if user is not None:
        taken = taken.exclude(pk=user.pk)
    if taken.exists():
        raise forms.ValidationError(USERNAME_TAKEN, code="taken")
    return value


def username_field() -> forms.CharField:
    return forms.CharField(
        label=_("Username"),
        max_length=150,
        help_text=USERNAME_HELP,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )


def email_only_required_field() -> forms.BooleanField:
    """The opt-out offered at registration (MAIL-8): every optional kind of e-mail, in one tick."""
    return forms.BooleanField(
        label=_("Send me only the e-mail I cannot refuse"),
        required=False,
        help_text=_(
            "E-mail about my registration, answers to my requests and notices the law requires. "
            "No message notifications, reminders, newsletters or offers. I can change this in my "
            "e-mail preferences."
        ),
    )


class NewPasswordMixin(forms.Form):
    """Password chosen twice, checked by Django's validators against the new account's details."""

    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def check_new_password(self, cleaned_data: dict) -> None:
        password1 = cleaned_data.get("password1")
        password2 = cleaned_data.get("password2")
        if not password1 or not password2:
            return
        if password1 != password2:
            self.add_error(
                "password2",
                forms.ValidationError(_("The two passwords differ."), code="password_mismatch"),
            )
            return
        future_user = User(
            username=cleaned_data.get("username", ""),
            first_name=cleaned_data.get("first_name", ""),
            last_name=cleaned_data.get("last_name", ""),
            email=cleaned_data.get("email", ""),
        )
        try:
            password_validation.validate_password(password1, future_user)
        except forms.ValidationError as error:
            self.add_error("password1", error)


class SectionedForm(forms.Form):
    """A long form shown in fieldsets: `sections` names each legend and its fields."""

    sections: list[tuple[str, list[str]]] = []

    def fieldsets(self):
        return [(legend, [self[name] for name in names]) for legend, names in self.sections]


GUARDIAN_ROUTE = _(
    "The subscriber on the plan, or the member's legal guardian, asks member services for "
    "guardian access, then acts for the member from their own account."
)

# Why a member registration was refused. A mismatch says nothing about which detail differs,
# or whether the member ID exists; the others are said only to someone who gave every detail.
REFUSALS = {
    RegistrationRefused.NO_MATCH: _(
        "We could not match these details with the plan's records. Check them against your "
        "member ID card (names as printed, gender, date of birth, member ID and group ID) and "
        "try again. If they are right, call member services."
    ),
    RegistrationRefused.UNDER_13: _(
        "Children under 13 cannot have an account; a parent or guardian can act for them."
    ),
    RegistrationRefused.MINOR: _(
        "Members under 18 use Haven through a parent or guardian, not with an account of "
        "their own. At 18 they can register here."
    ),
    RegistrationRefused.COVERAGE_ENDED: _(
        "Coverage for this member has ended, so an online account cannot be created. If you "
        "think this is wrong, call member services."
    ),
    RegistrationRefused.ALREADY_REGISTERED: _(
        "This member already has an account. Sign in with its username and password; if you "
        "have forgotten them, call member services."
    ),
    RegistrationRefused.CLOSED: _(
        "This member's online account is closed. Member services can reopen it until it is "
        "erased: call them."
    ),
    RegistrationRefused.BLOCKED: _(
        "Online access for this member is blocked at the member's request. Call member "
        "services to lift the block."
    ),
}


class MemberRegistrationForm(SectionedForm, NewPasswordMixin):
    """A plan member proves who they are with the details on their ID card (ACC-1)."""

    first_name = forms.CharField(
        label=_("First name"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label=_("Last name"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    gender = forms.ChoiceField(
        label=_("Gender, as on the plan's records"),
        choices=Member.Gender.choices,
        widget=forms.RadioSelect,
    )
    date_of_birth = forms.DateField(
        label=_("Date of birth"),
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}, format="%Y-%m-%d"),
    )
    member_id = forms.CharField(
        label=_("Member ID"),
        max_length=32,
        help_text=_("Printed on your member ID card."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    group_number = forms.CharField(
        label=_("Group ID"),
        max_length=32,
        help_text=_("Also printed on your member ID card."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    username = username_field()
    email = forms.EmailField(
        label=_("E-mail (optional)"),
        required=False,
        help_text=_("Only for notices that a new message is waiting; never for health details."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label=_("Phone (optional)"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    email_only_required = email_only_required_field()

    sections = [
        (_("About you"), ["first_name", "last_name", "gender", "date_of_birth"]),
        (_("Your plan"), ["member_id", "group_number"]),
        (_("Your sign-in"), ["username", "password1", "password2"]),
        (_("How to reach you"), ["email", "phone", "email_only_required"]),
    ]

    field_order = [name for _legend, names in sections for name in names]

    def clean_date_of_birth(self):
        born = self.cleaned_data["date_of_birth"]
        if born > timezone.localdate():
            raise forms.ValidationError(_("The date of birth is in the future."), code="future")
        return born

    def clean_username(self):
        return clean_new_username(self.cleaned_data["username"])

    def clean_phone(self):
        return clean_phone_number(self.cleaned_data["phone"])

    def clean(self):
        cleaned_data = super().clean()
        self.check_new_password(cleaned_data)
        return cleaned_data

    def registration_details(self) -> dict:
        data = self.cleaned_data
        names = ["first_name", "last_name", "gender", "date_of_birth", "member_id"]
        names += ["group_number", "username", "email", "phone"]
        return {name: data[name] for name in names} | {"password": data["password1"]}


class ConsumerRegistrationForm(SectionedForm, NewPasswordMixin):
    """Someone who is not a plan member signs up to find and book care (ACC-3)."""

    first_name = forms.CharField(
        label=_("First name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label=_("Last name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    email = forms.EmailField(
        label=_("E-mail"), widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=32,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    address_line = forms.CharField(
        label=_("Street address"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )
    city = forms.CharField(
        label=_("City"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "address-level2"}),
    )
    region = forms.CharField(
        label=_("State or region"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "address-level1"}),
    )
    postal_code = forms.CharField(
        label=_("ZIP or postal code"),
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "postal-code"}),
    )
    insurance_carrier = forms.CharField(
        label=_("Insurance carrier"),
        max_length=200,
        help_text=_('The company on your insurance card. If you pay yourself, write "Self-pay".'),
    )
    insurance_plan = forms.CharField(
        label=_("Insurance plan"),
        max_length=200,
        help_text=_("The plan name on your insurance card."),
    )
    username = username_field()
    adult = forms.BooleanField(
        label=_("I am 18 or older"),
        help_text=_(
            "People under 18 use Haven through a parent or guardian, who signs up and acts for them."
        ),
        error_messages={"required": _("You must be 18 or older to have your own account.")},
    )
    email_only_required = email_only_required_field()

    sections = [
        (_("About you"), ["first_name", "last_name", "adult"]),
        (_("How to reach you"), ["email", "phone", "email_only_required"]),
        (_("Your address"), ["address_line", "city", "region", "postal_code"]),
        (_("Your insurance"), ["insurance_carrier", "insurance_plan"]),
        (_("Your sign-in"), ["username", "password1", "password2"]),
    ]

    field_order = [name for _legend, names in sections for name in names]

    def clean_username(self):
        return clean_new_username(self.cleaned_data["username"])

    def clean_phone(self):
        return clean_phone_number(self.cleaned_data["phone"])

    def clean(self):
        cleaned_data = super().clean()
        self.check_new_password(cleaned_data)
        return cleaned_data

    def registration_details(self) -> dict:
        data = self.cleaned_data
        names = ["username", "email", "first_name", "last_name", "phone", "address_line"]
        names += ["city", "region", "postal_code", "insurance_carrier", "insurance_plan"]
        return {name: data[name] for name in names} | {"password": data["password1"]}


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    """Current password, then the new one twice (ACC-4)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["old_password"].label = _("Current password")
        self.fields["new_password1"].label = _("New password")
        self.fields["new_password2"].label = _("New password again")


class UsernameForm(forms.Form):
    username = username_field()

    def __init__(self, user: User, *args, **kwargs):
        self.user = user
        super().__init__(*args, initial={"username": user.username}, **kwargs)

    def clean_username(self):
        return clean_new_username(self.cleaned_data["username"], user=self.user)


class NamesForm(forms.Form):
    """Preferred name for everyone; first and last name only where the roster does not hold them."""

    preferred_name = forms.CharField(
        label=_("Preferred name"),
        max_length=100,
        required=False,
        help_text=_("What we call you on Haven's pages and in messages."),
        widget=forms.TextInput(attrs={"autocomplete": "nickname"}),
    )
    first_name = forms.CharField(
        label=_("First name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label=_("Last name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )

    def __init__(self, user: User, *args, **kwargs):
        self.user = user
        initial = {
            "preferred_name": user.preferred_name,
            "first_name": user.first_name,
            "last_name": user.last_name,
        }
        super().__init__(*args, initial=initial, **kwargs)
        if user.member_id is not None:
            del self.fields["first_name"]
            del self.fields["last_name"]


class ContactForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail"),
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )

    def __init__(self, user: User, *args, **kwargs):
        self.user = user
        super().__init__(*args, initial={"email": user.email, "phone": user.phone}, **kwargs)
        # A consumer signed up with an e-mail (ACC-3) and keeps one; for others it is optional.
        self.fields["email"].required = user.kind == User.Kind.CONSUMER
        self.fields["phone"].required = user.kind == User.Kind.CONSUMER

    def clean_phone(self):
        return clean_phone_number(self.cleaned_data["phone"])


class ConsumerDetailsForm(forms.ModelForm):
    """A consumer's address and insurance, given at sign-up (ACC-3) and kept current here."""

    class Meta:
        model = ConsumerProfile
        fields = [
            "address_line",
            "city",
            "region",
            "postal_code",
            "insurance_carrier",
            "insurance_plan",
        ]
        widgets = {
            "address_line": forms.TextInput(attrs={"autocomplete": "street-address"}),
            "city": forms.TextInput(attrs={"autocomplete": "address-level2"}),
            "region": forms.TextInput(attrs={"autocomplete": "address-level1"}),
            "postal_code": forms.TextInput(attrs={"autocomplete": "postal-code"}),
        }


class SecondFactorResetForm(forms.Form):
    """Compliance or the administrator resets a colleague's second factor (ACC-12)."""

    colleague = forms.ModelChoiceField(queryset=User.objects.none(), label=_("Colleague"))
    reason = forms.CharField(
        label=_("Why (kept in the audit trail)"),
        help_text=_("For example: phone lost, reported by telephone and identity checked."),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=500,
    )

    def __init__(self, actor: User, *args, **kwargs):
        super().__init__(*args, **kwargs)
        colleague = self.fields["colleague"]
        colleague.queryset = (
            User.objects.filter(kind=User.Kind.STAFF).exclude(pk=actor.pk).order_by("username")
        )
        colleague.label_from_instance = lambda user: (
            f"{user.get_full_name() or user.username} ({user.username}, "
            f"{user.get_staff_role_display()})"
        )


class AccountCloseForm(forms.Form):
    """The owner confirms that they understand what closing does."""

    confirm = forms.BooleanField(
        label=_("I understand: close my account and sign me out everywhere."),
        error_messages={"required": _("Tick the box to confirm that you want to close it.")},
    )


class StaffAccountFindForm(forms.Form):
    """Member services find an account by its username (posted, to keep it out of logs)."""

    username = forms.CharField(label=_("Username"), max_length=150)

    def clean_username(self) -> User:
        found = User.objects.filter(username__iexact=self.cleaned_data["username"].strip()).first()
        if found is None:
            raise forms.ValidationError(_("No account has this username."), code="not_found")
        return found


class StaffAccountCloseForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Who asked, how you checked it was them, and why. Kept on the account."),
    )
