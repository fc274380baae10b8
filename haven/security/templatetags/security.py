from django import template

from haven.security.services import events_awaiting_review

register = template.Library()


@register.simple_tag
def security_events_waiting() -> int:
    return events_awaiting_review().count()
