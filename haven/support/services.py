"""Member-services actions, each recorded with the staff member who took it."""

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from haven.accounts.models import User
from haven.accounts.sessions import end_sessions
from haven.plans.models import Member
from haven.support.models import AccessBlock


def blocks_covering(member: Member):
    """Active blocks that cover this member: their own, or a family block of anyone in the family."""
    return AccessBlock.objects.filter(lifted_at__isnull=True).filter(
        Q(member=member) | Q(include_family=True, member__in=member.family())
    )


def online_access_blocked(user: User) -> bool:
    return user.member_id is not None and blocks_covering(user.member).exists()


@transaction.atomic
def access_block_create(
    *, member: Member, include_family: bool, reason: str, actor: User
) -> AccessBlock:
    """Block online access at the member's request; every covered session ends at once (ACC-7)."""
    block = AccessBlock.objects.create(
        member=member, include_family=include_family, reason=reason, created_by=actor
    )
    covered = member.family() if include_family else Member.objects.filter(pk=member.pk)
    for user in User.objects.filter(member__in=covered):
        end_sessions(user)
    return block


@transaction.atomic
def access_block_lift(*, block: AccessBlock, note: str, actor: User) -> AccessBlock:
    block.lifted_at = timezone.now()
    block.lifted_by = actor
    block.lift_note = note
    block.save(update_fields=["lifted_at", "lifted_by", "lift_note"])
    return block
