from django.utils import timezone

from haven.audit.tests.training import trained
from haven.support.models import AccessBlock
from haven.testing.access import STAFF, Rule
from haven.testing.people import make_member, years_ago

MEMBER_SERVICES = {STAFF["customer_service"], STAFF["administrator"]}


def lifted_block(case) -> dict:
    """A past block on a member outside the matrix, so no role's own access changes."""
    member = make_member(
        f"M-BLOCK-{AccessBlock.objects.count()}", case.other_group, "Bea", "Lund", years_ago(50)
    )
    block = AccessBlock.objects.create(
        member=member,
        include_family=False,
        reason="lost phone",
        created_by=case.representative,
        lifted_at=timezone.now(),
        lifted_by=case.representative,
        lift_note="found it",
    )
    return trained(case, {"pk": block.pk})


RULES = [
    Rule("support:member_search", allow=MEMBER_SERVICES),
    Rule(
        "support:member",
        allow=MEMBER_SERVICES,
        kwargs=lambda case: trained(case, {"pk": case.alice_member.pk}),
    ),
    Rule(
        "support:block_create",
        allow=MEMBER_SERVICES,
        kwargs=lambda case: trained(case, {"pk": case.alice_member.pk}),
    ),
    Rule(
        "support:guardian_create",
        allow=MEMBER_SERVICES,
        kwargs=lambda case: trained(case, {"pk": case.carla_member.pk}),
    ),
    Rule("support:blocks", allow=MEMBER_SERVICES, kwargs=lambda case: trained(case, {})),
    Rule("support:block_lift", allow=MEMBER_SERVICES, kwargs=lifted_block),
    Rule(
        "support:guardian_end",
        allow=MEMBER_SERVICES,
        kwargs=lambda case: trained(case, {"pk": case.teo_guardian_grant.pk}),
    ),
]
