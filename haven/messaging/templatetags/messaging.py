"""`{% load messaging %}{% unread_conversations as count %}`: the number beside the inbox link."""

from django import template
from django.core.exceptions import PermissionDenied

from haven.messaging import services

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_conversations(context) -> int:
    """Conversations in the signed-in person's inbox with unread messages (0 when none apply)."""
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return 0
    try:
        mailbox = None if request.user.is_staff_member else services.mailbox_for(request)
    except PermissionDenied:
        return 0
    return services.unread_conversation_count(request.user, mailbox)
