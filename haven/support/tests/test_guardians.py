from datetime import timedelta
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from haven.audit.tests.training import train_all_staff
from haven.caregivers.models import Grant, Scope, start_of_day
from haven.caregivers.services import grant_for, guardian_grant_create
from haven.testing.people import HavenTestCase, make_member, make_user, years_ago


class GuardianGrantTests(HavenTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        train_all_staff(cls)
        cls.guardian = make_user("gus", "caregiver", first_name="Gus", last_name="Rivera")

    def record_guardian(self, minor, username, note="Birth certificate seen"):
        return self.client.post(
            reverse("support:guardian_create", args=[minor.pk]),
            {"guardian_username": username, "documents_verified": "on", "note": note},
        )

    @pytest.mark.promise("ACC-8")
    def test_member_services_find_the_minor_by_member_id_and_record_a_guardian(self):
        self.sign_in(self.representative)
        found = self.client.post(reverse("support:member_search"), {"member_id": " m-carla "})
        self.assertRedirects(found, reverse("support:member", args=[self.carla_member.pk]))
        self.assertNotIn(self.carla_member.member_id, found["Location"])
        page = self.client.get(found["Location"])
        self.assertContains(page, "Record a parent or guardian")

        response = self.record_guardian(self.carla_member, "alice")
        self.assertRedirects(response, reverse("support:member", args=[self.carla_member.pk]))
        grant = Grant.objects.get(member=self.carla_member)
        self.assertEqual(grant.kind, Grant.Kind.GUARDIAN)
        self.assertEqual(grant.grantee, self.alice)
        self.assertEqual(grant.created_by, self.representative)
        self.assertEqual(grant.scopes, list(Scope.values))
        self.assertEqual(grant.verification_note, "Birth certificate seen")
        self.assertEqual(grant.expires_at, start_of_day(self.carla_member.birthday_of_age(18)))
        self.assertEqual(grant_for(self.alice, self.carla_member, Scope.CLAIMS), grant)

    @pytest.mark.promise("ACC-8")
    def test_documents_must_be_confirmed_before_a_guardian_is_recorded(self):
        self.sign_in(self.administrator)
        response = self.client.post(
            reverse("support:guardian_create", args=[self.carla_member.pk]),
            {"guardian_username": "gus", "note": "Court order seen"},
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Verify the documents before giving access.")
        self.assertContains(response, 'value="gus"')
        self.assertFalse(Grant.objects.filter(member=self.carla_member).exists())

    @pytest.mark.promise("ACC-8")
    def test_a_member_cannot_create_a_guardian_grant_themselves(self):
        self.sign_in(self.alice)
        response = self.record_guardian(self.carla_member, "alice")
        self.assertEqual(response.status_code, 403)
        with self.assertRaises(PermissionDenied):
            guardian_grant_create(
                minor=self.carla_member, guardian=self.alice, note="mine", actor=self.alice
            )
        self.assertFalse(Grant.objects.filter(member=self.carla_member).exists())

    def test_staff_outside_member_services_cannot_record_a_guardian(self):
        for staff in (self.nurse, self.privacy_officer, self.staff["claims"]):
            client = self.client_class()
            self.sign_in(staff, client)
            response = client.post(
                reverse("support:guardian_create", args=[self.carla_member.pk]),
                {"guardian_username": "gus", "documents_verified": "on", "note": "x"},
            )
            self.assertEqual(response.status_code, 403)
        self.assertFalse(Grant.objects.filter(member=self.carla_member).exists())

    def test_only_adult_members_and_caregivers_can_be_guardians(self):
        self.sign_in(self.representative)
        for username in ("drkim", "consuelo", "staff-claims"):
            response = self.record_guardian(self.carla_member, username)
            self.assertContains(
                response, "A parent or guardian needs a member or caregiver account"
            )
        response = self.record_guardian(self.carla_member, "nobody-at-all")
        self.assertContains(response, "No account has that username.")
        self.assertFalse(Grant.objects.filter(member=self.carla_member).exists())
        self.record_guardian(self.carla_member, "gus")
        self.assertTrue(Grant.objects.filter(member=self.carla_member, grantee=self.guardian))

    def test_an_adult_member_gets_no_guardian(self):
        self.sign_in(self.representative)
        response = self.record_guardian(self.bruno_member, "alice")
        self.assertContains(response, "This member is an adult")
        self.assertFalse(Grant.objects.filter(member=self.bruno_member).exists())

    @pytest.mark.promise("ACC-8")
    def test_the_guardian_grant_lapses_by_itself_when_the_minor_turns_18(self):
        # Nora turns 18 tomorrow.
        nora = make_member(
            "M-NORA",
            self.group,
            "Nora",
            "Rivera",
            years_ago(18, days=-1),
            subscriber=self.alice_member,
            relationship="child",
        )
        now = timezone.now()
        grant = guardian_grant_create(
            minor=nora,
            guardian=self.alice,
            note="Birth certificate",
            actor=self.representative,
            now=now,
        )
        birthday = start_of_day(timezone.localdate(now) + timedelta(days=1))
        self.assertEqual(grant.expires_at, birthday)
        self.assertEqual(grant_for(self.alice, nora, Scope.MESSAGES, at=now), grant)
        self.assertEqual(
            grant_for(self.alice, nora, Scope.MESSAGES, at=birthday - timedelta(seconds=1)), grant
        )
        self.assertIsNone(grant_for(self.alice, nora, Scope.MESSAGES, at=birthday))
        self.assertEqual(grant.status_at(birthday), Grant.Status.EXPIRED)

        self.sign_in(self.alice)
        session = self.client.session
        session["haven_acting_for_grant"] = grant.pk
        session.save()
        response = self.client.get(reverse("caregivers:switch"))
        self.assertEqual(response.context["acting_for"], nora)
        # The clock grants read moves to the birthday; sessions keep the real one.
        grants_clock = mock.Mock(wraps=timezone)
        grants_clock.now.return_value = birthday + timedelta(hours=1)
        with mock.patch("haven.caregivers.models.timezone", grants_clock):
            response = self.client.get(reverse("caregivers:switch"))
        self.assertIsNone(response.context["acting_for"])
        self.assertNotContains(response, "Nora Rivera")

    @pytest.mark.promise("ACC-8")
    def test_a_minor_of_18_cannot_get_a_guardian_grant(self):
        adult_today = make_member(
            "M-ADULT",
            self.group,
            "Ari",
            "Rivera",
            years_ago(18),
            subscriber=self.alice_member,
            relationship="child",
        )
        self.sign_in(self.representative)
        response = self.record_guardian(adult_today, "alice")
        self.assertContains(response, "This member is an adult")
        self.assertFalse(Grant.objects.filter(member=adult_today).exists())

    def test_member_services_end_a_guardian_grant_with_a_note(self):
        self.sign_in(self.representative)
        url = reverse("support:guardian_end", args=[self.teo_guardian_grant.pk])
        refused = self.client.post(url, {"note": ""})
        self.assertEqual(refused.status_code, 200)
        self.assertContains(refused, "This field is required.")
        self.assertIsNotNone(grant_for(self.alice, self.teo_member, Scope.CLAIMS))
        response = self.client.post(url, {"note": "Custody order of 2 May"})
        self.assertRedirects(response, reverse("support:member", args=[self.teo_member.pk]))
        self.teo_guardian_grant.refresh_from_db()
        self.assertEqual(self.teo_guardian_grant.revoked_by, self.representative)
        self.assertEqual(self.teo_guardian_grant.revocation_note, "Custody order of 2 May")
        self.assertIsNone(grant_for(self.alice, self.teo_member, Scope.CLAIMS))

    def test_a_guardian_sees_their_18th_birthday_not_the_date_of_birth(self):
        self.sign_in(self.alice)
        response = self.client.get(reverse("caregivers:grants"))
        self.assertContains(response, "Teo Rivera")
        self.assertContains(response, "Their 18th birthday")
        self.assertNotContains(response, self.teo_member.member_id)
