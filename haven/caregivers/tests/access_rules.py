from django.utils import timezone

from haven.caregivers.models import Grant, Scope
from haven.testing.access import (
    CAREGIVER,
    CONSUMER,
    EVERYONE,
    GUARDIAN,
    MEMBER,
    MEMBERS,
    Rule,
)
from haven.testing.people import make_member, make_user, years_ago

GRANT_HOLDERS = MEMBERS | {CAREGIVER, CONSUMER}
ALICE = {MEMBER, GUARDIAN}  # the same person, acting for herself or for her son


def alice_grant(case, *, accepted: bool) -> dict:
    """A caregiver grant on Alice's own record, held by someone outside the matrix."""
    now = timezone.now()
    grantee = make_user(f"helper-{Grant.objects.count()}", "caregiver") if accepted else None
    grant = Grant.objects.create(
        member=case.alice_member,
        grantee=grantee,
        kind=Grant.Kind.CAREGIVER,
        scopes=[Scope.MESSAGES],
        expires_at=Grant.default_caregiver_expiry(now),
        accepted_at=now if accepted else None,
        invitation_token_hash="" if accepted else "f" * 64,
        invited_name="Helper",
        created_by=case.alice,
    )
    return {"pk": grant.pk}


def marias_own_grant(case) -> dict:
    """A grant Maria holds for someone outside the matrix, so giving it up changes nothing else."""
    member = make_member(
        f"M-GIVE-{Grant.objects.count()}", case.other_group, "Gina", "Vale", years_ago(80)
    )
    now = timezone.now()
    grant = Grant.objects.create(
        member=member,
        grantee=case.maria,
        kind=Grant.Kind.CAREGIVER,
        scopes=[Scope.MESSAGES],
        expires_at=Grant.default_caregiver_expiry(now),
        accepted_at=now,
        created_by=case.maria,
    )
    return {"pk": grant.pk}


RULES = [
    Rule("caregivers:grants", allow=GRANT_HOLDERS),
    Rule("caregivers:switch", allow=GRANT_HOLDERS),
    Rule("caregivers:invite", allow=MEMBERS),
    Rule(
        "caregivers:invitation_link",
        allow=ALICE,
        kwargs=lambda case: alice_grant(case, accepted=False),
    ),
    Rule(
        "caregivers:invitation_link",
        allow=set(),
        kwargs=lambda case: {"pk": case.maria_grant.pk},
        note="Elena's grant: nobody else sees it",
    ),
    Rule(
        "caregivers:renew",
        allow=ALICE,
        kwargs=lambda case: alice_grant(case, accepted=True),
    ),
    Rule(
        "caregivers:renew",
        allow=set(),
        kwargs=lambda case: {"pk": case.maria_grant.pk},
        note="Elena's grant: nobody else renews it, not even Maria who holds it",
    ),
    Rule(
        "caregivers:revoke",
        method="POST",
        allow=ALICE,
        ok=(302,),
        kwargs=lambda case: alice_grant(case, accepted=True),
    ),
    Rule(
        "caregivers:revoke",
        method="POST",
        allow=set(),
        kwargs=lambda case: {"pk": case.maria_grant.pk},
        note="Elena's grant: nobody else revokes it",
    ),
    Rule(
        "caregivers:give_up",
        method="POST",
        allow={CAREGIVER},
        ok=(302,),
        kwargs=marias_own_grant,
    ),
    Rule(
        "caregivers:give_up",
        method="POST",
        allow=set(),
        kwargs=lambda case: alice_grant(case, accepted=True),
        note="only the holder gives a grant up",
    ),
    Rule(
        "caregivers:invitation",
        allow=EVERYONE,
        ok=(302,),
        kwargs={"token": "not-a-real-invitation-token"},
        note="the token moves into the session; the accept page checks it",
    ),
    Rule("caregivers:accept", allow=EVERYONE, note="explains an invalid or missing invitation"),
    Rule(
        "caregivers:invitation_account",
        method="POST",
        allow=EVERYONE,
        ok=(200, 302),
        note="without a valid invitation it only explains; signed-in users go back",
    ),
]
