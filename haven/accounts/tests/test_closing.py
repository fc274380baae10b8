"""LOG-5: a person closes their account, or member services close it with a reason; every
session ends, signing in is refused, and the retention run erases it after the notice's period."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings
from django.urls import reverse

from haven.accounts import services
from haven.accounts.models import User, UserSession
from haven.accounts.tests.test_registration import register_as
from haven.audit.models import AuditEvent
from haven.privacy.tests.test_requests import reauthenticated
from haven.testing.people import PASSWORD, HavenTestCase


class AccountClosingTests(HavenTestCase):
    def signed_in_twice(self, user: User):
        """The person on two devices: this test's client and another one."""
        other = self.sign_in(user, self.client_class())
        reauthenticated(self.sign_in(user))
        return other

    @pytest.mark.promise("LOG-5")
    @override_settings(HAVEN_CLOSED_ACCOUNT_RETENTION_DAYS=2190)
    def test_a_member_closes_their_account_after_reading_what_happens_and_is_signed_out(self):
        other_device = self.signed_in_twice(self.alice)
        profile = self.client.get(reverse("accounts:profile"))
        self.assertContains(profile, reverse("accounts:account_close"))

        page = self.client.get(reverse("accounts:account_close"))
        self.assertContains(page, "signed out at once, on every device")
        self.assertContains(page, "Your data is kept for 6 years after closing")
        self.assertContains(page, reverse("privacy:requests"))

        unconfirmed = self.client.post(reverse("accounts:account_close"), {})
        self.assertEqual(unconfirmed.status_code, 200)
        self.assertContains(unconfirmed, "Tick the box to confirm")
        self.assertIsNone(User.objects.get(pk=self.alice.pk).closed_at)

        closed = self.client.post(reverse("accounts:account_close"), {"confirm": "on"})
        self.assertRedirects(closed, reverse("accounts:login") + "?reason=closed")
        alice = User.objects.get(pk=self.alice.pk)
        self.assertIsNotNone(alice.closed_at)
        self.assertEqual(
            (alice.closed_by, alice.closed_reason, alice.is_active), (alice, "", False)
        )
        self.assertFalse(UserSession.objects.filter(user=alice).exists())
        # Both devices are signed out: their next page asks them to sign in.
        for client in (self.client, other_device):
            response = client.get(reverse("accounts:profile"))
            self.assertEqual(response.status_code, 302)
            self.assertTrue(response["Location"].startswith(reverse("accounts:login")))
        signed_out = self.client.get(reverse("accounts:login") + "?reason=closed")
        self.assertContains(signed_out, "Your account is closed and you are signed out everywhere.")

    @pytest.mark.promise("LOG-5")
    def test_signing_in_to_a_closed_account_gets_the_same_answer_as_a_wrong_password(self):
        services.account_close(account=self.consumer, actor=self.consumer)
        right_password = self.client.post(
            reverse("accounts:login"), {"username": "consuelo", "password": PASSWORD}
        )
        wrong_password = self.client.post(
            reverse("accounts:login"), {"username": "alice", "password": "not the password"}
        )
        self.assertEqual(right_password.status_code, 200)
        self.assertEqual(
            right_password.context["form"].errors, wrong_password.context["form"].errors
        )
        self.assertNotIn("_auth_user_id", self.client.session)

    def test_members_consumers_caregivers_producers_and_providers_may_close_their_own(self):
        for person in (self.consumer, self.maria, self.producer, self.provider):
            client = reauthenticated(self.sign_in(person, self.client_class()))
            self.assertEqual(client.get(reverse("accounts:account_close")).status_code, 200)
            client.post(reverse("accounts:account_close"), {"confirm": "on"})
            self.assertIsNotNone(User.objects.get(pk=person.pk).closed_at, person.username)
        # Producers and providers have no deletion requests: they write to the privacy officer.
        page = reauthenticated(self.sign_in(self.pending_producer)).get(
            reverse("accounts:account_close")
        )
        self.assertContains(page, reverse("privacy:contact"))
        for person in (self.employer, self.representative):
            client = self.sign_in(person, self.client_class())
            self.assertEqual(client.get(reverse("accounts:account_close")).status_code, 403)

    @pytest.mark.promise("LOG-5")
    def test_member_services_close_an_account_with_a_reason_that_is_kept_on_it(self):
        alice_device = self.sign_in(self.alice, self.client_class())
        staff = reauthenticated(self.sign_in(self.representative))
        workspace = staff.get(reverse("front:staff_home"))
        self.assertContains(workspace, reverse("accounts:staff_account_find"))
        found = staff.post(reverse("accounts:staff_account_find"), {"username": "ALICE"})
        page_url = reverse("accounts:staff_account", kwargs={"pk": self.alice.pk})
        self.assertRedirects(found, page_url)
        unknown = staff.post(reverse("accounts:staff_account_find"), {"username": "nobody"})
        self.assertContains(unknown, "No account has this username.")

        short = staff.post(page_url, {"reason": "asked"})
        self.assertContains(short, "Say why in at least 10 characters.")
        self.assertIsNone(User.objects.get(pk=self.alice.pk).closed_at)

        closed = staff.post(page_url, {"reason": "Called in, identity checked by date of birth"})
        self.assertRedirects(closed, page_url)
        alice = User.objects.get(pk=self.alice.pk)
        self.assertEqual(alice.closed_by, self.representative)
        self.assertEqual(alice.closed_reason, "Called in, identity checked by date of birth")
        self.assertFalse(alice.is_active)
        self.assertEqual(alice_device.get(reverse("accounts:profile")).status_code, 302)
        shown = staff.get(page_url)
        self.assertContains(shown, "Called in, identity checked by date of birth")
        self.assertNotContains(shown, 'name="reason"')
        # The audit trail records who closed which account and when, never the free-text reason,
        # which is erased with the account while the trail is kept.
        event = AuditEvent.objects.get(subtype="account_closed")
        self.assertEqual(
            (event.actor, event.record_id, event.member_id),
            (self.representative, f"user:{self.alice.pk}", None),
        )
        self.assertEqual(event.entity, {"account": ["closed_at", "is_active"]})
        self.assertNotIn("identity checked", event.note)

    def test_only_member_services_close_someone_elses_account_and_only_once(self):
        for actor in (self.nurse, self.privacy_officer, self.bruno):
            with self.assertRaises(PermissionDenied):
                services.account_close(account=self.alice, actor=actor, reason="x" * 20)
        with self.assertRaises(ValidationError):
            services.account_close(account=self.nurse, actor=self.administrator, reason="x" * 20)
        with self.assertRaises(ValidationError):
            services.account_close(account=self.nurse, actor=self.nurse)
        services.account_close(account=self.alice, actor=self.administrator, reason="y" * 20)
        with self.assertRaises(ValidationError) as twice:
            services.account_close(account=self.alice, actor=self.alice)
        self.assertEqual(twice.exception.code, "closed")
        # A staff member's own account, or a partner's employer account, has no page here.
        staff = reauthenticated(self.sign_in(self.administrator))
        for account in (self.nurse, self.employer):
            page = staff.get(reverse("accounts:staff_account", kwargs={"pk": account.pk}))
            self.assertEqual(page.status_code, 404)

    @pytest.mark.promise("LOG-5")
    def test_member_services_reopen_a_closed_account_before_it_is_erased(self):
        services.account_close(account=self.alice, actor=self.alice)
        staff = reauthenticated(self.sign_in(self.representative))
        page_url = reverse("accounts:staff_account", kwargs={"pk": self.alice.pk})
        self.assertContains(staff.get(page_url), "Reopen the account")
        reopened = staff.post(page_url, {"action": "reopen"}, follow=True)
        self.assertContains(reopened, "The account is open again: its owner can sign in.")
        alice = User.objects.get(pk=self.alice.pk)
        self.assertEqual((alice.closed_at, alice.is_active), (None, True))
        signed_in = self.client.post(
            reverse("accounts:login"), {"username": "alice", "password": PASSWORD}
        )
        self.assertEqual(signed_in.status_code, 302)
        event = AuditEvent.objects.get(subtype="account_reopened")
        self.assertEqual((event.actor, event.record_id), (self.representative, f"user:{alice.pk}"))
        with self.assertRaises(ValidationError) as open_already:
            services.account_reopen(account=alice, actor=self.representative)
        self.assertEqual(open_already.exception.code, "open")
        with self.assertRaises(PermissionDenied):
            services.account_reopen(account=alice, actor=self.nurse)

    def test_an_erased_account_is_never_reopened(self):
        from haven.privacy import services as privacy

        made = privacy.rights_request_create(
            kind="deletion", requester=self.bruno, member=self.bruno.member, identity="password"
        )
        privacy.account_erase(request=made, actor=self.privacy_officer)
        bruno = User.objects.get(pk=self.bruno.pk)
        with self.assertRaises(ValidationError) as refused:
            services.account_reopen(account=bruno, actor=self.representative)
        self.assertEqual(refused.exception.code, "erased")
        staff = reauthenticated(self.sign_in(self.representative))
        page = staff.get(reverse("accounts:staff_account", kwargs={"pk": bruno.pk}))
        self.assertContains(page, "It has been erased and cannot be reopened.")
        self.assertFalse(User.objects.get(pk=bruno.pk).is_active)

    @pytest.mark.promise("ACC-1")
    def test_a_member_whose_account_is_closed_is_sent_to_member_services_not_a_second_account(
        self,
    ):
        services.account_close(account=self.alice, actor=self.alice)
        response = register_as(self.client, self.alice.member, "alice-again")
        self.assertContains(response, "This member&#x27;s online account is closed.")
        self.assertEqual(list(User.objects.filter(member=self.alice.member)), [self.alice])

    @pytest.mark.promise("ACC-1")
    def test_a_member_whose_account_was_erased_can_register_again(self):
        from haven.privacy import services as privacy

        made = privacy.rights_request_create(
            kind="deletion", requester=self.bruno, member=self.bruno.member, identity="password"
        )
        privacy.account_erase(request=made, actor=self.privacy_officer)
        member = self.bruno.member
        response = register_as(self.client, member, "bruno-again")
        self.assertEqual(response.status_code, 302)
        fresh = User.objects.get(member=member)
        self.assertEqual((fresh.username, fresh.is_active), ("bruno-again", True))
        tombstone = User.objects.get(pk=self.bruno.pk)
        # The erased account stays (the trail and the erasure name it) but holds nobody.
        self.assertEqual((tombstone.member, tombstone.is_erased), (None, True))
        self.assertFalse(tombstone.is_active)
