import hashlib
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from haven.accounts.models import User, UserSession
from haven.caregivers.models import INVITATION_DAYS, Grant, Scope
from haven.caregivers.services import (
    caregiver_invitation_accept,
    caregiver_invitation_create,
    grant_for,
)
from haven.testing.people import PASSWORD, HavenTestCase


class InvitationTests(HavenTestCase):
    def invite(self, scopes=(Scope.MESSAGES, Scope.PLAN)):
        """Elena invites a caregiver through the page; returns the grant and the link shown."""
        self.sign_in(self.elena)
        response = self.client.post(
            reverse("caregivers:invite"),
            {
                "invited_name": "Nephew Paolo",
                "scopes": list(scopes),
                "last_day": Grant.last_day_limit().isoformat(),
            },
            follow=True,
        )
        self.client.logout()
        return response.context["grant"], response.context["link"]

    def open_link(self, link, client=None):
        client = client or self.client
        return client.get(link, follow=True)

    def test_the_member_gets_a_link_once_and_only_its_hash_is_kept(self):
        grant, link = self.invite()
        token = link.rstrip("/").rsplit("/", 1)[1]
        self.assertEqual(grant.invitation_token_hash, hashlib.sha256(token.encode()).hexdigest())
        self.assertNotIn(token, str(Grant.objects.filter(pk=grant.pk).values().get()))
        self.assertEqual(grant.status, Grant.Status.PENDING)
        self.assertEqual(grant.scopes, [Scope.MESSAGES, Scope.PLAN])

        self.sign_in(self.elena)
        again = self.client.get(reverse("caregivers:invitation_link", args=[grant.pk]))
        self.assertIsNone(again.context["link"])
        self.assertNotContains(again, token)

    def test_the_invitation_needs_at_least_one_part_of_the_record(self):
        self.sign_in(self.elena)
        response = self.client.post(
            reverse("caregivers:invite"),
            {"invited_name": "Paolo", "last_day": Grant.last_day_limit().isoformat()},
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Choose at least one part of your record.")
        self.assertContains(response, 'value="Paolo"')
        self.assertFalse(Grant.objects.filter(invited_name="Paolo").exists())

    def test_the_scopes_help_says_sensitive_information_is_never_opened(self):
        self.sign_in(self.elena)
        response = self.client.get(reverse("caregivers:invite"))
        self.assertContains(response, "Sensitive health information")
        self.assertContains(response, "is never opened by a grant")

    def test_a_member_acting_for_someone_else_cannot_invite_for_them(self):
        self.sign_in(self.alice)
        session = self.client.session
        session["haven_acting_for_grant"] = self.teo_guardian_grant.pk
        session.save()
        response = self.client.post(
            reverse("caregivers:invite"),
            {
                "invited_name": "Someone",
                "scopes": [Scope.CLAIMS],
                "last_day": Grant.last_day_limit().isoformat(),
            },
        )
        self.assertContains(response, "switch back to your own record")
        self.assertFalse(Grant.objects.filter(invited_name="Someone").exists())

    @pytest.mark.promise("ACC-9")
    def test_a_signed_in_person_accepts_and_can_act_only_within_the_scopes(self):
        grant, link = self.invite()
        self.sign_in(self.bruno)
        page = self.open_link(link)
        self.assertEqual(page.request["PATH_INFO"], reverse("caregivers:accept"))
        self.assertContains(page, "Elena Moretti")
        response = self.client.post(reverse("caregivers:accept"), follow=True)
        self.assertContains(response, "You can now act for Elena Moretti")
        grant.refresh_from_db()
        self.assertEqual(grant.grantee, self.bruno)
        self.assertIsNotNone(grant.accepted_at)
        self.assertEqual(grant.invitation_token_hash, "")
        self.assertEqual(grant_for(self.bruno, self.elena_member, Scope.PLAN), grant)
        self.assertIsNone(grant_for(self.bruno, self.elena_member, Scope.CLAIMS))

    def test_someone_who_already_acts_for_the_member_is_told_to_ask_for_a_change(self):
        grant, link = self.invite()
        self.sign_in(self.maria)
        self.assertContains(self.open_link(link), "You already act for this person")
        self.client.post(reverse("caregivers:accept"))
        grant.refresh_from_db()
        self.assertIsNone(grant.grantee)

    @pytest.mark.promise("ACC-9")
    def test_the_token_works_only_once(self):
        grant, link = self.invite()
        self.sign_in(self.consumer)
        self.open_link(link)
        self.client.post(reverse("caregivers:accept"))
        grant.refresh_from_db()
        self.assertEqual(grant.grantee, self.consumer)

        other = self.client_class()
        self.sign_in(self.oscar, other)
        page = self.open_link(link, other)
        self.assertContains(page, "This invitation link does not work")
        other.post(reverse("caregivers:accept"))
        grant.refresh_from_db()
        self.assertEqual(grant.grantee, self.consumer)
        self.assertIsNone(grant_for(self.oscar, self.elena_member, Scope.MESSAGES))

    @pytest.mark.promise("ACC-9")
    def test_an_invitation_not_accepted_within_14_days_expires(self):
        grant, token = caregiver_invitation_create(
            invited_name="Paolo",
            scopes=[Scope.MESSAGES],
            last_day=Grant.last_day_limit(),
            actor=self.elena,
        )
        late = grant.created_at + timedelta(days=INVITATION_DAYS, seconds=1)
        self.assertEqual(grant.status_at(late), Grant.Status.INVITATION_EXPIRED)
        with self.assertRaises(ValidationError) as raised:
            caregiver_invitation_accept(token=token, actor=self.maria, at=late)
        self.assertIn("no longer valid", str(raised.exception))

        Grant.objects.filter(pk=grant.pk).update(
            created_at=timezone.now() - timedelta(days=INVITATION_DAYS, minutes=1)
        )
        self.sign_in(self.oscar)
        page = self.client.get(reverse("caregivers:invitation", args=[token]), follow=True)
        self.assertContains(page, "This invitation link does not work")
        self.client.post(reverse("caregivers:accept"))
        grant.refresh_from_db()
        self.assertIsNone(grant.grantee)

    @pytest.mark.promise("ACC-9")
    def test_staff_cannot_accept_an_invitation(self):
        grant, link = self.invite()
        self.sign_in(self.representative)
        page = self.open_link(link)
        self.assertContains(page, "This kind of account cannot act for a member")
        self.assertNotContains(page, ">Accept</button>")
        response = self.client.post(reverse("caregivers:accept"), follow=True)
        self.assertContains(response, "This kind of account cannot act for a member")
        grant.refresh_from_db()
        self.assertIsNone(grant.grantee)

    @pytest.mark.promise("ACC-9")
    def test_producers_and_providers_cannot_accept_either(self):
        grant, link = self.invite()
        for user in (self.producer, self.provider):
            client = self.client_class()
            self.sign_in(user, client)
            self.open_link(link, client)
            client.post(reverse("caregivers:accept"))
        grant.refresh_from_db()
        self.assertIsNone(grant.grantee)

    @pytest.mark.promise("ACC-9")
    def test_the_member_cannot_accept_their_own_invitation(self):
        grant, link = self.invite()
        self.sign_in(self.elena)
        page = self.open_link(link)
        self.assertContains(page, "You cannot accept your own invitation")
        self.client.post(reverse("caregivers:accept"))
        grant.refresh_from_db()
        self.assertIsNone(grant.grantee)

    @pytest.mark.promise("ACC-9")
    def test_a_revoked_invitation_cannot_be_accepted(self):
        grant, link = self.invite()
        self.sign_in(self.elena)
        self.client.post(reverse("caregivers:revoke", args=[grant.pk]))
        self.client.logout()
        self.sign_in(self.maria)
        self.assertContains(self.open_link(link), "This invitation link does not work")

    @pytest.mark.promise("ACC-9")
    def test_someone_without_an_account_creates_a_caregiver_account_and_accepts(self):
        grant, link = self.invite()
        page = self.open_link(link)
        self.assertContains(page, "Create a caregiver account")
        self.assertContains(page, 'action="/accounts/login/"')
        response = self.client.post(
            reverse("caregivers:invitation_account"),
            {
                "new-first_name": "Paolo",
                "new-last_name": "Moretti",
                "new-email": "paolo@example.org",
                "new-username": "paolo",
                "new-password1": "a long and unusual passphrase",
                "new-password2": "a long and unusual passphrase",
            },
            follow=True,
        )
        self.assertContains(response, "you can now act for Elena Moretti")
        paolo = User.objects.get(username="paolo")
        self.assertEqual(paolo.kind, User.Kind.CAREGIVER)
        self.assertIsNone(paolo.member)
        self.assertEqual(response.context["user"], paolo)
        self.assertTrue(UserSession.objects.filter(user=paolo).exists())
        grant.refresh_from_db()
        self.assertEqual(grant.grantee, paolo)
        self.assertIsNotNone(grant_for(paolo, self.elena_member, Scope.MESSAGES))

    def test_a_bad_account_form_keeps_what_was_typed(self):
        _grant, link = self.invite()
        self.open_link(link)
        response = self.client.post(
            reverse("caregivers:invitation_account"),
            {
                "new-first_name": "Paolo",
                "new-last_name": "Moretti",
                "new-email": "paolo@example.org",
                "new-username": "maria",
                "new-password1": "a long and unusual passphrase",
                "new-password2": "something else entirely",
            },
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "That username is taken")
        self.assertContains(response, "The two passwords are not the same")
        self.assertContains(response, 'value="paolo@example.org"')
        self.assertFalse(User.objects.filter(email="paolo@example.org").exists())

    def test_signing_in_from_the_invitation_comes_back_to_accept(self):
        _grant, link = self.invite()
        self.open_link(link)
        response = self.client.post(
            reverse("accounts:login"),
            {"username": "consuelo", "password": PASSWORD, "next": reverse("caregivers:accept")},
        )
        self.assertRedirects(response, reverse("caregivers:accept"))
        self.assertContains(self.client.get(reverse("caregivers:accept")), ">Accept</button>")


class TranslatedPagesTests(HavenTestCase):
    def test_the_invitation_page_reads_in_spanish_and_italian(self):
        self.sign_in(self.elena)
        for language, heading in (("es", "Invitar a un cuidador"), ("it", "Invita un assistente")):
            self.client.cookies["haven_language"] = language
            response = self.client.get(reverse("caregivers:invite"))
            self.assertContains(response, f"<h1>{heading}</h1>", html=True)
