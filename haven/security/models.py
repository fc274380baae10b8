from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class WebRequest(models.Model):
    """One request in the web log (LOG-1): who asked for which page, from where, with what.

    No account, no query string and no body: pages are named by their path alone, which never
    holds health information, and the log is kept only for its retention period.
    """

    at = models.DateTimeField(_("time"), db_index=True)
    host = models.CharField(_("domain"), max_length=255)
    address = models.GenericIPAddressField(_("IP address"), null=True)
    browser = models.CharField(_("browser"), max_length=40)
    operating_system = models.CharField(_("operating system"), max_length=40)
    method = models.CharField(_("method"), max_length=8)
    path = models.CharField(_("page"), max_length=500)
    status = models.PositiveSmallIntegerField(_("status"))
    referrer = models.CharField(_("referrer"), max_length=500, blank=True)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("web request")
        indexes = [models.Index(fields=["address", "at"])]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.method} {self.path} {self.status}"


class SecurityEvent(models.Model):
    """Suspicious traffic from one source (SEC-2), counted while it lasts, until staff review it."""

    class Kind(models.TextChoices):
        CREDENTIAL_STUFFING = "credential_stuffing", _("Failed sign-ins across many accounts")
        SCANNING = "scanning", _("Scanning for pages that do not exist")
        INJECTION = "injection", _("Injection attempt in a request")
        MALWARE = "malware", _("Upload of a malicious file")

    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    address = models.GenericIPAddressField(_("source address"), null=True)
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    first_seen = models.DateTimeField(_("first seen"))
    last_seen = models.DateTimeField(_("last seen"))
    occurrences = models.PositiveIntegerField(_("occurrences"), default=1)
    throttled_until = models.DateTimeField(_("throttled until"), null=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True)
    review_note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        ordering = ["-last_seen"]
        verbose_name = _("security event")

    def __str__(self):
        return f"{self.get_kind_display()} from {self.address}"
