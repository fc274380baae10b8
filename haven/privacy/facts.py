"""The facts the privacy notice states, read from the configuration Haven itself runs on (NOT-6).

Retention periods come from the same settings (and defaults) the purge jobs read, recipients from
the registry that disclosures must name, purposes from the only purposes a disclosure may have,
and deadlines from the law configured in HAVEN_PRIVACY_LAW. Change a setting and both the system
and the notice change: they cannot drift apart. Other apps should read these functions.
"""

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.utils.translation import gettext_lazy as _

HIPAA = "hipaa"
GDPR = "gdpr"
LAWS = {HIPAA: _("HIPAA (United States)"), GDPR: _("GDPR (European Union)")}


def law() -> str:
    """The privacy law whose deadlines Haven keeps: "hipaa" (default) or "gdpr"."""
    chosen = getattr(settings, "HAVEN_PRIVACY_LAW", HIPAA)
    if chosen not in LAWS:
        raise ValueError(f"HAVEN_PRIVACY_LAW={chosen!r}: use hipaa or gdpr")
    return chosen


def law_label() -> str:
    return str(LAWS[law()])


# --- Retention ---------------------------------------------------------------------------------


def message_retention_days() -> int:
    """Closed secure-message conversations; `haven messaging purge` deletes them after this."""
    return getattr(settings, "HAVEN_MESSAGE_RETENTION_DAYS", 6 * 366)


def portal_message_days() -> int:
    """Secure e-mail portal messages; `haven mail purge_portal` deletes them after this."""
    return int(getattr(settings, "HAVEN_PORTAL_MESSAGE_DAYS", 30))


def mail_keep_days() -> int:
    """Sent, failed and suppressed e-mail; `haven mail prune_outbox` forgets them after this."""
    return int(getattr(settings, "HAVEN_MAIL_KEEP_DAYS", 90))


def weblog_retention_days() -> int:
    """Web-server log lines (address, browser, page) kept for intrusion detection;
    `haven security purge` erases older ones."""
    return int(getattr(settings, "HAVEN_WEBLOG_RETENTION_DAYS", 90))


def audit_retention_days() -> int:
    """The audit trail of access to members' data is kept at least this long (HIPAA's six-year
    documentation period). It is an append-only hash chain: nothing ever deletes from it, so the
    notice states a minimum and says the records are never deleted."""
    return int(getattr(settings, "HAVEN_AUDIT_RETENTION_DAYS", 6 * 366))


def backup_retention_days() -> int:
    """Encrypted database backups; erased data stays in them until they expire.
    `haven privacy backups` deletes the files in HAVEN_BACKUP_DIR older than this."""
    return int(getattr(settings, "HAVEN_BACKUP_RETENTION_DAYS", 35))


def backup_dir() -> str:
    """Where the operator's backup job writes its files (docs/deploy.md); empty: not set."""
    return str(getattr(settings, "HAVEN_BACKUP_DIR", ""))


def archive_link_hours() -> int:
    """An access archive can be downloaded for this long, then it is deleted."""
    return int(getattr(settings, "HAVEN_ARCHIVE_LINK_HOURS", 7 * 24))


def consent_retention_days() -> int:
    """A consent record is kept this long after a later choice replaced it (the choice in force
    is kept as long as it is in force); `haven privacy purge` deletes older ones."""
    return int(getattr(settings, "HAVEN_CONSENT_RETENTION_DAYS", 6 * 366))


def closed_account_retention_days() -> int:
    """A closed account is kept this long after closing (HIPAA's six-year documentation
    period by default), then the nightly `haven privacy retention` erases it as a deletion
    request would."""
    return int(getattr(settings, "HAVEN_CLOSED_ACCOUNT_RETENTION_DAYS", 6 * 365))


@dataclass(frozen=True)
class Retention:
    what: str
    days: int
    setting: str
    # The job that enforces the period, or "" for a minimum nothing ever shortens.
    job: str = ""
    # The haven.privacy.models.RetentionCategory the nightly retention run erases it under.
    category: str = ""

    @property
    def period(self) -> str:
        from django.utils.translation import ngettext

        if self.days % 365 == 0 or self.days % 366 == 0:
            years = round(self.days / 365.25)
            return ngettext("%(count)d year", "%(count)d years", years) % {"count": years}
        return ngettext("%(count)d day", "%(count)d days", self.days) % {"count": self.days}

    @property
    def described(self) -> str:
        if self.job:
            return self.period
        return str(_("at least %(period)s, never deleted") % {"period": self.period})


RETENTION_JOB = "haven privacy retention"


