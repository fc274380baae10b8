"""Demo conversations for `haven demo`: Alice's question answered by her nurse, and Elena's
request waiting in customer service's queue. Nobody here is real.

Written through the message services, so they are encrypted and announced as real ones are; each
message has a fixed send key, so loading the demo again finds them instead of writing them twice.
"""

import uuid

from haven.accounts.models import User
from haven.messaging import services
from haven.messaging.models import Topic
from haven.messaging.services import Mailbox

# One namespace for the demo's send keys: the same message always gets the same key.
DEMO_KEYS = uuid.UUID("6f1d8a52-3c1e-4b8e-9d0a-7c2f4e5b9a10")

# member's username, topic, subject, first message, staff username and answer (or None)
CONVERSATIONS = [
    (
        "alice",
        Topic.CARE_QUESTION,
        "My lipid panel",
        "I saw my lipid panel in my record. Is an LDL of 104 something I should worry about, "
        "or can it wait until my next physical?",
        "nina",
        "Hello Alice, your LDL of 104 is within the target your doctor set, and your HDL is "
        "good. Nothing needs to change before your next physical. Write again if you have "
        "any other questions.",
    ),
    (
        "elena",
        Topic.COVERAGE,
        "A replacement ID card",
        "My plan ID card went through the washing machine. Can you send me a new one?",
        None,
        None,
    ),
]


def _key(*parts: str) -> uuid.UUID:
    return uuid.uuid5(DEMO_KEYS, "/".join(parts))


def load() -> None:
    people = {
        user.username: user
        for user in User.objects.filter(
            username__in=[name for row in CONVERSATIONS for name in (row[0], row[4]) if name]
        )
    }
    for username, topic, subject, body, staff_name, answer in CONVERSATIONS:
        author = people[username]
        conversation = services.conversation_start(
            mailbox=Mailbox(member=author.member),
            topic=topic,
            subject=subject,
            body=body,
            files=[],
            idempotency_key=_key(username, subject),
            actor=author,
        )
        if answer:
            services.message_send(
                conversation=conversation,
                body=answer,
                files=[],
                idempotency_key=_key(staff_name, subject),
                actor=people[staff_name],
            )
