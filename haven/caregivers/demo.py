"""Demo grants for `haven demo` (ACC-8, ACC-9): Elena lets Maria act for her in chosen parts of
her record (not claims), and member services record Alice as the guardian of her two minor
children. Made through the same services as the pages; running the demo again adds nothing."""

from datetime import timedelta

from django.utils import timezone

from haven.accounts.models import User
from haven.caregivers.models import Grant, Scope
from haven.caregivers.services import (
    caregiver_invitation_accept,
    caregiver_invitation_create,
    guardian_grant_create,
)
from haven.plans.models import Member

MARIA_SCOPES = [Scope.PROFILE, Scope.MESSAGES, Scope.APPOINTMENTS, Scope.PLAN]
# Carla and Diego Rivera, Alice's children on the roster.
ALICE_CHILDREN = ["HVN1000003", "HVN1000004"]
GUARDIAN_NOTE = "Birth certificates checked at the Hartford office (demo)."


def load() -> None:
    users = {u.username: u for u in User.objects.filter(username__in=["alice", "elena", "maria"])}
    alice, elena, maria = users["alice"], users["elena"], users["maria"]
    if not Grant.objects.current().filter(member=elena.member, grantee=maria).exists():
        last_day = timezone.localdate() + timedelta(days=365)
        _, token = caregiver_invitation_create(
            invited_name="Maria Lopez",
            scopes=list(MARIA_SCOPES),
            last_day=last_day,
            actor=elena,
        )
        caregiver_invitation_accept(token=token, actor=maria)
    member_services = User.objects.get(username="sam")
    for child in Member.objects.filter(member_id__in=ALICE_CHILDREN):
        if Grant.objects.current().filter(member=child, grantee=alice).exists():
            continue
        guardian_grant_create(
            minor=child, guardian=alice, note=GUARDIAN_NOTE, actor=member_services
        )
