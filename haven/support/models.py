"""Member services: requests members make through support, such as blocking online access."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from haven.accounts.models import User
from haven.plans.models import Member


class AccessBlock(models.Model):
    """A member's request, taken by support, to block online access to their accounts (ACC-7)."""

    member = models.ForeignKey(
        "plans.Member", on_delete=models.PROTECT, related_name="access_blocks"
    )
    include_family = models.BooleanField(_("also block the family's accounts"), default=True)
    reason = models.TextField(_("reason given by the member"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lift_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(lifted_at__isnull=True) | models.Q(lifted_by__isnull=False),
                name="access_block_lifted_by_someone",
            )
        ]

    def __str__(self) -> str:
        return f"block on {self.member}"

    @property
    def is_active(self) -> bool:
        return self.lifted_at is None

    def covered_members(self):
        """The member, and with a family block everyone on the same subscriber's roster."""
        if self.include_family:
            return self.member.family()
        return Member.objects.filter(pk=self.member_id)

    def covered_accounts(self):
        return User.objects.filter(member__in=self.covered_members())
