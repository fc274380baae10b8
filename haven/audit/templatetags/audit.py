from django import template

from haven.audit.access import current_training
from haven.audit.models import AuditEvent

register = template.Library()


@register.simple_tag
def privacy_training(user):
    """The staff member's current privacy training, or None."""
    return current_training(user) if user.is_authenticated and user.is_staff_member else None


@register.simple_tag
def flagged_awaiting_review() -> int:
    return AuditEvent.objects.flagged().unreviewed().count()
