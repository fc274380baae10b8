from haven.testing.access import EVERYONE, PENDING_PRODUCER, PRODUCER, STAFF, Rule

REVIEWERS = {STAFF["producer_support"], STAFF["administrator"]}


def pending_registration(case) -> dict:
    return {"pk": case.pending_producer.producer.pk}


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
]
