"""The exact words a person agrees to, each with a version: a consent record keeps both (CON-8).

Change a wording and give it a new version: records made before keep the words they showed.
"""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import override


@dataclass(frozen=True)
class Wording:
    version: str
    text: Promise

    def shown_in(self, language: str) -> str:
        """The words as the person saw them, in their language."""
        with override(language):
            return str(self.text)


CONTACT = Wording(
    "contact-2026-01",
    _(
        "I choose which messages Haven sends me and how (e-mail, text message, phone call, "
        "post). I can change these choices at any time on this page."
    ),
)

MARKETING = Wording(
    "marketing-2026-01",
    _(
        "I authorise Haven Health Plan to send me information about products and services that "
        "are not part of my health plan benefits, by the channels I ticked. This is separate from "
        "my plan's own messages, it is not a condition of my coverage, and I can withdraw it at "
        "any time on my privacy page or with the link in any such message."
    ),
)

MEDICAL_DATA = Wording(
    "medical-data-2026-01",
    _(
        "I consent to Haven Health Plan collecting and using my medical data (claims, diagnoses, "
        "documents from my care team) to administer my coverage and claims and to support my "
        "care, as described in the privacy notice. I can withdraw this consent; Haven then keeps "
        "only what the law requires it to keep."
    ),
)

ANALYTICS = Wording(
    "analytics-2026-11b",
    _(
        "Allow Haven's own site analytics: daily totals of how often each page of the site is "
        "viewed and how long it stays open, by the page's name only, and of the sites visits come "
        "from, by their domain only. It sets no cookie of its own, keeps no identifier and "
        "nothing about who you are or your health, and is never shared with anyone else."
    ),
)

LOCATION = Wording(
    "location-2026-01",
    _(
        "Use my device's precise location only to find a facility or a doctor near me, or my way "
        "inside a facility. It is not stored with my record and I can turn it off at any time."
    ),
)

NOTICE = Wording(
    "notice-acknowledgement-2026-01",
    _("I have received and read this version of the privacy notice."),
)
