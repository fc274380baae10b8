"""Staff change their own second factor after giving the password again; compliance or the
administrator resets a colleague's lost one, recorded in the audit trail (ACC-6, ACC-12)."""

import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from haven.accounts import services
from haven.accounts.models import UserSession
from haven.accounts.sessions import REAUTHENTICATED_AT
from haven.audit.models import AuditEvent
from haven.testing.people import PASSWORD, HavenTestCase


def code_of(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


class ChangeOwnSecondFactorTests(HavenTestCase):
    def setUp(self):
        self.sign_in(self.nurse)
        self.old = TOTPDevice.objects.get(user=self.nurse)

    def pending(self) -> TOTPDevice:
        key = self.client.session[services.PENDING_SECOND_FACTOR_KEY]
        return TOTPDevice(user=self.nurse, key=key)

    @pytest.mark.promise("ACC-6")
    def test_changing_the_second_factor_asks_for_the_password_again(self):
        session = self.client.session
        session[REAUTHENTICATED_AT] = 0
        session.save()
        url = reverse("accounts:second_factor")
        response = self.client.get(url)
        self.assertRedirects(
            response, f"{reverse('accounts:confirm_password')}?next={url.replace('/', '%2F')}"
        )
        wrong = self.client.post(
            reverse("accounts:confirm_password"), {"password": "not it", "next": url}
        )
        self.assertEqual(wrong.status_code, 200)
        confirmed = self.client.post(
            reverse("accounts:confirm_password"), {"password": PASSWORD, "next": url}
        )
        self.assertRedirects(confirmed, url)
        self.assertContains(self.client.get(url), "<svg")

    @pytest.mark.promise("ACC-12")
    def test_a_new_authenticator_replaces_the_old_one_and_the_change_is_recorded(self):
        page = self.client.get(reverse("accounts:second_factor"))
        self.assertEqual(page.status_code, 200)
        # Opening the page stores no device; the new key waits in the session.
        self.assertEqual(list(TOTPDevice.objects.filter(user=self.nurse)), [self.old])
        new = self.pending()
        self.assertContains(page, new.bin_key.hex())
        response = self.client.post(reverse("accounts:second_factor"), {"otp_token": code_of(new)})
        self.assertRedirects(response, reverse("accounts:profile"))
        device = TOTPDevice.objects.get(user=self.nurse)
        self.assertEqual((device.key, device.confirmed), (new.key, True))
        self.assertNotIn(services.PENDING_SECOND_FACTOR_KEY, self.client.session)
        # This session stays past the second factor, with the new device.
        self.assertEqual(self.client.get(reverse("front:staff_home")).status_code, 200)
        event = AuditEvent.objects.get()
        self.assertEqual(
            (event.actor, event.member, event.subtype, event.record_id),
            (self.nurse, None, "second_factor_replaced", f"user:{self.nurse.pk}"),
        )

    @pytest.mark.promise("ACC-12")
    def test_a_wrong_code_changes_nothing(self):
        self.client.get(reverse("accounts:second_factor"))
        response = self.client.post(reverse("accounts:second_factor"), {"otp_token": "000000"})
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.context["form"].errors)
        self.assertTrue(TOTPDevice.objects.filter(pk=self.old.pk, confirmed=True).exists())
        self.assertFalse(AuditEvent.objects.exists())

    def test_only_staff_have_the_page(self):
        client = self.sign_in(self.alice, self.client_class())
        self.assertEqual(client.get(reverse("accounts:second_factor")).status_code, 403)

    def test_the_account_page_links_to_it_for_staff(self):
        self.assertContains(
            self.client.get(reverse("accounts:profile")), reverse("accounts:second_factor")
        )


class ResetColleagueSecondFactorTests(HavenTestCase):
    def setUp(self):
        self.compliance = self.staff["compliance"]
        self.sign_in(self.compliance)
        self.url = reverse("accounts:second_factor_reset")

    @pytest.mark.promise("ACC-12")
    def test_compliance_resets_a_colleagues_lost_device_and_it_is_audited(self):
        from fhir.resources.R4B.auditevent import AuditEvent as FhirAuditEvent

        nurse_client = self.sign_in(self.nurse, self.client_class())
        self.assertEqual(nurse_client.get(reverse("front:staff_home")).status_code, 200)
        page = self.client.get(self.url)
        self.assertContains(page, self.nurse.username)
        response = self.client.post(
            self.url,
            {"colleague": self.nurse.pk, "reason": "Phone lost; called back on the desk line."},
        )
        self.assertRedirects(response, self.url)
        self.assertFalse(TOTPDevice.objects.filter(user=self.nurse).exists())
        self.assertFalse(UserSession.objects.filter(user=self.nurse).exists())
        # The nurse's session is over; at the next sign-in they enrol a new authenticator.
        self.assertEqual(nurse_client.get(reverse("front:staff_home")).status_code, 302)
        fresh = self.client_class()
        fresh.post(
            reverse("accounts:login"), {"username": self.nurse.username, "password": PASSWORD}
        )
        self.assertTrue(fresh.get(reverse("accounts:two_factor")).context["enrolling"])

        event = AuditEvent.objects.get()
        self.assertEqual(
            (event.actor, event.member, event.subtype, event.record_id),
            (self.compliance, None, "second_factor_reset", f"user:{self.nurse.pk}"),
        )
        self.assertIn("Phone lost", event.note)
        self.assertIn(self.nurse.username, event.note)
        fhir = FhirAuditEvent.model_validate(event.to_fhir())
        self.assertEqual(fhir.type.code, "110137")

    def test_the_reason_is_required_and_ones_own_account_is_not_listed(self):
        short = self.client.post(self.url, {"colleague": self.nurse.pk, "reason": "lost"})
        self.assertEqual(short.status_code, 200)
        self.assertTrue(short.context["form"].errors)
        own = self.client.post(
            self.url, {"colleague": self.compliance.pk, "reason": "My own phone is lost."}
        )
        self.assertIn("colleague", own.context["form"].errors)
        member = self.client.post(
            self.url, {"colleague": self.alice.pk, "reason": "Not a staff account at all."}
        )
        self.assertIn("colleague", member.context["form"].errors)
        self.assertEqual(TOTPDevice.objects.filter(user=self.nurse).count(), 1)
        self.assertFalse(AuditEvent.objects.exists())

    def test_other_roles_cannot_reset(self):
        client = self.sign_in(self.representative, self.client_class())
        response = client.post(
            self.url, {"colleague": self.nurse.pk, "reason": "Phone lost; called back."}
        )
        self.assertEqual(response.status_code, 403)
        self.assertEqual(TOTPDevice.objects.filter(user=self.nurse).count(), 1)

    def test_the_service_refuses_other_roles_too(self):
        from django.core.exceptions import PermissionDenied

        with self.assertRaises(PermissionDenied):
            services.second_factor_reset(
                colleague=self.nurse, reason="Phone lost; called back.", actor=self.representative
            )
