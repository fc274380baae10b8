"""The jobs that keep the notice's retention periods true (NOT-6): each reads its period from
`haven.privacy.facts`, the same function the notice states it from.

- `consents_purge`: a consent record is history once a later choice (same person, subject and
  scope) replaces it; it is deleted when that later choice is older than
  `facts.consent_retention_days()`. The choice in force is never deleted: it is the proof of what
  the person agreed to. On PostgreSQL the append-only trigger lets only this purge delete, and
  only such rows (migration 0003).
- `backups_prune`: backup files in `facts.backup_dir()` older than
  `facts.backup_retention_days()` are deleted.
- closed accounts: an account closed longer than `facts.closed_account_retention_days()` is
  erased by `haven.privacy.services.closed_account_erase`, exactly as a deletion request erases
  one, and the `Erasure` records what went and what stays.

The audit trail is append-only and never shortened: the notice states its period as a minimum.

`run` (LOG-5) is the one nightly entry point (`haven privacy retention`, task
`haven.privacy.tasks.retention_run`): it runs every category's purge in batches, each on the period
the notice states, skips the data of members and accounts under a `LegalHold` (counting it as
held), and records a `RetentionRun` row per category; a category that fails is recorded with its
error and the others still run.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from haven.privacy import facts
from haven.privacy.models import ConsentRecord, LegalHold, RetentionCategory, RetentionRun

# --- Legal holds ------------------------------------------------------------------------------


def held(category: str | None) -> tuple[set[int], set[int]]:
    """The member ids and account ids whose data in `category` (in any category: None) an
    active hold keeps. A hold on a member covers their account, and a hold on an account covers
    its member."""
    from haven.accounts.models import User

    members: set[int] = set()
    accounts: set[int] = set()
    for hold in LegalHold.objects.filter(lifted_at__isnull=True):
        if category is None or hold.covers(category):
            if hold.member_id:
                members.add(hold.member_id)
            if hold.account_id:
                accounts.add(hold.account_id)
    if members or accounts:
        members |= set(
            User.objects.filter(pk__in=accounts, member__isnull=False).values_list(
                "member_id", flat=True
            )
        )
        accounts |= set(User.objects.filter(member_id__in=members).values_list("pk", flat=True))
    return members, accounts


def holds_covering(*, account=None, member=None) -> QuerySet[LegalHold]:
    """Active holds, in any category, on this account or member, or on the account's member or
    the member's account. Erasing an account touches several categories (its e-mails, archives,
    the account itself), so any such hold suspends the erasure of the whole account."""
    from django.db.models import Q

    from haven.accounts.models import User

    if account is not None and member is None:
        member = account.member
    if member is not None and account is None:
        account = User.objects.filter(member=member).first()
    whom = Q(pk__in=[])
    if account is not None:
        whom |= Q(account=account)
    if member is not None:
        whom |= Q(member=member)
    return LegalHold.objects.filter(whom, lifted_at__isnull=True)


HOLD_ROLES = ("privacy_officer", "compliance")


def _may_hold(actor) -> bool:
    return actor.is_authenticated and actor.has_staff_role(*HOLD_ROLES)


@transaction.atomic
def hold_place(*, actor, reason: str, member=None, account=None, categories=()) -> LegalHold:
    """Place a legal hold on a member's or an account's data (all categories when none given)."""
    from django.core.exceptions import PermissionDenied, ValidationError
    from django.utils.translation import gettext as _

    if not _may_hold(actor):
        raise PermissionDenied
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("Write why the data must be kept."), code="reason")
    if member is None and account is None:
        raise ValidationError(_("Name the member or the account."), code="whom")
    unknown = set(categories) - set(RetentionCategory.values)
    if unknown:
        raise ValidationError(_("Unknown category."), code="categories")
    return LegalHold.objects.create(
        member=member,
        account=account,
        categories=sorted(categories),
        reason=reason,
        placed_by=actor,
    )


@transaction.atomic
def hold_lift(*, hold: LegalHold, actor) -> LegalHold:
    """Lift a hold: the next retention run erases what it kept and is past its time."""
    from django.core.exceptions import PermissionDenied

    if not _may_hold(actor):
        raise PermissionDenied
    LegalHold.objects.filter(pk=hold.pk, lifted_at__isnull=True).update(
        lifted_at=timezone.now(), lifted_by=actor
    )
    hold.refresh_from_db()
    return hold


def without_held(
    queryset: QuerySet, category: str, *, member: str = "member", account: str = "user"
) -> QuerySet:
    """`queryset` less the rows of held members (field `member`) and accounts (field `account`)."""
    members, accounts = held(category)
    if members and member:
        queryset = queryset.exclude(**{f"{member}__in": members})
    if accounts and account:
        queryset = queryset.exclude(**{f"{account}__in": accounts})
    return queryset


def consent_cutoff(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(days=facts.consent_retention_days())


def consents_past_retention(now: datetime | None = None, *, include_held: bool = False):
    """Records replaced by a later choice of the same person that is itself past retention,
    less those of members and accounts under a legal hold (unless `include_held`)."""
    cutoff = consent_cutoff(now)
    later = ConsentRecord.objects.filter(
        subject=OuterRef("subject"),
        scope=OuterRef("scope"),
        pk__gt=OuterRef("pk"),
        recorded_at__gte=OuterRef("recorded_at"),
        recorded_at__lt=cutoff,
    )
    by_user = ConsentRecord.objects.filter(user__isnull=False).filter(
        Exists(later.filter(user=OuterRef("user")))
    )
    by_visitor = ConsentRecord.objects.filter(user__isnull=True).filter(
        Exists(later.filter(user__isnull=True, visitor=OuterRef("visitor")))
    )
    found = by_user | by_visitor
    if include_held:
        return found
    return without_held(found, RetentionCategory.CONSENTS)


def consents_purge(now: datetime | None = None, batch_size: int = 1000) -> int:
    """Delete consent records past retention, oldest first, in batches; returns how many."""
    cutoff = consent_cutoff(now)
    deleted = 0
    while True:
        ids = list(
            consents_past_retention(now).order_by("pk").values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return deleted
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT set_config('haven.consent_purge_before', %s, true)",
                        [cutoff.isoformat()],
                    )
            # A queryset delete: ConsentRecord.delete(), which refuses, is for single records.
            deleted += ConsentRecord.objects.filter(pk__in=ids).delete()[0]


def backups_prune(now: datetime | None = None) -> list[str]:
    """Delete backup files older than the retention the notice states; returns their names."""
    directory = facts.backup_dir()
    if not directory:
        raise ImproperlyConfigured("HAVEN_BACKUP_DIR is not set: where are the backups?")
    cutoff = (now or timezone.now()).timestamp() - facts.backup_retention_days() * 86400
    removed = []
    for path in sorted(Path(directory).iterdir()):
        if path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink()
            removed.append(path.name)
    return removed


# --- The nightly run (LOG-5) ------------------------------------------------------------------

# Rows deleted per transaction: short enough that the site never waits on the run's locks.
BATCH_SIZE = 1000


def _web_logs(now: datetime) -> tuple[int, int]:
    from haven.security.services import purge_web_log

    # Web-log lines carry no account (haven.security.models.WebRequest): no hold can name them.
    return purge_web_log(now=now, batch=BATCH_SIZE), 0


def _messages(now: datetime) -> tuple[int, int]:
    from haven.messaging.models import Conversation
    from haven.messaging.services import messages_purge

    cutoff = now - timedelta(days=facts.message_retention_days())
    closed = Conversation.objects.filter(status=Conversation.Status.CLOSED, closed_at__lt=cutoff)
    # messaging.services.past_retention skips conversations on hold and members' under a hold.
    kept = (
        closed.count()
        - without_held(
            closed.filter(legal_hold=False), RetentionCategory.MESSAGES, account="account"
        ).count()
    )
    return messages_purge(now=now, batch_size=BATCH_SIZE), kept


def _portal(now: datetime) -> tuple[int, int]:
    from haven.mail.services import portal_purge_expired

    # Portal recipients are e-mail addresses, not members or accounts: no hold can name them.
    return portal_purge_expired()["messages"], 0


def _outbox(now: datetime) -> tuple[int, int]:
    """As `haven.mail.services.outbox_prune`, in batches and skipping held accounts' e-mail."""
    from haven.mail.models import EmailStatus, OutgoingEmail

    finished = [EmailStatus.SENT, EmailStatus.FAILED, EmailStatus.PORTAL, EmailStatus.SUPPRESSED]
    due = OutgoingEmail.objects.filter(
        status__in=finished, created_at__lt=now - timedelta(days=facts.mail_keep_days())
    )
    erasable = without_held(due, RetentionCategory.OUTBOX, member="")
    kept = due.count() - erasable.count()
    erased = 0
    while ids := list(erasable.order_by("pk").values_list("pk", flat=True)[:BATCH_SIZE]):
        erased += OutgoingEmail.objects.filter(pk__in=ids).delete()[1].get("mail.OutgoingEmail", 0)
    return erased, kept


