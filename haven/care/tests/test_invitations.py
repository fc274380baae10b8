import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse

from haven.care import links, services
from haven.care.models import Invitation, InvitationSuppression
from haven.lib.hashing import lookup_hash
from haven.mail.models import OutgoingEmail
from haven.testing.people import HavenTestCase


class InvitationTests(HavenTestCase):
    def invite(self, *addresses, who=None):
        self.sign_in(who or self.alice)
        return self.client.post(reverse("care:invite"), {"addresses": "\n".join(addresses)})

    def never_link(self, email: OutgoingEmail) -> str:
        line = next(
            line for line in email.text_body.splitlines() if "/care/invitations/never/" in line
        )
        return (
            line.strip().split("127.0.0.1:8000", 1)[-1]
            if "127.0.0.1:8000" in line
            else line.strip()
        )

    @pytest.mark.promise("CARE-5")
    def test_an_invitation_goes_through_the_outbox_with_a_one_step_never_again(self):
        response = self.invite("friend@example.net")
        self.assertRedirects(response, reverse("care:invite"))
        email = OutgoingEmail.objects.get(to_address="friend@example.net")
        self.assertIn("Alice invites you", email.subject)
        self.assertIn("/accounts/register/", email.text_body)
        self.assertNotIn("friend@example.net", self.never_link(email))
        invitation = Invitation.objects.get()
        self.assertEqual(
            invitation.address_hash, lookup_hash("friend@example.net", purpose="invitation")
        )

        self.client.logout()
        path = self.never_link(email).replace("http://testserver", "")
        self.assertContains(self.client.get(path), "Never invite me again")
        self.client.post(path)
        self.assertTrue(
            InvitationSuppression.objects.filter(
                address_hash=lookup_hash("friend@example.net", purpose="invitation-suppression")
            ).exists()
        )

    @pytest.mark.promise("CARE-5")
    def test_every_later_invitation_respects_the_suppression(self):
        services.invitation_suppress(address_hash=services.suppression_hash("Friend@Example.net"))
        self.invite("friend@example.net", who=self.alice)
        self.invite("friend@example.net", who=self.maria)
        self.assertFalse(
            OutgoingEmail.objects.filter(to_address__iexact="friend@example.net").exists()
        )
        self.assertEqual(
            list(Invitation.objects.values_list("status", flat=True)), ["suppressed", "suppressed"]
        )

    @pytest.mark.promise("CARE-5")
    @override_settings(HAVEN_INVITATIONS_PER_DAY=3)
    def test_invitations_are_rate_limited_per_person(self):
        self.invite("a@example.net", "b@example.net")
        response = self.invite("c@example.net", "d@example.net")
        self.assertContains(response, "You can send 3 invitations a day.")
        self.assertContains(response, "c@example.net")
        self.assertEqual(OutgoingEmail.objects.filter(category="marketing").count(), 2)
        self.invite("c@example.net", who=self.bruno)
        self.assertEqual(OutgoingEmail.objects.filter(category="marketing").count(), 3)

    def test_a_forged_never_again_link_does_nothing(self):
        token = links.never_invite_token("0" * 64)[:-2] + "xx"
        response = self.client.post(reverse("care:never_invite", args=[token]))
        self.assertEqual(response.status_code, 404)
        self.assertFalse(InvitationSuppression.objects.exists())

    def test_bad_addresses_are_explained_and_kept(self):
        response = self.invite("not-an-address")
        self.assertContains(response, "“not-an-address” is not an e-mail address.")
        with self.assertRaises(ValidationError):
            services.invitations_send(inviter=self.alice, addresses=[])
