"""Links that leave Haven go through the leaving page first (SEC-3).

{% load leaving %}
{% external_link practice.website %}                 the site's host name as the text
{% external_link practice.website "Their website" %}
<a href="{{ url|leaving_url }}">...</a>              the page's address alone
"""

from urllib.parse import urlsplit

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

from haven.care import links

register = template.Library()


@register.filter
def leaving_url(url: str) -> str:
    """The leaving page for an external address; empty for anything else."""
    return links.leaving_url(url) if url and links.is_external(url) else ""


@register.simple_tag
def external_link(url: str, text: str = "", css_class: str = "external-link"):
    """A link to another site, through the leaving page, marked as leaving Haven."""
    if not url or not links.is_external(url):
        return text
    label = text or urlsplit(url).hostname
    return format_html(
        '<a href="{}" class="{}">{}<span class="visually-hidden"> ({})</span></a>',
        links.leaving_url(url),
        css_class,
        label,
        _("leaves Haven"),
    )
