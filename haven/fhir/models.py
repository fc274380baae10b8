"""Third-party apps approved by staff, and each member's authorisation of one (DIS-8)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from oauth2_provider.models import AccessToken, Application


class AppStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    SUSPENDED = "suspended", _("Suspended")


class RegisteredApp(models.Model):
    """An app's OAuth client, with what staff approved and what its developer declared."""

    application = models.OneToOneField(
        Application, on_delete=models.CASCADE, related_name="haven_app"
    )
    developer = models.CharField(_("developer"), max_length=200)
    privacy_policy_url = models.URLField(_("privacy policy"), blank=True)
    privacy_practices = models.TextField(
        _("what the developer declares about its privacy practices"), blank=True
    )
    scopes = models.JSONField(_("scopes it may ask for"), default=list)
    status = models.CharField(
        _("status"), max_length=12, choices=AppStatus.choices, default=AppStatus.PENDING
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["application__name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=AppStatus.values), name="fhir_app_status_known"
            ),
            models.CheckConstraint(
                condition=~models.Q(status="approved") | models.Q(approved_at__isnull=False),
                name="fhir_app_approved_has_date",
            ),
        ]

    def __str__(self) -> str:
        return self.application.name

    @property
    def name(self) -> str:
        return self.application.name

    @property
    def is_approved(self) -> bool:
        return self.status == AppStatus.APPROVED


class AuthorisationQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True, approved_at__isnull=False)


class Authorisation(models.Model):
    """One member's approval of one app for one record (their own or one they hold a grant for)."""

    app = models.ForeignKey(RegisteredApp, on_delete=models.PROTECT, related_name="authorisations")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="app_authorisations"
    )
    member = models.ForeignKey("plans.Member", on_delete=models.PROTECT, related_name="+")
    grant = models.ForeignKey(
        "caregivers.Grant", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    scope = models.CharField(max_length=1000)
    # The authorization code this approval produced, until the app exchanges it.
    code = models.OneToOneField(
        "oauth2_provider.Grant",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="haven_authorisation",
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = AuthorisationQuerySet.as_manager()

    class Meta:
        ordering = ["-approved_at"]
        indexes = [models.Index(fields=["user", "revoked_at"], name="fhir_auth_user")]

    def __str__(self) -> str:
        return f"authorisation {self.pk}"

    @property
    def scopes(self) -> list[str]:
        return self.scope.split()

    @property
    def is_active(self) -> bool:
        return self.approved_at is not None and self.revoked_at is None


class AuthorisationToken(models.Model):
    """Which authorisation an access token carries: the member and scopes it may reach."""

    access_token = models.OneToOneField(
        AccessToken, on_delete=models.CASCADE, related_name="haven_authorisation"
    )
    authorisation = models.ForeignKey(
        Authorisation, on_delete=models.CASCADE, related_name="tokens"
    )

    def __str__(self) -> str:
        return f"token of {self.authorisation}"
