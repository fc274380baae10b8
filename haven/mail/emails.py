"""Every e-mail Haven sends, with fixed wording and a link to Haven (MSG-4, MAIL-6).

Callers choose a template and a link path; they cannot pass free text, so no health information
can reach an e-mail body. The one exception is the portal copy that a recipient asks for after a
warning (MAIL-4): it carries their own reply, to their own address.
"""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from haven.mail.links import site_url
from haven.mail.models import Category


@dataclass(frozen=True)
class EmailTemplate:
    name: str
    subject: str
    categories: frozenset[str]
    # Only the portal copy may carry text the recipient wrote.
    carries_own_words: bool = False


TEMPLATES = {
    template.name: template
    for template in [
        EmailTemplate(
            "secure_message_waiting",
            _("You have a new secure message"),
            frozenset({Category.NOTIFICATION}),
        ),
        EmailTemplate(
            "account_registered",
            _("Your account is ready"),
            frozenset({Category.REGISTRATION}),
        ),
        EmailTemplate(
            "portal_message_waiting",
            _("A secure message is waiting for you"),
            frozenset(
                {
                    Category.NOTIFICATION,
                    Category.ANSWER,
                    Category.REQUIRED_NOTICE,
                    Category.REGISTRATION,
                    Category.REMINDER,
                    Category.NEWSLETTER,
                    Category.MARKETING,
                }
            ),
        ),
        EmailTemplate(
            # The decision is given only after sign-in; the e-mail names no one (producers).
            "producer_reviewed",
            _("Your producer registration has been reviewed"),
            frozenset({Category.REGISTRATION}),
        ),
        EmailTemplate(
            "portal_password_reset",
            _("Reset your secure e-mail portal password"),
            frozenset({Category.ANSWER}),
        ),
        EmailTemplate(
            "portal_reply_received",
            _("A reply is waiting in Haven"),
            frozenset({Category.NOTIFICATION}),
        ),
        EmailTemplate(
            "portal_reply_copy",
            _("Copy of your reply (not secure)"),
            frozenset({Category.ANSWER}),
            carries_own_words=True,
        ),
    ]
}


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text_body: str
    html_body: str


def render_email(
    template_name: str,
    *,
    category: str,
    link_path: str,
    language: str,
    unsubscribe_url: str = "",
    tracking_url: str = "",
    link_expires_at: datetime | None = None,
    own_words: str = "",
) -> RenderedEmail:
    """Render a template in the recipient's language; every link is on SITE_URL."""
    template = TEMPLATES[template_name]
    if category not in template.categories:
        raise ValueError(f"{template_name} is not an e-mail of category {category}")
    if own_words and not template.carries_own_words:
        raise ValueError(f"{template_name} carries no free text")
    context = {
        "site_name": settings.SITE_NAME,
        "organisation_name": settings.ORGANISATION_NAME,
        "site_url": settings.SITE_URL.rstrip("/"),
        "link": site_url(link_path),
        "link_expires_at": link_expires_at,
        "genuine_url": site_url(reverse("mail:genuine")),
        "unsubscribe_url": unsubscribe_url,
        "tracking_url": tracking_url,
        "own_words": own_words,
    }
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = f"{settings.SITE_NAME}: {template.subject}"
        text_body = render_to_string(f"mail/email/{template_name}.txt", context)
        html_body = render_to_string(f"mail/email/{template_name}.html", context)
    return RenderedEmail(subject=subject, text_body=text_body.strip() + "\n", html_body=html_body)