def _consents(now: datetime) -> tuple[int, int]:
    kept = consents_past_retention(now, include_held=True).count()
    erased = consents_purge(now, batch_size=BATCH_SIZE)
    return erased, kept - erased


def _exports(now: datetime) -> tuple[int, int]:
    from haven.privacy.services import archives_expire

    # An access archive is a copy for the member; a hold keeps the data it was made from.
    return archives_expire(now), 0


def _backups(now: datetime) -> tuple[int, int]:
    return len(backups_prune(now)), 0


def _closed_accounts(now: datetime) -> tuple[int, int]:
    """Accounts closed longer than the notice's period, erased one per transaction as a
    deletion request erases them; accounts under a legal hold (any category) are kept."""
    from haven.accounts.models import User
    from haven.privacy.models import Erasure
    from haven.privacy.services import closed_account_erase

    cutoff = now - timedelta(days=facts.closed_account_retention_days())
    due = User.objects.filter(closed_at__lt=cutoff).exclude(
        Exists(Erasure.objects.filter(account=OuterRef("pk")))
    )
    members, accounts = held(None)
    erasable = due.exclude(pk__in=accounts).exclude(member__in=members)
    kept = due.count() - erasable.count()
    erased = 0
    after = 0
    while ids := list(
        erasable.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:BATCH_SIZE]
    ):
        for account in User.objects.filter(pk__in=ids).order_by("pk"):
            if closed_account_erase(account=account, cutoff=cutoff) is not None:
                erased += 1
        after = ids[-1]
    return erased, kept


