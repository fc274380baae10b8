"""How a notice is shown: the officer's text in the reader's language, around the facts Haven's
configuration states (NOT-5, NOT-6). The page, the print layout and the PDF share it."""

from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from haven.privacy import facts
from haven.privacy.models import Notice, Recipient


@dataclass(frozen=True)
class Block:
    heading: bool
    text: str


def blocks(body: str) -> list[Block]:
    """Paragraphs split on blank lines; a line starting with '## ' is a heading, and the lines
    after it in the same paragraph are its first paragraph."""
    found = []
    for part in body.replace("\r\n", "\n").split("\n\n"):
        part = part.strip()
        if part.startswith("## "):
            heading, _, rest = part.partition("\n")
            found.append(Block(True, heading[3:].strip()))
            part = rest.strip()
        if part:
            found.append(Block(False, part))
    return found


def notice_context(notice: Notice, language: str) -> dict:
    text = notice.text_in(language)
    officer = facts.privacy_officer()
    return {
        "notice": notice,
        "text": text,
        "text_language": text.language if text else settings.LANGUAGE_CODE,
        "blocks": blocks(text.body) if text else [],
        "changes": blocks(text.changes) if text and text.changes else [],
        "retention": facts.retention_periods(),
        "recipient_categories": facts.recipient_categories(),
        "recipients": Recipient.objects.filter(active=True),
        "purposes": facts.purposes(),
        "officer": officer,
        "officer_address": officer["address"].splitlines(),
        "law": facts.law_label(),
        "home_country": facts.home_country(),
        "in_effect": notice.effective_date <= timezone.localdate(),
    }
