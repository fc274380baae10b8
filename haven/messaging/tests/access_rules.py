"""Who may open each message-center URL; a conversation only for its member, their permitted
caregivers and guardians, and the team whose queue holds it."""

from haven.audit.policy import FIELDS
from haven.audit.tests.training import give_training
from haven.messaging import services
from haven.messaging.tests.conversations import start, text_file
from haven.testing.access import (
    CAREGIVER,
    CONSUMER,
    EMPLOYER,
    EVERYONE,
    GUARDIAN,
    MEMBER,
    MEMBERS,
    PENDING_PRODUCER,
    PRODUCER,
    PROVIDER,
    SIGNED_IN,
    STAFF,
    Rule,
)

ALICE = {MEMBER, GUARDIAN}  # the same person, acting for herself or for her son
NON_STAFF = MEMBERS | {CAREGIVER, CONSUMER, PROVIDER, EMPLOYER, PRODUCER, PENDING_PRODUCER}
CARE_TEAM = STAFF["care_team"]
CUSTOMER_SERVICE = STAFF["customer_service"]
QUEUES = {CARE_TEAM, CUSTOMER_SERVICE}
# Customer service reads non-clinical conversations once the policy table names them.
SERVICE_READERS = {CUSTOMER_SERVICE} if services.SERVICE_MESSAGES in FIELDS else set()


def trained(case) -> None:
    """The queues' staff have current privacy training, as they must to read messages (AUD-5)."""
    give_training(case.nurse, recorder=case.staff["compliance"])
    give_training(case.representative, recorder=case.staff["compliance"])


def alices(case) -> dict:
    trained(case)
    return {"pk": start(case.alice).pk}


def teos(case) -> dict:
    trained(case)
    conversation = start(case.alice, member=case.teo_member, grant=case.teo_guardian_grant)
    return {"pk": conversation.pk}


def elenas(case, topic="care_question") -> dict:
    trained(case)
    return {"pk": start(case.elena, topic=topic).pk}


def elenas_sensitive(case) -> dict:
    trained(case)
    conversation = start(case.elena)
    services.conversation_classify(
        conversation=conversation,
        topic="care_question",
        sensitive_category="mental_health",
        actor=case.nurse,
    )
    return {"pk": conversation.pk}


def consumers(case) -> dict:
    trained(case)
    return {"pk": start(case.consumer, topic="technical").pk}


def attachment_of(author_conversation):
    def kwargs(case) -> dict:
        trained(case)
        conversation = author_conversation(case)
        return {"pk": conversation.messages.get().attachments.get().pk}

    return kwargs


RULES = [
    Rule("messaging:inbox", allow=SIGNED_IN, note="staff see what is assigned to them"),
    Rule("messaging:archived", allow=NON_STAFF),
    Rule("messaging:new", allow=NON_STAFF),
    Rule("messaging:preferences", allow=SIGNED_IN),
    Rule("messaging:push_worker", allow=EVERYONE, note="the service worker script holds no data"),
    Rule(
        "messaging:push_subscribe",
        method="POST",
        allow=SIGNED_IN,
        ok=(400,),
        note="an empty subscription is refused as bad input, for everyone signed in",
    ),
    Rule(
        "messaging:push_device_remove",
        method="POST",
        allow=SIGNED_IN,
        ok=(302,),
        note="each person removes only their own devices",
    ),
    Rule("messaging:queue", allow=QUEUES),
    Rule("messaging:staff_new", allow=QUEUES),
    Rule("messaging:conversation", allow=ALICE | {CARE_TEAM}, kwargs=alices),
    Rule(
        "messaging:conversation",
        allow=ALICE | {CARE_TEAM},
        kwargs=teos,
        note="Teo's: his guardian and the care team",
    ),
    Rule("messaging:conversation", allow={CAREGIVER, CARE_TEAM}, kwargs=elenas),
    Rule(
        "messaging:conversation",
        allow={CAREGIVER} | SERVICE_READERS,
        kwargs=lambda case: elenas(case, topic="claims"),
        note="a billing question: customer service, not the care team",
    ),
    Rule(
        "messaging:conversation",
        allow={CARE_TEAM},
        kwargs=elenas_sensitive,
        note="a sensitive category is never opened by a grant",
    ),
    Rule(
        "messaging:conversation",
        allow={CONSUMER, CUSTOMER_SERVICE},
        kwargs=consumers,
        note="an account without a roster entry: not a member's record",
    ),
    Rule(
        "messaging:attachment",
        allow=ALICE | {CARE_TEAM},
        kwargs=attachment_of(lambda case: start(case.alice, files=[text_file()])),
    ),
    Rule(
        "messaging:attachment",
        allow={CAREGIVER, CARE_TEAM},
        kwargs=attachment_of(lambda case: start(case.elena, files=[text_file()])),
    ),
    Rule("messaging:archive", method="POST", allow=ALICE, ok=(302,), kwargs=alices),
    Rule("messaging:archive", method="POST", allow={CAREGIVER}, ok=(302,), kwargs=elenas),
    Rule(
        "messaging:assign",
        method="POST",
        allow={CARE_TEAM},
        ok=(302,),
        kwargs=alices,
        data={"assignee": "me"},
    ),
    Rule("messaging:close", method="POST", allow={CARE_TEAM}, ok=(302,), kwargs=alices),
    Rule("messaging:reopen", method="POST", allow={CARE_TEAM}, ok=(302,), kwargs=alices),
    Rule(
        "messaging:classify",
        method="POST",
        allow={CARE_TEAM},
        ok=(302,),
        kwargs=alices,
        data={"topic": "care_question"},
    ),
    Rule(
        "messaging:classify",
        method="POST",
        allow={CUSTOMER_SERVICE},
        ok=(302,),
        kwargs=lambda case: elenas(case, topic="coverage"),
        data={"topic": "coverage"},
    ),
]
