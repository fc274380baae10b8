"""The access matrix: every URL of Haven, requested as every role, gets the answer the policy says.

Each app lists its URLs in `haven/<app>/tests/access_rules.py` as `RULES = [Rule(...), ...]`;
`haven/front/tests/test_access_matrix.py` requests each rule as each role and fails on any URL
without a rule. A role not in `allow` must be refused: anonymous visitors are sent to sign in
(or refused), signed-in users get 403 or 404, never the page.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from haven.accounts.models import User

ANONYMOUS = "anonymous"
MEMBER = "member"  # Alice: subscriber, guardian of Teo
SPOUSE = "spouse"  # Bruno: member in Alice's family
OUTSIDER = "outsider"  # Oscar: member of another group, no relation to anyone
CAREGIVER = "caregiver"  # Maria: acts for Elena (messages, appointments)
GUARDIAN = "guardian"  # Alice acting for her son Teo
CONSUMER = "consumer"
PROVIDER = "provider"
EMPLOYER = "employer"
PRODUCER = "producer"  # approved
PENDING_PRODUCER = "pending_producer"
STAFF = {role.value: f"staff:{role.value}" for role in User.StaffRole}

MEMBERS = {MEMBER, SPOUSE, OUTSIDER, GUARDIAN}
ALL_STAFF = set(STAFF.values())
SIGNED_IN = (
    MEMBERS | {CAREGIVER, CONSUMER, PROVIDER, EMPLOYER, PRODUCER, PENDING_PRODUCER} | ALL_STAFF
)
EVERYONE = SIGNED_IN | {ANONYMOUS}


@dataclass
class Rule:
    url: str
    allow: set[str]
    method: str = "GET"
    # URL kwargs, or a function of the test case (its people) that returns them.
    kwargs: dict[str, Any] | Callable[[Any], dict[str, Any]] = field(default_factory=dict)
    data: dict[str, Any] | Callable[[Any], dict[str, Any]] = field(default_factory=dict)
    # The statuses an allowed role may get (a POST usually redirects).
    ok: tuple[int, ...] = (200,)
    note: str = ""


# URLs that are not pages of anyone's data and need no rule, with the reason.
EXEMPT = {
    "front:manifest": "the web-app manifest is public by nature",
}
