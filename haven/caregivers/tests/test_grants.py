from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from haven.caregivers.middleware import ACTING_FOR_GRANT
from haven.caregivers.models import Grant, Scope
from haven.caregivers.services import acting_member, grant_for
from haven.testing.people import HavenTestCase, make_user


def act_for(client, grant):
    session = client.session
    session[ACTING_FOR_GRANT] = grant.pk
    session.save()


class GrantForTests(HavenTestCase):
    @pytest.mark.promise("ACC-9")
    def test_a_caregiver_acts_only_within_the_scopes_granted(self):
        self.assertEqual(grant_for(self.maria, self.elena_member, Scope.MESSAGES), self.maria_grant)
        self.assertEqual(
            grant_for(self.maria, self.elena_member, Scope.APPOINTMENTS), self.maria_grant
        )
        self.assertIsNone(grant_for(self.maria, self.elena_member, Scope.CLAIMS))
        self.assertIsNone(grant_for(self.maria, self.elena_member, Scope.PROFILE))

    @pytest.mark.promise("ACC-9")
    def test_a_grant_opens_nothing_on_anyone_else(self):
        self.assertIsNone(grant_for(self.maria, self.alice_member, Scope.MESSAGES))
        self.assertIsNone(grant_for(self.oscar, self.elena_member, Scope.MESSAGES))

    @pytest.mark.promise("ACC-9")
    def test_an_expired_grant_gives_nothing(self):
        later = self.maria_grant.expires_at + timedelta(seconds=1)
        self.assertIsNone(grant_for(self.maria, self.elena_member, Scope.MESSAGES, at=later))
        Grant.objects.filter(pk=self.maria_grant.pk).update(
            starts_at=timezone.now() - timedelta(days=30),
            expires_at=timezone.now() - timedelta(days=1),
        )
        self.assertIsNone(grant_for(self.maria, self.elena_member, Scope.MESSAGES))
        self.sign_in(self.maria)
        act_for(self.client, self.maria_grant)
        response = self.client.get(reverse("caregivers:switch"))
        self.assertIsNone(response.context["acting_for"])
        self.assertNotIn(ACTING_FOR_GRANT, self.client.session)

    @pytest.mark.promise("ACC-9")
    def test_a_revoked_grant_gives_nothing(self):
        Grant.objects.filter(pk=self.maria_grant.pk).update(
            revoked_at=timezone.now(), revoked_by=self.elena
        )
        self.assertIsNone(grant_for(self.maria, self.elena_member, Scope.MESSAGES))

    def test_staff_never_hold_a_grant_even_if_one_names_them(self):
        now = timezone.now()
        Grant.objects.create(
            member=self.elena_member,
            grantee=self.representative,
            kind=Grant.Kind.CAREGIVER,
            scopes=[Scope.MESSAGES],
            expires_at=Grant.default_caregiver_expiry(now),
            accepted_at=now,
            created_by=self.elena,
        )
        self.assertIsNone(grant_for(self.representative, self.elena_member, Scope.MESSAGES))


class ActingMemberTests(HavenTestCase):
    def test_the_acting_member_is_the_chosen_person_then_oneself(self):
        self.sign_in(self.alice)
        response = self.client.get(reverse("caregivers:switch"))
        self.assertEqual(acting_member(response.wsgi_request), self.alice_member)
        act_for(self.client, self.teo_guardian_grant)
        response = self.client.get(reverse("caregivers:switch"))
        self.assertEqual(acting_member(response.wsgi_request), self.teo_member)

    def test_a_caregiver_without_a_chosen_person_acts_for_nobody(self):
        self.sign_in(self.maria)
        response = self.client.get(reverse("caregivers:switch"))
        self.assertIsNone(acting_member(response.wsgi_request))