@dataclass(frozen=True)
class Category:
    key: str
    days: Callable[[], int]
    purge: Callable[[datetime], tuple[int, int]]


def categories() -> list[Category]:
    """Every category the run erases, with the facts function the notice states its period from."""
    return [
        Category(RetentionCategory.WEB_LOGS, facts.weblog_retention_days, _web_logs),
        Category(RetentionCategory.MESSAGES, facts.message_retention_days, _messages),
        Category(RetentionCategory.PORTAL, facts.portal_message_days, _portal),
        Category(RetentionCategory.OUTBOX, facts.mail_keep_days, _outbox),
        Category(RetentionCategory.CONSENTS, facts.consent_retention_days, _consents),
        Category(
            RetentionCategory.EXPORTS, lambda: max(1, facts.archive_link_hours() // 24), _exports
        ),
        Category(RetentionCategory.BACKUPS, facts.backup_retention_days, _backups),
        Category(
            RetentionCategory.CLOSED_ACCOUNTS,
            facts.closed_account_retention_days,
            _closed_accounts,
        ),
    ]


def run(now: datetime | None = None, only: list[str] | None = None) -> list[RetentionRun]:
    """Run every category's purge and record each; a failure is recorded, the rest still run."""
    run_id = uuid.uuid4()
    recorded = []
    for category in categories():
        if only and category.key not in only:
            continue
        started = timezone.now()
        erased = kept = 0
        error = ""
        try:
            if connection.in_atomic_block:  # called inside a transaction: keep it usable
                with transaction.atomic():
                    erased, kept = category.purge(now or started)
            else:
                erased, kept = category.purge(now or started)
        except Exception as failure:  # noqa: BLE001 - recorded, and the next category runs
            error = f"{type(failure).__name__}: {failure}"
        recorded.append(
            RetentionRun.objects.create(
                run=run_id,
                category=category.key,
                period_days=category.days(),
                started_at=started,
                finished_at=timezone.now(),
                erased=erased,
                held=kept,
                error=error,
            )
        )
    return recorded
