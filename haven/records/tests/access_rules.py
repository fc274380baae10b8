from haven.audit.tests.training import trained
from haven.records.models import Category
from haven.records.tests.fixtures import document
from haven.testing.access import (
    ALL_STAFF,
    GUARDIAN,
    MEMBER,
    OUTSIDER,
    SPOUSE,
    STAFF,
    Rule,
)

CARE_TEAM = {STAFF["care_team"]}
BREAK_GLASS = {STAFF["care_team"], STAFF["customer_service"]}
MEMBERS_AND_GUARDIANS = {MEMBER, SPOUSE, OUTSIDER, GUARDIAN}


def alice(case):
    return trained(case, {"pk": case.alice_member.pk})


def staff_document(member_attr, category):
    return lambda case: trained(case, {"pk": document(case, member_attr, category).pk})


def own_document(member_attr, category):
    return lambda case: {"pk": document(case, member_attr, category).pk}


def purpose(value):
    return {"purpose": value}


RULES = [
    Rule("records:search", allow=ALL_STAFF, kwargs=lambda case: trained(case, {})),
    Rule(
        "records:search",
        method="POST",
        allow=CARE_TEAM,
        kwargs=lambda case: trained(case, {}),
        data={"member_id": "M-ALICE", "purpose": "treatment"},
        note="the roles without a treatment purpose are refused, and the refusal recorded",
    ),
    Rule("records:member", allow=ALL_STAFF, kwargs=alice, note="without a purpose: the chooser"),
    Rule("records:member", allow=CARE_TEAM, kwargs=alice, data=purpose("treatment")),
    Rule(
        "records:member",
        allow={STAFF["customer_service"], STAFF["claims"]},
        kwargs=alice,
        data=purpose("payment"),
    ),
    Rule(
        "records:member",
        allow={
            STAFF["care_team"],
            STAFF["customer_service"],
            STAFF["producer_support"],
            STAFF["compliance"],
            STAFF["administrator"],
        },
        kwargs=alice,
        data=purpose("operations"),
    ),
    Rule(
        "records:member",
        allow={STAFF["compliance"], STAFF["privacy_officer"]},
        kwargs=alice,
        data=purpose("oversight"),
    ),
    Rule(
        "records:member",
        allow=set(),
        kwargs=alice,
        data=purpose("emergency"),
        note="emergency access opens only after a declared emergency",
    ),
    Rule("records:emergency", allow=BREAK_GLASS, kwargs=alice),
    Rule(
        "records:emergency",
        method="POST",
        allow=BREAK_GLASS,
        kwargs=alice,
        data={"reason": "Member unconscious at urgent care; allergies needed now."},
        ok=(302,),
    ),
    Rule("records:document_new", allow=CARE_TEAM, kwargs=alice, data=purpose("treatment")),
    Rule(
        "records:document_new",
        method="POST",
        allow=CARE_TEAM,
        kwargs=alice,
        data={
            "purpose": "treatment",
            "title": "Visit summary",
            "category": "visit_summary",
            "content": "Seen today.",
        },
        ok=(302,),
    ),
    Rule(
        "records:document",
        allow=CARE_TEAM,
        kwargs=staff_document("alice_member", Category.LAB_RESULT),
        data=purpose("treatment"),
    ),
    Rule(
        "records:document",
        allow=set(),
        kwargs=staff_document("alice_member", Category.LAB_RESULT),
        data=purpose("payment"),
        note="no staff role opens clinical documents for payment",
    ),
    Rule(
        "records:document",
        allow=CARE_TEAM,
        kwargs=staff_document("alice_member", Category.MENTAL_HEALTH),
        data=purpose("treatment"),
    ),
    Rule(
        "records:document",
        allow=set(),
        kwargs=staff_document("alice_member", Category.SUBSTANCE_USE),
        data=purpose("treatment"),
        note="substance-use records need the member's consent or a declared emergency",
    ),
    Rule("records:mine", allow=MEMBERS_AND_GUARDIANS, note="Maria's grant has no profile scope"),
    Rule(
        "records:my_document",
        allow={MEMBER},
        kwargs=own_document("alice_member", Category.MENTAL_HEALTH),
        note="Alice's own, protected: hers alone; as Teo's guardian she acts on his record",
    ),
    Rule(
        "records:my_document",
        allow={GUARDIAN},
        kwargs=own_document("teo_member", Category.IMMUNIZATION),
    ),
    Rule(
        "records:my_document",
        allow=set(),
        kwargs=own_document("teo_member", Category.REPRODUCTIVE_HEALTH),
        note="a guardian never downloads a protected document of the minor",
    ),
    Rule(
        "records:my_document",
        allow=set(),
        kwargs=own_document("elena_member", Category.VISIT_SUMMARY),
        note="Maria's grant for Elena does not open documents",
    ),
    Rule(
        "records:my_export",
        allow=MEMBERS_AND_GUARDIANS,
        ok=(200, 302),
        note="asks for the password again unless just signed in; Maria's grant opens no part",
    ),
]
