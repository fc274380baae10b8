from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ReportRun(models.Model):
    """Who ran which statistical report, and how much of it suppression hid."""

    ran_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    ran_at = models.DateTimeField(auto_now_add=True)
    measure = models.CharField(_("measure"), max_length=32)
    column = models.CharField(_("broken down by"), max_length=32)
    as_of = models.DateField(_("as of"))
    cells = models.PositiveIntegerField()
    hidden = models.PositiveIntegerField()

    class Meta:
        ordering = ["-ran_at"]
        verbose_name = _("report run")

    def __str__(self):
        return f"{self.measure} by {self.column} on {self.as_of}"