class SwitchTests(HavenTestCase):
    @pytest.mark.promise("ACC-9")
    def test_the_caregiver_switches_to_the_person_and_the_banner_names_them(self):
        self.sign_in(self.maria)
        response = self.client.post(
            reverse("caregivers:switch"), {"grant": self.maria_grant.pk}, follow=True
        )
        self.assertEqual(response.context["acting_for"], self.elena_member)
        self.assertContains(response, "You are acting for <strong>Elena Moretti</strong>")

    def test_switching_to_someone_else_s_grant_is_refused(self):
        self.sign_in(self.oscar)
        response = self.client.post(reverse("caregivers:switch"), {"grant": self.maria_grant.pk})
        self.assertEqual(response.status_code, 404)
        self.assertNotIn(ACTING_FOR_GRANT, self.client.session)

    def test_switch_page_shows_no_date_of_birth_or_member_id(self):
        self.sign_in(self.maria)
        response = self.client.get(reverse("caregivers:switch"))
        self.assertContains(response, "Elena Moretti")
        self.assertNotContains(response, self.elena_member.member_id)
        self.assertNotContains(response, self.elena_member.date_of_birth.isoformat())

    def test_going_back_to_one_s_own_record(self):
        self.sign_in(self.alice)
        act_for(self.client, self.teo_guardian_grant)
        response = self.client.post(reverse("caregivers:switch"), {"grant": "self"}, follow=True)
        self.assertIsNone(response.context["acting_for"])


class RevokeTests(HavenTestCase):
    @pytest.mark.promise("ACC-9")
    def test_revoking_ends_the_caregiver_s_acting_at_their_next_request(self):
        maria_client = self.client_class()
        self.sign_in(self.maria, maria_client)
        act_for(maria_client, self.maria_grant)
        self.assertEqual(
            maria_client.get(reverse("caregivers:switch")).context["acting_for"],
            self.elena_member,
        )

        self.sign_in(self.elena)
        response = self.client.post(reverse("caregivers:revoke", args=[self.maria_grant.pk]))
        self.assertRedirects(response, reverse("caregivers:grants"))
        self.maria_grant.refresh_from_db()
        self.assertEqual(self.maria_grant.revoked_by, self.elena)
        self.assertIsNotNone(self.maria_grant.revoked_at)

        response = maria_client.get(reverse("caregivers:switch"))
        self.assertIsNone(response.context["acting_for"])
        self.assertNotContains(response, "Elena Moretti")
        self.assertIsNone(grant_for(self.maria, self.elena_member, Scope.MESSAGES))

    @pytest.mark.promise("ACC-9")
    def test_another_member_cannot_revoke_someone_else_s_grant(self):
        self.sign_in(self.oscar)
        response = self.client.post(reverse("caregivers:revoke", args=[self.maria_grant.pk]))
        self.assertEqual(response.status_code, 404)
        self.maria_grant.refresh_from_db()
        self.assertIsNone(self.maria_grant.revoked_at)

    def test_a_member_cannot_revoke_a_guardian_grant_online(self):
        self.sign_in(self.alice)
        response = self.client.post(reverse("caregivers:revoke", args=[self.teo_guardian_grant.pk]))
        self.assertEqual(response.status_code, 404)

    def test_a_caregiver_can_stop_acting_for_someone(self):
        self.sign_in(self.maria)
        act_for(self.client, self.maria_grant)
        response = self.client.post(reverse("caregivers:give_up", args=[self.maria_grant.pk]))
        self.assertRedirects(response, reverse("caregivers:grants"))
        self.maria_grant.refresh_from_db()
        self.assertEqual(self.maria_grant.revoked_by, self.maria)
        self.assertIsNone(self.client.get(reverse("caregivers:grants")).context["acting_for"])


