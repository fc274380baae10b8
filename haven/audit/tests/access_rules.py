from haven.audit import access
from haven.audit.policy import Purpose, Resource
from haven.audit.tests.training import train_all_staff, trained
from haven.testing.access import ALL_STAFF, STAFF, Rule

TRAIL = {STAFF["privacy_officer"], STAFF["compliance"]}


def an_event(case):
    train_all_staff(case)
    permitted = access.read(
        actor=case.nurse,
        member=case.alice_member,
        resource=Resource.DEMOGRAPHICS,
        purpose=Purpose.TREATMENT,
    )
    return {"pk": permitted.event.pk}


def none(case):
    return trained(case, {})


RULES = [
    Rule("audit:dashboard", allow=TRAIL, kwargs=none),
    Rule(
        "audit:dashboard",
        method="POST",
        allow=TRAIL,
        kwargs=none,
        data={"member_id": "M-ALICE"},
        note="find a member to filter by",
    ),
    Rule("audit:flagged", allow=TRAIL, kwargs=none),
    Rule("audit:event", allow=TRAIL, kwargs=an_event),
    Rule(
        "audit:event",
        method="POST",
        allow={STAFF["privacy_officer"]},
        kwargs=an_event,
        data={"finding": "appropriate", "note": "Assigned nurse, treatment."},
        ok=(302,),
        note="compliance sees reviews but does not record them",
    ),
    Rule("audit:export", allow=TRAIL, kwargs=none),
    Rule("audit:policy", allow=ALL_STAFF),
    Rule("audit:training", allow=TRAIL),
    Rule(
        "audit:training",
        method="POST",
        allow=TRAIL,
        data=lambda case: {
            "staff": case.staff["claims"].pk,
            "course": "HIPAA",
            "completed_on": "2026-01-05",
            "valid_until": "2099-01-04",
        },
        ok=(200, 302),
        note="a date out of range re-shows the form (200); the rule is who may post at all",
    ),
]
