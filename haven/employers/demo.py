"""Demo sponsor link for `haven demo` (DIS-3): the administrator links Rita, the Riverside School
District's contact, to her group. Made through the page's service; running it again adds nothing."""

from haven.accounts.models import User
from haven.employers.services import sponsor_link, sponsor_of
from haven.plans.models import EmployerGroup


def load() -> None:
    contact = User.objects.get(username="hr-riverside")
    if sponsor_of(contact) is None:
        sponsor_link(
            user=contact,
            group=EmployerGroup.objects.get(group_number="G-100"),
            actor=User.objects.get(username="ada"),
        )