def retention_periods() -> list[Retention]:
    """What the notice states, each with the job that keeps it true (docs/deploy.md): the
    nightly `haven privacy retention` erases each under its category, on this same period."""
    return [
        Retention(
            str(_("Secure messages, after the conversation is closed")),
            message_retention_days(),
            "HAVEN_MESSAGE_RETENTION_DAYS",
            RETENTION_JOB,
            "messages",
        ),
        Retention(
            str(_("Secure e-mail portal messages")),
            portal_message_days(),
            "HAVEN_PORTAL_MESSAGE_DAYS",
            RETENTION_JOB,
            "portal",
        ),
        Retention(
            str(_("E-mails Haven sent you (address and text), once sent")),
            mail_keep_days(),
            "HAVEN_MAIL_KEEP_DAYS",
            RETENTION_JOB,
            "outbox",
        ),
        Retention(
            str(_("Web server logs (network address, browser, page), for security")),
            weblog_retention_days(),
            "HAVEN_WEBLOG_RETENTION_DAYS",
            RETENTION_JOB,
            "web_logs",
        ),
        Retention(
            str(
                _("Record of who saw or received your data (audit trail): it can only be added to")
            ),
            audit_retention_days(),
            "HAVEN_AUDIT_RETENTION_DAYS",
        ),
        Retention(
            str(_("Your consents and their withdrawals, after a later choice replaces them")),
            consent_retention_days(),
            "HAVEN_CONSENT_RETENTION_DAYS",
            RETENTION_JOB,
            "consents",
        ),
        Retention(
            str(_("A closed account and its data, after it was closed; then it is erased")),
            closed_account_retention_days(),
            "HAVEN_CLOSED_ACCOUNT_RETENTION_DAYS",
            RETENTION_JOB,
            "closed_accounts",
        ),
        Retention(
            str(_("Encrypted backups")),
            backup_retention_days(),
            "HAVEN_BACKUP_RETENTION_DAYS",
            RETENTION_JOB,
            "backups",
        ),
    ]


def retention_of(category: str) -> Retention:
    """The notice's statement for one category of the nightly run ("closed_accounts")."""
    return next(item for item in retention_periods() if item.category == category)


# --- Notices -------------------------------------------------------------------------------


def notice_period_days() -> int:
    """A material change is posted at least this many days before it takes effect (NOT-3)."""
    return int(getattr(settings, "HAVEN_NOTICE_PERIOD_DAYS", 30))


def notice_reach_days() -> int:
    """Every account holder is told of a revised notice within this many days."""
    return int(getattr(settings, "HAVEN_NOTICE_REACH_DAYS", 60))


def notice_reminder_days() -> int:
    """Members are reminded of the notice at least this often (three years)."""
    return int(getattr(settings, "HAVEN_NOTICE_REMINDER_DAYS", 3 * 365))


def breach_notice_days() -> int:
    """Affected people are told of a breach within this many days of its discovery."""
    return int(getattr(settings, "HAVEN_BREACH_NOTICE_DAYS", 60 if law() == HIPAA else 30))


def accounting_years() -> int:
    """The accounting of disclosures covers this many years back."""
    return 6


# --- Contact ---------------------------------------------------------------------------------

DEFAULT_OFFICER = {
    "title": "Privacy Officer",
    "email": "privacy@haven.example",
    "phone": "+1 860 555 0147",
    "address": "Haven Health Plan\nAttn: Privacy Officer\n100 Pearl Street\nHartford, CT 06103\nUnited States",
    "hours": "Monday to Friday, 8:00 to 18:00 Eastern",
}


def privacy_officer() -> dict[str, str]:
    """How to reach the privacy officer: e-mail, phone, post (and the form) (RIG-5)."""
    return DEFAULT_OFFICER | dict(getattr(settings, "HAVEN_PRIVACY_OFFICER", {}))


# --- Recipients and purposes ------------------------------------------------------------------


def purposes() -> list[tuple[str, str]]:
    from haven.privacy.models import DisclosurePurpose

    return [(value, str(label)) for value, label in DisclosurePurpose.choices]


def recipient_categories() -> list[dict]:
    """Each kind of recipient in the registry with the countries they are in."""
    from haven.privacy.models import Recipient, RecipientCategory

    found: dict[str, set[str]] = {}
    for category, country in Recipient.objects.filter(active=True).values_list(
        "category", "country"
    ):
        found.setdefault(category, set()).add(country)
    labels = dict(RecipientCategory.choices)
    return [
        {"category": str(labels[category]), "countries": sorted(countries)}
        for category, countries in sorted(found.items())
    ]


def home_country() -> str:
    return getattr(settings, "HAVEN_HOME_COUNTRY", "US")


# --- Deadlines (RIG-7) -----------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """The same day `months` later; a day the month lacks falls to its last day (31 Jan + 1 =
    28 or 29 Feb), as a calendar month counts under the GDPR."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Deadline:
    days: int = 0
    months: int = 0
    extra_days: int = 0
    extra_months: int = 0

    def due(self, start: date) -> date:
        return add_months(start, self.months) + timedelta(days=self.days)

    def extended(self, due: date) -> date:
        return add_months(due, self.extra_months) + timedelta(days=self.extra_days)


# HIPAA: access 45 CFR 164.524 (30 + 30), amendment 164.526 (60 + 30), accounting 164.528
# (60 + 30). Deletion and the recipients list follow the CCPA's 45 + 45 days. GDPR art. 12(3):
# one month, extendable by two further months, the person told within the first month.
DEADLINES = {
    HIPAA: {
        "access": Deadline(days=30, extra_days=30),
        "correction": Deadline(days=60, extra_days=30),
        "accounting": Deadline(days=60, extra_days=30),
        "deletion": Deadline(days=45, extra_days=45),
        "recipients": Deadline(days=45, extra_days=45),
    },
    GDPR: {
        kind: Deadline(months=1, extra_months=2)
        for kind in ("access", "correction", "accounting", "deletion", "recipients")
    },
}


def deadline_for(kind: str) -> Deadline:
    return DEADLINES[law()][kind]
