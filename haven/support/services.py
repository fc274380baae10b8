"""Member-services actions, each recorded with the staff member who took it."""

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from haven.accounts.models import User
from haven.accounts.sessions import end_sessions
from haven.plans.models import Member
from haven.support.models import AccessBlock

# Member services staff who take requests from members over the phone or in writing.
MEMBER_SERVICES_ROLES = (User.StaffRole.CUSTOMER_SERVICE, User.StaffRole.ADMINISTRATOR)


def blocks_covering(member: Member):
    """Active blocks that cover this member: their own, or a family block of anyone in the family."""
    return AccessBlock.objects.filter(lifted_at__isnull=True).filter(
        Q(member=member) | Q(include_family=True, member__in=member.family())
    )


def member_blocked(member: Member) -> bool:
    """Whether online access to this member's record is blocked (ACC-7)."""
    return blocks_covering(member).exists()


def blocked_member_ids(members: Iterable[Member]) -> set[int]:
    """The members among these whose online access is blocked, in one query (for lists)."""
    members = list(members)
    if not members:
        return set()
    heads = {member.subscriber_id or member.pk for member in members}
    blocks = AccessBlock.objects.filter(lifted_at__isnull=True).filter(
        Q(member__in=[member.pk for member in members])
        | Q(include_family=True, member__in=heads)
        | Q(include_family=True, member__subscriber__in=heads)
    )
    blocked = set()
    rows = blocks.values_list("member_id", "member__subscriber_id", "include_family")
    for block_member_id, block_head_id, include_family in rows:
        for member in members:
            same_family = (block_head_id or block_member_id) == (member.subscriber_id or member.pk)
            if member.pk == block_member_id or (include_family and same_family):
                blocked.add(member.pk)
    return blocked


def online_access_blocked(user: User) -> bool:
    return user.member_id is not None and blocks_covering(user.member).exists()


def _already_blocked(member: Member, *, include_family: bool) -> bool:
    if not include_family:
        return blocks_covering(member).exists()
    return AccessBlock.objects.filter(
        lifted_at__isnull=True, include_family=True, member__in=member.family()
    ).exists()


def _require_member_services(actor: User) -> None:
    if not actor.has_staff_role(*MEMBER_SERVICES_ROLES):
        raise PermissionDenied


@transaction.atomic
def access_block_create(
    *, member: Member, include_family: bool, reason: str, actor: User
) -> AccessBlock:
    """Block online access at the member's request; every covered session ends at once (ACC-7)."""
    _require_member_services(actor)
    if not reason.strip():
        raise ValidationError(_("Write down the reason the member gave."), code="reason")
    if _already_blocked(member, include_family=include_family):
        raise ValidationError(
            _("A block in force already covers this request. Nothing was changed."),
            code="already_blocked",
        )
    block = AccessBlock.objects.create(
        member=member, include_family=include_family, reason=reason.strip(), created_by=actor
    )
    for user in block.covered_accounts():
        end_sessions(user)
    return block


@transaction.atomic
def access_block_lift(*, block: AccessBlock, note: str, actor: User) -> AccessBlock:
    """Lift a block when the member asks support to; only staff can, never the member online."""
    _require_member_services(actor)
    block = AccessBlock.objects.select_for_update().get(pk=block.pk)
    if not block.is_active:
        raise ValidationError(_("This block was already lifted."), code="lifted")
    if not note.strip():
        raise ValidationError(_("Write down how the request to lift was checked."), code="note")
    block.lifted_at = timezone.now()
    block.lifted_by = actor
    block.lift_note = note.strip()
    block.save(update_fields=["lifted_at", "lifted_by", "lift_note"])
    return block
