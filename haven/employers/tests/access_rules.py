from haven.employers.models import SponsorContact
from haven.testing.access import EMPLOYER, STAFF, Rule


def riverside_member(case) -> dict:
    """Rita (the employer account) is linked to Riverside, Alice's group."""
    SponsorContact.objects.get_or_create(
        user=case.employer, defaults={"group": case.group, "linked_by": case.administrator}
    )
    return {"pk": case.alice_member.pk}


def outside_member(case) -> dict:
    riverside_member(case)
    return {"pk": case.oscar_member.pk}


ADMINISTRATORS = {STAFF["administrator"]}

RULES = [
    # Not linked yet, Rita is told to ask for a link; linked, she sees her group (DIS-3).
    Rule("employers:home", allow={EMPLOYER}),
    Rule("employers:member", allow={EMPLOYER}, kwargs=riverside_member),
    Rule(
        "employers:member",
        allow=set(),
        kwargs=outside_member,
        note="Oscar is in another group: not found, even for Rita",
    ),
    Rule("employers:contacts", allow=ADMINISTRATORS),
    Rule(
        "employers:contacts",
        method="POST",
        allow=ADMINISTRATORS,
        data=lambda case: {"username": "hr", "group_number": "G-1"},
        ok=(302,),
    ),
]
