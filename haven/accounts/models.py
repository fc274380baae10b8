"""Accounts of everyone who signs in to Haven, and their sessions."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    class Kind(models.TextChoices):
        MEMBER = "member", _("Plan member")
        CONSUMER = "consumer", _("Consumer finding care")
        CAREGIVER = "caregiver", _("Caregiver or guardian")
        PRODUCER = "producer", _("Producer or agency")
        PROVIDER = "provider", _("Provider")
        EMPLOYER = "employer", _("Employer contact")
        STAFF = "staff", _("Staff")

    class StaffRole(models.TextChoices):
        CARE_TEAM = "care_team", _("Care team")
        CUSTOMER_SERVICE = "customer_service", _("Customer service")
        CLAIMS = "claims", _("Claims")
        PRODUCER_SUPPORT = "producer_support", _("Producer support")
        COMPLIANCE = "compliance", _("Compliance")
        PRIVACY_OFFICER = "privacy_officer", _("Privacy officer")
        ADMINISTRATOR = "administrator", _("Administrator")

    kind = models.CharField(_("kind of account"), max_length=16, choices=Kind.choices)
    staff_role = models.CharField(
        _("staff role"), max_length=24, choices=StaffRole.choices, blank=True
    )
    member = models.OneToOneField(
        "plans.Member",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="user",
        verbose_name=_("roster member"),
    )
    preferred_name = models.CharField(_("preferred name"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, blank=True)
    password_changed_at = models.DateTimeField(null=True, blank=True)
    # Closing (by its owner, or by member services with a reason) ends every session and refuses
    # sign-in; the nightly retention run erases the account once closed longer than the notice's
    # period (haven.privacy.facts.closed_account_retention_days). An erased account is closed too.
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True, db_index=True)
    closed_by = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("closed by"),
    )
    closed_reason = models.TextField(_("reason for closing"), blank=True)

    objects = UserManager()

    class Meta:
        constraints = [
            # "Alice" and "alice" would be two accounts a person cannot tell apart at sign-in.
            models.UniqueConstraint(
                Lower("username"),
                name="user_username_unique_ignoring_case",
                violation_error_message=_("That username is taken. Choose another."),
            ),
            models.CheckConstraint(
                condition=models.Q(kind="staff") | models.Q(staff_role=""),
                name="user_staff_role_only_for_staff",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="staff") | ~models.Q(staff_role=""),
                name="user_staff_has_role",
            ),
            # An erased member account (closed for good) lets go of its roster entry, so the
            # member can register again; the account stays as the trail's tombstone.
            models.CheckConstraint(
                condition=models.Q(kind="member", member__isnull=False)
                | models.Q(kind="member", closed_at__isnull=False)
                | (~models.Q(kind="member") & models.Q(member__isnull=True)),
                name="user_member_account_has_roster_entry",
            ),
            models.CheckConstraint(
                condition=models.Q(closed_at__isnull=True) | models.Q(is_active=False),
                name="user_closed_account_is_inactive",
            ),
        ]

    @property
    def display_name(self) -> str:
        return self.preferred_name or self.first_name or self.username

    @property
    def is_staff_member(self) -> bool:
        return self.kind == self.Kind.STAFF

    def has_staff_role(self, *roles: str) -> bool:
        return self.kind == self.Kind.STAFF and self.staff_role in roles

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    @property
    def is_erased(self) -> bool:
        """Erased at a deletion request or past its retention (privacy.Erasure): never reopened."""
        return self.erasures.exists()


class ConsumerProfile(models.Model):
    """What a consumer who is not a plan member gives to find and book care (ACC-3)."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="consumer_profile")
    address_line = models.CharField(_("address"), max_length=200)
    city = models.CharField(_("city"), max_length=100)
    region = models.CharField(_("state or region"), max_length=100, blank=True)
    postal_code = models.CharField(_("ZIP or postal code"), max_length=16)
    insurance_carrier = models.CharField(_("insurance carrier"), max_length=200)
    insurance_plan = models.CharField(_("insurance plan"), max_length=200)

    def __str__(self) -> str:
        return f"{self.user}: {self.insurance_carrier}"


class UserSession(models.Model):
    """A signed-in session, so a user can see and end each of theirs (ACC-6)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="signed_in_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    signed_in_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-last_seen_at"]

    def __str__(self) -> str:
        return f"{self.user} since {self.signed_in_at:%Y-%m-%d %H:%M}"

    @property
    def device(self) -> str:
        return describe_user_agent(self.user_agent)


# Checked in order: Edge and Opera also name Chrome, Chrome also names Safari.
BROWSERS = [
    ("Edg", "Edge"),
    ("OPR/", "Opera"),
    ("SamsungBrowser", "Samsung Internet"),
    ("Firefox/", "Firefox"),
    ("FxiOS", "Firefox"),
    ("CriOS", "Chrome"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
]
SYSTEMS = [
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Android", "Android"),
    ("CrOS", "ChromeOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Macintosh", "macOS"),
    ("Linux", "Linux"),
]


def describe_user_agent(user_agent: str) -> str:
    """A readable "browser on system" from a User-Agent header, for the sessions page."""
    browser = next((name for token, name in BROWSERS if token in user_agent), "")
    system = next((name for token, name in SYSTEMS if token in user_agent), "")
    if browser and system:
        return _("%(browser)s on %(system)s") % {"browser": browser, "system": system}
    return browser or system or str(_("Unknown browser"))
