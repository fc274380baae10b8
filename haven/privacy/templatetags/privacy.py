from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def first_on_page(context, name: str) -> bool:
    """True the first time a partial asks during a request: a banner included both by the base
    layout and by a page renders once."""
    request = context.get("request")
    if request is None:
        return True
    shown = request.__dict__.setdefault("_privacy_partials_shown", set())
    if name in shown:
        return False
    shown.add(name)
    return True


@register.simple_tag(takes_context=True)
def count_page_view(context) -> str:
    """The first-party page-view counter (CON-5): the base layout includes the cookie banner
    once per page, and the banner counts the page here, only for visitors who allowed it."""
    from haven.privacy.services import page_view_count

    request = context.get("request")
    if request is not None:
        page_view_count(request)
    return ""
