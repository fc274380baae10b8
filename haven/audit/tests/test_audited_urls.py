"""No view returns a member's data without an audit record (AUD-3).

Every URL of Haven is requested, as every role its access rule allows, with the rule's objects.
The named test people carry distinctive values (member IDs, phone numbers, addresses, document
text); whenever a response contains one, the request must have written an audit record. New URLs
of any app are covered as soon as their access rules exist, with no list to keep up to date.
"""

import pytest
from django.urls import reverse

from haven.audit.models import AuditEvent
from haven.audit.tests.training import train_all_staff
from haven.front.tests import test_access_matrix as matrix
from haven.records.tests.fixtures import CANARY
from haven.testing.people import HavenTestCase

MEMBERS = ("alice", "bruno", "teo", "carla", "elena", "oscar")

# Pages of other apps that show member data without the accessor yet, with whom it is up to.
# The test fails when one of them starts auditing, so this list only shrinks.
KNOWN_UNAUDITED: dict[str, str] = {}

# Pages that must be found showing member data, so the walk can never pass by seeing nothing.
MUST_SHOW_DATA = {
    "records:member",
    "records:document",
    "records:search",
    "records:mine",
    "records:my_document",
    "records:my_export",
}


def body(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


class AuditedUrlTests(HavenTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        train_all_staff(cls)
        cls.canaries = [CANARY.encode()]
        for number, name in enumerate(MEMBERS, start=1):
            member = getattr(cls, f"{name}_member")
            member.phone = f"860-555-01{number:02d}"
            member.address_line = f"{number} Canary Lane"
            member.save()
            cls.canaries += [
                member.member_id.encode(),
                member.phone.encode(),
                member.address_line.encode(),
            ]

    def client_for(self, role):
        return matrix.AccessMatrixTests.client_for(self, role)

    def shows_member_data(self, response) -> bool:
        content = body(response)
        return any(canary in content for canary in self.canaries)

    def assert_no_view_returns_member_data_without_an_audit_record(self, label, rules):
        unaudited, showed = set(), set()
        for rule in rules:
            kwargs = rule.kwargs(self) if callable(rule.kwargs) else rule.kwargs
            data = rule.data(self) if callable(rule.data) else rule.data
            url = reverse(rule.url, kwargs=kwargs)
            for role in sorted(rule.allow):
                client = self.client_for(role)
                before = AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True)
                before = before.first() or 0
                if not data:
                    response = client.generic(rule.method, url)
                elif rule.method == "POST":
                    response = client.post(url, data)
                else:
                    response = client.get(url, data)
                if not self.shows_member_data(response):
                    continue
                showed.add(rule.url)
                if not AuditEvent.objects.filter(sequence__gt=before).exists():
                    unaudited.add(f"{rule.method} {rule.url} as {role}")
        known = {entry for entry in unaudited if entry.split()[1] in KNOWN_UNAUDITED}
        self.assertEqual(sorted(unaudited - known), [], "show member data only via the accessor")
        listed_here = {name for name in KNOWN_UNAUDITED if name.startswith(f"{label}:")}
        still_unaudited = {entry.split()[1] for entry in known}
        self.assertEqual(
            listed_here - still_unaudited, set(), "audited now: remove from KNOWN_UNAUDITED"
        )
        must_show = {name for name in MUST_SHOW_DATA if name.startswith(f"{label}:")}
        self.assertEqual(must_show - showed, set(), "the walk must see member data")


# One test per app, so the walk spreads over the test workers like the access matrix.
for _label in matrix.rules_by_app():

    @pytest.mark.promise("AUD-3")
    def _test(self, label=_label):
        self.assert_no_view_returns_member_data_without_an_audit_record(
            label, matrix.rules_by_app()[label]
        )

    _test.__name__ = f"test_no_view_returns_member_data_without_an_audit_record_on_{_label}_urls"
    setattr(AuditedUrlTests, _test.__name__, _test)
