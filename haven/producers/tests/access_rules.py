from haven.producers.models import Authorisation, ClientElement
from haven.testing.access import (
    EVERYONE,
    GUARDIAN,
    MEMBER,
    MEMBERS,
    PENDING_PRODUCER,
    PRODUCER,
    STAFF,
    Rule,
)

REVIEWERS = {STAFF["producer_support"], STAFF["administrator"]}
ANALYSTS = {STAFF["producer_support"], STAFF["compliance"], STAFF["administrator"]}


def pending_registration(case) -> dict:
    return {"pk": case.pending_producer.producer.pk}


def alices_authorisation(case) -> dict:
    """Alice has authorised Pete (the approved producer) to see her name and coverage."""
    authorisation, _ = Authorisation.objects.get_or_create(
        member=case.alice_member,
        producer=case.producer.producer,
        revoked_at=None,
        defaults={
            "elements": [ClientElement.NAME, ClientElement.COVERAGE],
            "authorised_by": case.alice,
        },
    )
    return {"pk": authorisation.pk}


RULES = [
    Rule(
        "producers:register",
        allow=EVERYONE,
        ok=(200, 302),
        note="visitors see the form; anyone signed in is sent to their own page",
    ),
    # Producer-only pages open to the approved producer alone (ACC-2).
    Rule("producers:home", allow={PRODUCER}),
    # Both producers see their own registration: the approved one keeps it for reference.
    Rule("producers:status", allow={PRODUCER, PENDING_PRODUCER}),
    Rule("producers:edit", allow={PENDING_PRODUCER}, note="only while waiting for review"),
    Rule("producers:review_queue", allow=REVIEWERS),
    Rule("producers:review", allow=REVIEWERS, kwargs=pending_registration),
    Rule(
        "producers:review",
        method="POST",
        allow=REVIEWERS,
        kwargs=pending_registration,
        # A rejection without a note is refused by the form, so the check leaves Penny waiting.
        data={"decision": "reject", "note": ""},
    ),
    # A client's page opens to the producer the client authorised, and to nobody else.
    Rule("producers:client", allow={PRODUCER}, kwargs=alices_authorisation),
    Rule(
        "producers:client",
        allow={PRODUCER},
        kwargs=alices_authorisation,
        data={"elements": [ClientElement.COVERAGE]},
        note="the producer reads what Alice allowed, through the accessor",
    ),
    # Every member manages their own producers; Alice alone can revoke hers.
    Rule("producers:authorisations", allow=MEMBERS),
    Rule(
        "producers:revoke",
        method="POST",
        allow={MEMBER, GUARDIAN},
        kwargs=alices_authorisation,
        ok=(302,),
        note="Alice, signed in (the guardian is Alice too); others get 404",
    ),
    Rule("producers:activity", allow=ANALYSTS),
]
