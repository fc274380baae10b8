from django import template

from haven.producers.services import REVIEWER_ROLES, waiting_registrations

register = template.Library()


@register.simple_tag(takes_context=True)
def waiting_producer_registrations(context) -> int | None:
    """How many registrations wait for review, or None if the user does not review them."""
    user = context.get("user")
    if user is None or not user.is_authenticated or not user.has_staff_role(*REVIEWER_ROLES):
        return None
    return waiting_registrations().count()
