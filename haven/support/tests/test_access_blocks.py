import pytest
from django.urls import reverse

from haven.accounts.models import UserSession
from haven.audit.models import AuditEvent
from haven.audit.tests.training import train_all_staff
from haven.caregivers.middleware import ACTING_FOR_GRANT
from haven.caregivers.models import Scope
from haven.caregivers.services import grant_for
from haven.plans.models import Member
from haven.support.models import AccessBlock
from haven.support.services import access_block_create, blocked_member_ids, member_blocked
from haven.testing.people import PASSWORD, HavenTestCase

BLOCKED_MESSAGE = "Online access to this account is blocked at your request"


class AccessBlockTests(HavenTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        train_all_staff(cls)

    def signed_in_client(self, user):
        client = self.client_class()
        client.post(reverse("accounts:login"), {"username": user.username, "password": PASSWORD})
        self.assertTrue(UserSession.objects.filter(user=user).exists())
        return client

    def block(self, member, *, include_family, staff=None):
        client = self.client_class()
        self.sign_in(staff or self.representative, client)
        return client.post(
            reverse("support:block_create", args=[member.pk]),
            {
                "include_family": "on" if include_family else "",
                "reason": "Lost her phone",
                "identity_checked": "on",
            },
            follow=True,
        )

    def sign_in_attempt(self, user):
        return self.client_class().post(
            reverse("accounts:login"), {"username": user.username, "password": PASSWORD}
        )

    @pytest.mark.promise("ACC-7")
    def test_a_family_block_ends_every_family_session_at_once(self):
        alice_client = self.signed_in_client(self.alice)
        bruno_client = self.signed_in_client(self.bruno)
        elena_client = self.signed_in_client(self.elena)

        response = self.block(self.alice_member, include_family=True)
        self.assertContains(response, "2 accounts were signed out at once")

        self.assertFalse(UserSession.objects.filter(user__in=[self.alice, self.bruno]).exists())
        for client in (alice_client, bruno_client):
            response = client.get(reverse("accounts:profile"))
            self.assertEqual(response.status_code, 302)
            self.assertTrue(response["Location"].startswith(reverse("accounts:login")))
        self.assertEqual(elena_client.get(reverse("accounts:profile")).status_code, 200)

    @pytest.mark.promise("ACC-7")
    def test_signing_in_is_refused_with_a_clear_message_for_the_member_and_spouse(self):
        self.block(self.alice_member, include_family=True)
        for user in (self.alice, self.bruno):
            response = self.sign_in_attempt(user)
            self.assertEqual(response.status_code, 200)
            self.assertContains(response, BLOCKED_MESSAGE)
            self.assertContains(response, "Call member services to lift the block")
        self.assertEqual(self.sign_in_attempt(self.elena).status_code, 302)

    @pytest.mark.promise("ACC-7")
    def test_a_block_without_the_family_leaves_the_spouse_signed_in(self):
        bruno_client = self.signed_in_client(self.bruno)
        response = self.block(self.alice_member, include_family=False)
        self.assertContains(response, "1 account was signed out at once")
        self.assertContains(self.sign_in_attempt(self.alice), BLOCKED_MESSAGE)
        self.assertEqual(bruno_client.get(reverse("accounts:profile")).status_code, 200)

    @pytest.mark.promise("ACC-7")
    def test_a_block_asked_by_a_spouse_for_the_family_covers_the_subscriber_and_children(self):
        access_block_create(
            member=self.bruno_member, include_family=True, reason="r", actor=self.administrator
        )
        family = [self.alice_member, self.bruno_member, self.teo_member, self.carla_member]
        for member in family:
            self.assertTrue(member_blocked(member), member)
        self.assertFalse(member_blocked(self.elena_member))
        everyone = list(Member.objects.all())
        self.assertEqual(
            blocked_member_ids(everyone),
            {member.pk for member in everyone if member_blocked(member)},
        )

    @pytest.mark.promise("ACC-7")
    def test_a_caregiver_cannot_act_for_a_blocked_member(self):
        maria_client = self.client_class()
        self.sign_in(self.maria, maria_client)
        maria_client.post(reverse("caregivers:switch"), {"grant": self.maria_grant.pk})

        self.block(self.elena_member, include_family=False)

        self.assertIsNone(grant_for(self.maria, self.elena_member, Scope.MESSAGES))
        response = maria_client.get(reverse("caregivers:switch"))
        self.assertIsNone(response.context["acting_for"])
        self.assertNotIn(ACTING_FOR_GRANT, maria_client.session)
        self.assertContains(response, "asked member services to block online access")
        self.assertEqual(response.context["grants"], [])

        response = maria_client.post(
            reverse("caregivers:switch"), {"grant": self.maria_grant.pk}, follow=True
        )
        self.assertContains(response, "blocked at their request")
        self.assertIsNone(response.context["acting_for"])

    @pytest.mark.promise("ACC-7")
    def test_a_guardian_cannot_act_for_a_blocked_minor(self):
        access_block_create(
            member=self.teo_member, include_family=False, reason="r", actor=self.representative
        )
        self.assertIsNone(grant_for(self.alice, self.teo_member, Scope.PROFILE))
        self.sign_in(self.alice)
        session = self.client.session
        session[ACTING_FOR_GRANT] = self.teo_guardian_grant.pk
        session.save()
        self.assertIsNone(self.client.get(reverse("caregivers:switch")).context["acting_for"])

    @pytest.mark.promise("ACC-7")
    def test_lifting_the_block_restores_sign_in_and_caregivers(self):
        self.block(self.elena_member, include_family=True)
        block = AccessBlock.objects.get(member=self.elena_member)
        self.assertContains(self.sign_in_attempt(self.elena), BLOCKED_MESSAGE)

        self.sign_in(self.representative)
        refused = self.client.post(
            reverse("support:block_lift", args=[block.pk]), {"note": "", "identity_checked": "on"}
        )
        self.assertEqual(refused.status_code, 200)
        response = self.client.post(
            reverse("support:block_lift", args=[block.pk]),
            {
                "note": "Member called back and passed the security questions",
                "identity_checked": "on",
            },
        )
        self.assertRedirects(response, reverse("support:member", args=[self.elena_member.pk]))
        block.refresh_from_db()
        self.assertEqual(block.lifted_by, self.representative)
        self.assertIsNotNone(block.lifted_at)

        self.assertEqual(self.sign_in_attempt(self.elena).status_code, 302)
        self.assertEqual(grant_for(self.maria, self.elena_member, Scope.MESSAGES), self.maria_grant)

    @pytest.mark.promise("ACC-7")
    def test_members_cannot_block_or_lift_online(self):
        access_block_create(
            member=self.alice_member, include_family=False, reason="r", actor=self.representative
        )
        block = AccessBlock.objects.get()
        for user in (self.bruno, self.oscar, self.maria):
            client = self.client_class()
            self.sign_in(user, client)
            lift = client.post(
                reverse("support:block_lift", args=[block.pk]),
                {"note": "please", "identity_checked": "on"},
            )
            self.assertEqual(lift.status_code, 403)
            create = client.post(
                reverse("support:block_create", args=[self.oscar_member.pk]),
                {"reason": "x", "identity_checked": "on"},
            )
            self.assertEqual(create.status_code, 403)
        block.refresh_from_db()
        self.assertTrue(block.is_active)
        self.assertEqual(AccessBlock.objects.count(), 1)

    def test_a_request_already_covered_by_a_block_changes_nothing(self):
        self.block(self.alice_member, include_family=True)
        response = self.block(self.bruno_member, include_family=False)
        self.assertContains(response, "A block in force already covers this request.")
        self.assertEqual(AccessBlock.objects.count(), 1)
        self.block(self.alice_member, include_family=False)
        self.assertEqual(AccessBlock.objects.count(), 1)

    def test_the_block_needs_a_reason_and_an_identity_check(self):
        self.sign_in(self.representative)
        response = self.client.post(
            reverse("support:block_create", args=[self.alice_member.pk]),
            {"reason": "Worried about her ex-partner"},
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Check the member&#x27;s identity before blocking.")
        self.assertContains(response, "Worried about her ex-partner")
        self.assertFalse(AccessBlock.objects.exists())

    @pytest.mark.promise("ACC-7")
    def test_staff_see_current_and_past_blocks(self):
        current = access_block_create(
            member=self.alice_member,
            include_family=True,
            reason="Stolen laptop",
            actor=self.representative,
        )
        self.block(self.elena_member, include_family=False)
        self.sign_in(self.administrator)
        past = AccessBlock.objects.get(member=self.elena_member)
        self.client.post(
            reverse("support:block_lift", args=[past.pk]),
            {"note": "Asked to restore", "identity_checked": "on"},
        )
        response = self.client.get(reverse("support:blocks"))
        self.assertEqual(list(response.context["current"]), [current])
        self.assertEqual(list(response.context["past"]), [past])
        self.assertContains(response, "Stolen laptop")
        self.assertContains(response, "Asked to restore")

    def test_an_unknown_member_id_gets_a_clear_error_and_keeps_the_input(self):
        self.sign_in(self.representative)
        response = self.client.post(reverse("support:member_search"), {"member_id": "M-NOPE"})
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "No member on the roster has that member ID")
        self.assertContains(response, 'value="M-NOPE"')


class AuditedStaffPagesTests(HavenTestCase):
    def test_opening_a_member_is_recorded_with_the_purpose(self):
        train_all_staff(self)
        self.sign_in(self.representative)
        self.client.get(reverse("support:member", args=[self.alice_member.pk]))
        event = AuditEvent.objects.filter(member=self.alice_member, actor=self.representative)
        self.assertTrue(event.filter(purpose="operations", outcome="allowed").exists())

    def test_staff_without_current_privacy_training_see_no_member(self):
        self.sign_in(self.representative)
        response = self.client.get(reverse("support:member", args=[self.alice_member.pk]))
        self.assertEqual(response.status_code, 403)
        self.assertContains(response, "No privacy training is on record for you", status_code=403)
        self.assertNotContains(response, self.alice_member.member_id, status_code=403)

    def test_an_administrator_sees_whose_account_it_is_but_not_the_birth_date(self):
        train_all_staff(self)
        self.sign_in(self.administrator)
        response = self.client.get(reverse("support:member", args=[self.alice_member.pk]))
        self.assertContains(response, "Alice Rivera")
        self.assertContains(response, self.alice_member.member_id)
        self.assertNotContains(response, "Date of birth")