class GrantListTests(HavenTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        now = timezone.now()
        cls.helper = make_user("helper", "caregiver", first_name="Hugo", last_name="Brandt")
        common = {"member": cls.elena_member, "kind": Grant.Kind.CAREGIVER, "created_by": cls.elena}
        cls.pending = Grant.objects.create(
            **common,
            scopes=[Scope.PLAN],
            expires_at=Grant.default_caregiver_expiry(now),
            invitation_token_hash="a" * 64,
            invited_name="Nephew Paolo",
        )
        cls.expired = Grant.objects.create(
            **common,
            grantee=cls.helper,
            scopes=[Scope.CLAIMS],
            starts_at=now - timedelta(days=400),
            expires_at=now - timedelta(days=10),
            accepted_at=now - timedelta(days=399),
            created_at=now - timedelta(days=400),
        )
        cls.revoked = Grant.objects.create(
            **common,
            grantee=cls.consumer,
            scopes=[Scope.PROFILE],
            expires_at=Grant.default_caregiver_expiry(now),
            accepted_at=now,
            revoked_at=now,
            revoked_by=cls.elena,
        )

    @pytest.mark.promise("ACC-9")
    def test_the_member_sees_every_grant_on_their_record_with_parts_and_status(self):
        self.sign_in(self.elena)
        response = self.client.get(reverse("caregivers:grants"))
        statuses = {grant.pk: grant.status for grant in response.context["given"]}
        self.assertEqual(
            statuses,
            {
                self.maria_grant.pk: Grant.Status.CURRENT,
                self.pending.pk: Grant.Status.PENDING,
                self.expired.pk: Grant.Status.EXPIRED,
                self.revoked.pk: Grant.Status.REVOKED,
            },
        )
        for text in ("Maria Lopez", "Nephew Paolo", "Hugo Brandt", "Secure messages", "Claims"):
            self.assertContains(response, text)
        self.assertContains(response, "Revoke now")
        self.assertContains(response, "Cancel invitation")

    @pytest.mark.promise("ACC-9")
    def test_another_member_does_not_see_someone_else_s_grants(self):
        self.sign_in(self.oscar)
        response = self.client.get(reverse("caregivers:grants"))
        self.assertEqual(list(response.context["given"]), [])
        self.assertNotContains(response, "Maria Lopez")
        for name in ("renew", "invitation_link"):
            response = self.client.get(reverse(f"caregivers:{name}", args=[self.maria_grant.pk]))
            self.assertEqual(response.status_code, 404)

    def test_the_caregiver_sees_the_grants_they_hold_without_dob_or_member_id(self):
        self.sign_in(self.maria)
        response = self.client.get(reverse("caregivers:grants"))
        self.assertEqual(list(response.context["held"]), [self.maria_grant])
        self.assertContains(response, "Elena Moretti")
        self.assertNotContains(response, self.elena_member.member_id)
        self.assertNotContains(response, self.elena_member.date_of_birth.isoformat())

    def test_the_list_costs_the_same_queries_however_many_grants(self):
        self.sign_in(self.elena)
        self.client.get(reverse("caregivers:grants"))
        baseline = self.queries_for_the_list()
        now = timezone.now()
        for index in range(3):
            Grant.objects.create(
                member=self.elena_member,
                grantee=make_user(f"extra-{index}", "caregiver"),
                kind=Grant.Kind.CAREGIVER,
                scopes=[Scope.MESSAGES],
                expires_at=Grant.default_caregiver_expiry(now),
                accepted_at=now,
                created_by=self.elena,
            )
        self.assertEqual(self.queries_for_the_list(), baseline)

    def queries_for_the_list(self) -> int:
        with CaptureQueriesContext(connection) as context:
            self.client.get(reverse("caregivers:grants"))
        return len(context.captured_queries)


class RenewTests(HavenTestCase):
    @pytest.mark.promise("ACC-9")
    def test_the_member_renews_an_expired_grant_for_up_to_18_months(self):
        now = timezone.now()
        Grant.objects.filter(pk=self.maria_grant.pk).update(
            starts_at=now - timedelta(days=600), expires_at=now - timedelta(days=2)
        )
        self.sign_in(self.elena)
        last_day = Grant.last_day_limit()
        response = self.client.post(
            reverse("caregivers:renew", args=[self.maria_grant.pk]),
            {"last_day": last_day.isoformat()},
        )
        self.assertRedirects(response, reverse("caregivers:grants"))
        self.maria_grant.refresh_from_db()
        self.assertTrue(self.maria_grant.is_current)
        self.assertEqual(self.maria_grant.last_day, last_day)
        self.assertLessEqual(self.maria_grant.expires_at, Grant.default_caregiver_expiry())
        self.assertEqual(grant_for(self.maria, self.elena_member, Scope.MESSAGES), self.maria_grant)

    def test_renewal_beyond_18_months_is_refused_with_a_clear_error(self):
        self.sign_in(self.elena)
        too_far = Grant.last_day_limit() + timedelta(days=1)
        response = self.client.post(
            reverse("caregivers:renew", args=[self.maria_grant.pk]),
            {"last_day": too_far.isoformat()},
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "18 months at most")
        self.assertContains(response, too_far.isoformat())

    def test_a_revoked_grant_cannot_be_renewed(self):
        Grant.objects.filter(pk=self.maria_grant.pk).update(
            revoked_at=timezone.now(), revoked_by=self.elena
        )
        self.sign_in(self.elena)
        response = self.client.post(
            reverse("caregivers:renew", args=[self.maria_grant.pk]),
            {"last_day": Grant.last_day_limit().isoformat()},
        )
        self.assertEqual(response.status_code, 200)
        self.maria_grant.refresh_from_db()
        self.assertIsNotNone(self.maria_grant.revoked_at)
        self.assertIsNone(grant_for(self.maria, self.elena_member, Scope.MESSAGES))
