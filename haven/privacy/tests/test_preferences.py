"""CON-1, CON-2, CON-8: contact preferences per channel and kind, marketing only after a separate
recorded authorisation, and every consent and withdrawal on record with its wording."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from haven.mail.models import Category, OutgoingEmail
from haven.mail.services import may_email, outbox_enqueue
from haven.privacy import services, wording
from haven.privacy.models import Channel, ConsentRecord, Kind, Subject
from haven.testing.people import HavenTestCase


def newsletter_to(user, key="n-1") -> OutgoingEmail:
    return outbox_enqueue(
        to_address=user.email,
        subject="Spring newsletter",
        text_body="News",
        category=Category.NEWSLETTER,
        user=user,
        reason="newsletter",
        idempotency_key=key,
    )


class PreferencesTests(HavenTestCase):
    @pytest.mark.promise("CON-1")
    def test_sensible_defaults_email_for_useful_messages_no_texts_or_calls_no_newsletters(self):
        self.assertTrue(services.may_contact(self.alice, Channel.EMAIL, Kind.APPOINTMENT_REMINDERS))
        self.assertTrue(services.may_contact(self.alice, Channel.POST, Kind.PLAN_NOTICES))
        self.assertFalse(services.may_contact(self.alice, Channel.TEXT, Kind.HEALTH_REMINDERS))
        self.assertFalse(services.may_contact(self.alice, Channel.VOICE, Kind.QUESTIONNAIRES))
        self.assertFalse(services.may_contact(self.alice, Channel.EMAIL, Kind.NEWSLETTERS))

    @pytest.mark.promise("CON-1")
    def test_the_preferences_page_sets_the_preferred_name_and_each_channel_and_kind(self):
        self.sign_in(self.alice)
        data = {
            "preferred_name": "Ali",
            "health_reminders__text": "on",
            "plan_notices__email": "on",
        }
        response = self.client.post(reverse("privacy:preferences"), data)
        self.assertRedirects(response, reverse("privacy:preferences"))
        self.alice.refresh_from_db()
        self.assertEqual(self.alice.preferred_name, "Ali")
        self.assertTrue(services.may_contact(self.alice, Channel.TEXT, Kind.HEALTH_REMINDERS))
        self.assertFalse(services.may_contact(self.alice, Channel.EMAIL, Kind.HEALTH_REMINDERS))
        self.assertFalse(services.may_contact(self.alice, Channel.POST, Kind.PLAN_NOTICES))
        page = self.client.get(reverse("privacy:preferences"))
        self.assertContains(page, 'value="Ali"')
        self.assertContains(
            page, 'name="health_reminders__text" id="id_health_reminders__text" checked'
        )

    @pytest.mark.promise("CON-1")
    def test_refusing_email_newsletters_makes_the_mail_outbox_refuse_them(self):
        services.contact_preferences_update(
            user=self.alice,
            choices={(Channel.EMAIL, Kind.NEWSLETTERS): True},
            actor=self.alice,
        )
        self.assertEqual(newsletter_to(self.alice, "n-on").status, OutgoingEmail.Status.QUEUED)
        services.contact_preferences_update(
            user=self.alice,
            choices={(Channel.EMAIL, Kind.NEWSLETTERS): False},
            actor=self.alice,
        )
        self.assertFalse(may_email(self.alice, Category.NEWSLETTER))
        self.assertEqual(newsletter_to(self.alice, "n-off").status, OutgoingEmail.Status.SUPPRESSED)

    @pytest.mark.promise("CON-1")
    def test_an_unsubscribe_in_the_mail_outbox_shows_as_refused_in_the_preferences(self):
        from haven.mail.services import email_opt_out

        services.contact_preferences_update(
            user=self.alice, choices={(Channel.EMAIL, Kind.NEWSLETTERS): True}, actor=self.alice
        )
        email_opt_out(user=self.alice, categories=[Category.NEWSLETTER], source="link")
        self.assertFalse(services.may_contact(self.alice, Channel.EMAIL, Kind.NEWSLETTERS))

    @pytest.mark.promise("CON-1")
    def test_nobody_changes_someone_elses_preferences(self):
        with self.assertRaises(PermissionDenied):
            services.contact_preferences_update(
                user=self.alice, choices={(Channel.EMAIL, Kind.NEWSLETTERS): True}, actor=self.bruno
            )

    @pytest.mark.promise("CON-2")
    def test_no_marketing_by_any_channel_without_an_authorisation(self):
        for channel in Channel.values:
            self.assertFalse(services.may_contact(self.alice, channel, services.MARKETING))
        services.contact_preferences_update(user=self.alice, choices={}, actor=self.alice)
        self.assertFalse(may_email(self.alice, Category.MARKETING))

    @pytest.mark.promise("CON-2")
    @pytest.mark.promise("CON-8")
    def test_marketing_authorisation_records_wording_version_and_time_and_can_be_withdrawn(self):
        self.sign_in(self.alice)
        page = self.client.get(reverse("privacy:marketing"))
        self.assertContains(page, str(wording.MARKETING.text)[:60])
        response = self.client.post(
            reverse("privacy:marketing"), {"channels": ["email"], "agree": "on"}
        )
        self.assertRedirects(response, reverse("privacy:marketing"))
        record = ConsentRecord.objects.get(subject=Subject.MARKETING)
        self.assertTrue(record.given)
        self.assertEqual(record.version, wording.MARKETING.version)
        self.assertEqual(record.wording, wording.MARKETING.shown_in("en"))
        self.assertEqual(record.scope, "email")
        self.assertIsNotNone(record.recorded_at)
        self.assertTrue(services.may_contact(self.alice, Channel.EMAIL, services.MARKETING))
        self.assertFalse(services.may_contact(self.alice, Channel.TEXT, services.MARKETING))
        self.assertTrue(may_email(self.alice, Category.MARKETING))

        self.client.post(reverse("privacy:marketing"), {"action": "withdraw"})
        self.assertFalse(services.may_contact(self.alice, Channel.EMAIL, services.MARKETING))
        self.assertFalse(may_email(self.alice, Category.MARKETING))
        history = list(ConsentRecord.objects.filter(subject=Subject.MARKETING).order_by("pk"))
        self.assertEqual([r.given for r in history], [True, False])

    @pytest.mark.promise("CON-2")
    def test_the_marketing_authorisation_needs_the_explicit_tick(self):
        self.sign_in(self.alice)
        response = self.client.post(reverse("privacy:marketing"), {"channels": ["email"]})
        self.assertEqual(response.status_code, 200)
        self.assertFalse(ConsentRecord.objects.filter(subject=Subject.MARKETING).exists())

    @pytest.mark.promise("CON-8")
    def test_each_changed_preference_is_a_consent_record_in_the_language_shown(self):
        self.sign_in(self.alice)
        self.client.post(
            reverse("privacy:preferences"),
            {
                "plan_notices__email": "on",
                "plan_notices__post": "on",
                "newsletters__email": "on",
                "health_reminders__email": "on",
                "questionnaires__email": "on",
                "appointment_reminders__email": "on",
            },
            HTTP_ACCEPT_LANGUAGE="es",
        )
        record = ConsentRecord.objects.get(subject=Subject.CONTACT)
        self.assertEqual(record.scope, "email:newsletters")
        self.assertTrue(record.given)
        self.assertEqual(record.language, "es")
        self.assertEqual(record.wording, wording.CONTACT.shown_in("es"))
        self.assertNotEqual(record.wording, wording.CONTACT.shown_in("en"))

    @pytest.mark.promise("CON-8")
    def test_consent_records_cannot_be_changed_or_deleted(self):
        record = services.marketing_authorise(user=self.alice, channels=["post"], actor=self.alice)
        record.given = False
        with self.assertRaises(ValidationError):
            record.save()
        with self.assertRaises(ValidationError):
            record.delete()
        self.assertTrue(ConsentRecord.objects.get(pk=record.pk).given)


class MailHookTests(HavenTestCase):
    @pytest.mark.promise("CON-2")
    def test_the_hook_for_the_outbox_refuses_marketing_to_anyone_never_asked(self):
        self.assertFalse(services.email_category_allowed(self.bruno, Category.MARKETING))
        self.assertTrue(services.email_category_allowed(self.bruno, Category.REMINDER))
        self.assertFalse(services.email_category_allowed(self.bruno, Category.NEWSLETTER))
        self.assertTrue(services.email_category_allowed(self.bruno, Category.REQUIRED_NOTICE))
        services.marketing_authorise(user=self.bruno, channels=["email"], actor=self.bruno)
        self.assertTrue(services.email_category_allowed(self.bruno, Category.MARKETING))
