from datetime import datetime, timedelta
from unittest import mock

import pytest
from django.utils import timezone

from haven.audit import access
from haven.audit.models import AuditEvent, StaffCoverage
from haven.audit.policy import Purpose, Resource
from haven.audit.tests.training import train_all_staff
from haven.records.models import CareAssignment
from haven.testing.people import HavenTestCase, make_member, years_ago


def at_local(hour: int):
    """Pretend it is this hour today, local time, for the whole access."""
    moment = timezone.make_aware(datetime.combine(timezone.localdate(), datetime.min.time()))
    return mock.patch("django.utils.timezone.now", return_value=moment.replace(hour=hour))


class FlagTests(HavenTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        train_all_staff(cls)

    def read(self, user, member, purpose=Purpose.TREATMENT):
        with at_local(10):
            return access.read(
                actor=user, member=member, resource=Resource.DEMOGRAPHICS, purpose=purpose
            ).event.flags

    @pytest.mark.promise("AUD-4")
    def test_access_without_a_care_or_service_relationship_is_flagged(self):
        self.assertEqual(self.read(self.nurse, self.elena_member), ["no_relationship"])
        CareAssignment.objects.create(staff=self.nurse, member=self.elena_member)
        self.assertEqual(self.read(self.nurse, self.elena_member), [])

    @pytest.mark.promise("AUD-4")
    def test_an_ended_assignment_is_no_relationship(self):
        CareAssignment.objects.create(
            staff=self.nurse,
            member=self.elena_member,
            since=years_ago(1),
            until=timezone.localdate().replace(day=1) - timedelta(days=1),
        )
        self.assertIn("no_relationship", self.read(self.nurse, self.elena_member))

    @pytest.mark.promise("AUD-4")
    def test_oversight_is_not_expected_to_have_a_relationship(self):
        flags = self.read(self.privacy_officer, self.elena_member, Purpose.OVERSIGHT)
        self.assertEqual(flags, [])

    @pytest.mark.promise("AUD-4")
    def test_access_to_the_staff_members_own_family_is_flagged(self):
        StaffCoverage.objects.create(staff=self.nurse, member=self.bruno_member)
        CareAssignment.objects.create(staff=self.nurse, member=self.teo_member)
        self.assertEqual(self.read(self.nurse, self.teo_member), ["family"])

    @pytest.mark.promise("AUD-4")
    def test_access_to_a_co_worker_is_flagged(self):
        StaffCoverage.objects.create(staff=self.nurse, member=self.alice_member)
        CareAssignment.objects.create(staff=self.nurse, member=self.elena_member)
        # Elena is in Alice's employer group, not her family.
        self.assertEqual(self.read(self.nurse, self.elena_member), ["coworker"])

    @pytest.mark.promise("AUD-4")
    def test_a_relative_under_another_subscriber_at_the_same_address_is_flagged(self):
        self.nurse.last_name = "Nilsen"
        self.nurse.save()
        StaffCoverage.objects.create(staff=self.nurse, member=self.oscar_member)
        cousin = make_member("M-COUSIN", self.group, "Ida", "Nilsen", years_ago(30))
        CareAssignment.objects.create(staff=self.nurse, member=cousin)
        self.assertEqual(self.read(self.nurse, cousin), ["family"])

    @pytest.mark.promise("AUD-4")
    def test_without_their_roster_entry_a_shared_surname_is_flagged(self):
        self.nurse.last_name = "Rivera"
        self.nurse.save()
        CareAssignment.objects.create(staff=self.nurse, member=self.alice_member)
        self.assertEqual(self.read(self.nurse, self.alice_member), ["family"])

    @pytest.mark.promise("AUD-4")
    def test_unusual_volume_is_flagged(self):
        with self.settings(HAVEN_AUDIT_MEMBERS_PER_HOUR=2):
            for member in (self.alice_member, self.bruno_member):
                CareAssignment.objects.create(staff=self.nurse, member=member)
                self.assertEqual(self.read(self.nurse, member), [])
            self.assertEqual(self.read(self.nurse, self.alice_member), [])  # not a new member
            CareAssignment.objects.create(staff=self.nurse, member=self.elena_member)
            self.assertEqual(self.read(self.nurse, self.elena_member), ["volume"])

    @pytest.mark.promise("AUD-4")
    def test_access_outside_working_hours_is_flagged(self):
        CareAssignment.objects.create(staff=self.nurse, member=self.elena_member)
        for hour, flagged in ((6, True), (7, False), (19, False), (20, True), (23, True)):
            with self.subTest(hour=hour), at_local(hour):
                flags = access.read(
                    actor=self.nurse,
                    member=self.elena_member,
                    resource=Resource.DEMOGRAPHICS,
                    purpose=Purpose.TREATMENT,
                ).event.flags
                self.assertEqual("hours" in flags, flagged)

    @pytest.mark.promise("AUD-4")
    def test_refused_attempts_are_flagged_so_access_without_a_purpose_stands_out(self):
        with at_local(10), self.assertRaises(access.PurposeRequired):
            access.read(actor=self.nurse, member=self.elena_member, resource=Resource.DEMOGRAPHICS)
        self.assertEqual(AuditEvent.objects.get().flags, ["denied"])

    def test_members_and_caregivers_are_never_flagged(self):
        with at_local(23):
            own = access.read(actor=self.alice, member=self.alice_member, resource="documents")
        self.assertEqual(own.event.flags, [])
