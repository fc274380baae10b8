"""The quit-smoking programme: a member enrols, chooses reminders, questionnaires and channels;
what is due goes to their page, and by e-mail only when they chose it here and accepted it in the
privacy center; e-mail says nothing about health; leaving stops everything (PLAN-5)."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from haven.library import demo, services
from haven.library.models import (
    Answer,
    Delivery,
    DeliveryKind,
    EmailOutcome,
    Enrolment,
    Frequency,
    Programme,
)
from haven.mail.models import OutgoingEmail
from haven.privacy.models import Channel, Kind
from haven.privacy.services import contact_preferences_update
from haven.testing.people import HavenTestCase

DAY = timedelta(days=1)
# Words that would tell a reader of the e-mail what the member is doing about their health.
HEALTH_WORDS = [
    "smok",
    "fum",
    "cigar",
    "sigar",
    "nicotin",
    "tabac",
    "craving",
    "ganas",
    "voglia",
    "quit",
    "smettere",
    "questionnaire",
    "cuestionario",
    "questionario",
    "programme",
    "programa",
]


class ProgrammeTests(HavenTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        demo.load()
        cls.programme = Programme.objects.get(slug=demo.PROGRAMME_SLUG)
        cls.bruno.email = "bruno@example.org"
        cls.bruno.save()

    def enrol(
        self, user, *, reminders=Frequency.DAILY, questionnaires=Frequency.WEEKLY, email=True
    ):
        return services.enrol(
            user=user,
            programme=self.programme,
            reminders=reminders,
            questionnaires=questionnaires,
            channels=[Channel.EMAIL] if email else [],
            now=self.start,
        )

    def setUp(self):
        super().setUp()
        self.start = timezone.now() - timedelta(days=8)

    def emails_to(self, user):
        return OutgoingEmail.objects.filter(user=user)

    def test_a_member_enrols_from_the_programme_page(self):
        self.sign_in(self.alice)
        url = reverse("library:programme", args=[demo.PROGRAMME_SLUG])
        page = self.client.get(url)
        self.assertContains(page, "Join the programme")
        self.assertContains(page, "What your privacy preferences allow now")
        response = self.client.post(
            url, {"reminders": "weekly", "questionnaires": "none", "channels": ["email"]}
        )
        self.assertRedirects(response, reverse("library:mine"))
        enrolment = Enrolment.objects.get(user=self.alice)
        self.assertEqual(
            (enrolment.reminders, enrolment.questionnaires, enrolment.channels),
            ("weekly", "none", ["email"]),
        )
        self.assertIsNone(enrolment.next_questionnaire_at)
        # Channels Haven cannot send by are refused.
        self.client.post(
            url, {"reminders": "weekly", "questionnaires": "none", "channels": ["text"]}
        )
        enrolment.refresh_from_db()
        self.assertEqual(enrolment.channels, ["email"])

    def test_only_members_enrol(self):
        self.sign_in(self.consumer)
        url = reverse("library:programme", args=[demo.PROGRAMME_SLUG])
        self.assertNotContains(self.client.get(url), "Join the programme")
        response = self.client.post(url, {"reminders": "weekly", "questionnaires": "none"})
        self.assertEqual(response.status_code, 403)
        self.assertFalse(Enrolment.objects.exists())

    @pytest.mark.promise("PLAN-5")
    def test_due_reminders_and_questionnaires_reach_the_page_and_accepted_email(self):
        self.enrol(self.alice)
        sent = services.send_due()
        self.assertEqual(sent, 2)
        deliveries = Delivery.objects.filter(enrolment__user=self.alice)
        self.assertEqual(
            sorted(deliveries.values_list("kind", "email")),
            [
                (DeliveryKind.QUESTIONNAIRE, EmailOutcome.SENT),
                (DeliveryKind.REMINDER, EmailOutcome.SENT),
            ],
        )
        self.assertEqual(self.emails_to(self.alice).count(), 2)
        # Once each however late the run: the next ones are in the future.
        enrolment = Enrolment.objects.get(user=self.alice)
        self.assertGreater(enrolment.next_reminder_at, timezone.now())
        self.assertGreater(enrolment.next_questionnaire_at, timezone.now())
        self.assertEqual(services.send_due(), 0)
        self.assertEqual(services.send_due(now=timezone.now() + DAY + timedelta(minutes=1)), 1)
        page = self.sign_in(self.alice).get(reverse("library:mine"))
        self.assertContains(page, demo.TIPS[0]["en"])
        self.assertContains(page, demo.TIPS[1]["en"])
        self.assertContains(page, "Answer the questionnaire")

    @pytest.mark.promise("PLAN-5")
    def test_email_goes_only_by_channels_the_member_accepted_in_the_privacy_center(self):
        contact_preferences_update(
            user=self.alice,
            choices={(Channel.EMAIL, Kind.HEALTH_REMINDERS): False},
            actor=self.alice,
        )
        self.enrol(self.alice)
        services.send_due()
        outcomes = dict(
            Delivery.objects.filter(enrolment__user=self.alice).values_list("kind", "email")
        )
        self.assertEqual(
            outcomes,
            {
                DeliveryKind.REMINDER: EmailOutcome.NOT_ACCEPTED,
                DeliveryKind.QUESTIONNAIRE: EmailOutcome.SENT,
            },
        )
        self.assertEqual(self.emails_to(self.alice).count(), 1)
        # Withdrawing questionnaires too: nothing more by e-mail, still on the page.
        contact_preferences_update(
            user=self.alice,
            choices={(Channel.EMAIL, Kind.QUESTIONNAIRES): False},
            actor=self.alice,
        )
        services.send_due(now=timezone.now() + 8 * DAY)
        self.assertEqual(self.emails_to(self.alice).count(), 1)
        self.assertEqual(Delivery.objects.filter(enrolment__user=self.alice).count(), 4)
        page = self.sign_in(self.alice).get(reverse("library:mine"))
        self.assertContains(page, "not accepted in your privacy preferences")

    @pytest.mark.promise("PLAN-5")
    def test_an_unsubscribe_from_reminder_email_is_respected(self):
        from haven.mail.services import email_opt_out

        email_opt_out(user=self.alice, categories=["reminder"], source="link")
        self.enrol(self.alice)
        services.send_due()
        self.assertEqual(
            set(
                Delivery.objects.filter(enrolment__user=self.alice).values_list("email", flat=True)
            ),
            {EmailOutcome.NOT_ACCEPTED},
        )
        self.assertFalse(
            self.emails_to(self.alice).exclude(status=OutgoingEmail.Status.SUPPRESSED).exists()
        )

    @pytest.mark.promise("PLAN-5")
    def test_no_email_when_the_member_did_not_choose_it_or_gave_no_address(self):
        self.enrol(self.alice, email=False)
        self.enrol(self.oscar)  # Oscar gave no e-mail address
        services.send_due()
        self.assertEqual(
            set(Delivery.objects.values_list("enrolment__user__username", "email")),
            {("alice", EmailOutcome.NOT_CHOSEN), ("oscar", EmailOutcome.NO_ADDRESS)},
        )
        self.assertFalse(OutgoingEmail.objects.exists())

    @pytest.mark.promise("PLAN-5")
    def test_email_bodies_say_nothing_about_health(self):
        for user, language in ((self.alice, "en"), (self.bruno, "es")):
            user.language = language
            user.save()
            self.enrol(user)
        self.oscar.email, self.oscar.language = "oscar@example.org", "it"
        self.oscar.save()
        self.enrol(self.oscar)
        services.send_due()
        emails = list(OutgoingEmail.objects.all())
        self.assertEqual(len(emails), 6)
        programme_texts = [
            value
            for text in self.programme.texts.all()
            for value in (text.title, text.summary, text.body)
        ] + [
            item.text_in(lang) for item in self.programme.items.all() for lang in ("en", "es", "it")
        ]
        for email in emails:
            whole = " ".join([email.subject, email.text_body, email.html_body, email.reason])
            whole += " " + email.idempotency_key + " " + str(email.headers)
            lowered = whole.lower()
            for word in HEALTH_WORDS:
                self.assertNotIn(word, lowered, f"{word!r} in {email.to_address}: {whole}")
            for text in programme_texts:
                self.assertNotIn(text.lower()[:30], lowered)
            self.assertIn(
                "http://127.0.0.1:8000" + reverse("library:mine"), email.text_body
            )  # a link to Haven, and the way to opt out
            self.assertIn("/mail/unsubscribe/", email.text_body)
        bodies = {email.to_address: email.text_body for email in emails}
        self.assertIn("Sign in to see it", bodies["alice@example.org"])
        self.assertIn("Inicie sesión", bodies["bruno@example.org"])
        self.assertIn("Acceda", bodies["oscar@example.org"])

    @pytest.mark.promise("PLAN-5")
    def test_leaving_stops_everything_and_deletes_it(self):
        enrolment = self.enrol(self.alice)
        services.send_due()
        queued = self.emails_to(self.alice)
        self.assertEqual(queued.filter(status=OutgoingEmail.Status.QUEUED).count(), 2)
        delivery = Delivery.objects.get(enrolment=enrolment, kind=DeliveryKind.QUESTIONNAIRE)
        services.questionnaire_answer(
            delivery=delivery,
            values={services.questions_of(self.programme)[0].pk: 3},
            actor=self.alice,
        )
        self.sign_in(self.alice)
        response = self.client.post(reverse("library:leave", args=[demo.PROGRAMME_SLUG]))
        self.assertRedirects(response, reverse("library:index"))
        self.assertFalse(Enrolment.objects.filter(user=self.alice).exists())
        self.assertFalse(Delivery.objects.exists())
        self.assertFalse(Answer.objects.exists())
        # E-mail still waiting in the outbox is withdrawn, and nothing more comes.
        self.assertEqual(
            set(queued.values_list("status", flat=True)), {OutgoingEmail.Status.SUPPRESSED}
        )
        self.assertEqual(services.send_due(now=timezone.now() + 30 * DAY), 0)
        self.assertEqual(queued.count(), 2)
        self.assertContains(self.client.get(reverse("library:mine")), "not in any programme")
        # Leaving twice is harmless.
        again = self.client.post(reverse("library:leave", args=[demo.PROGRAMME_SLUG]))
        self.assertEqual(again.status_code, 302)

    def test_a_member_answers_their_own_questionnaire_and_no_one_else_opens_it(self):
        self.enrol(self.alice)
        services.send_due()
        delivery = Delivery.objects.get(kind=DeliveryKind.QUESTIONNAIRE)
        url = reverse("library:questionnaire", args=[delivery.pk])
        first, second = services.questions_of(self.programme)
        self.sign_in(self.bruno)
        self.assertEqual(self.client.get(url).status_code, 404)
        self.sign_in(self.alice)
        self.assertContains(self.client.get(url), demo.QUESTIONS[0]["en"])
        bad = self.client.post(url, {f"q{first.pk}": "101", f"q{second.pk}": "2"})
        self.assertEqual(bad.status_code, 200)
        self.assertFalse(Answer.objects.exists())
        response = self.client.post(url, {f"q{first.pk}": "4", f"q{second.pk}": "7"})
        self.assertRedirects(response, reverse("library:mine"))
        self.assertEqual(
            dict(Answer.objects.values_list("item_id", "value")), {first.pk: 4, second.pk: 7}
        )
        self.assertIsNotNone(Delivery.objects.get(pk=delivery.pk).answered_at)

    @pytest.mark.promise("CON-6")
    def test_where_consent_is_the_basis_answers_wait_for_it(self):
        from django.test import override_settings

        from haven.privacy.services import medical_data_consent_record

        self.enrol(self.alice)
        services.send_due()
        delivery = Delivery.objects.get(kind=DeliveryKind.QUESTIONNAIRE)
        url = reverse("library:questionnaire", args=[delivery.pk])
        first, second = services.questions_of(self.programme)
        answers = {f"q{first.pk}": "4", f"q{second.pk}": "7"}
        self.sign_in(self.alice)
        with override_settings(HAVEN_MEDICAL_DATA_CONSENT=True):
            refused = self.client.post(url, answers)
            self.assertContains(refused, "asks for your consent")
            self.assertFalse(Answer.objects.exists())
            medical_data_consent_record(
                user=self.alice, member=self.alice_member, given=True, actor=self.alice
            )
            self.assertRedirects(self.client.post(url, answers), reverse("library:mine"))
        self.assertEqual(Answer.objects.count(), 2)

    def test_changing_the_choices_reschedules_only_what_changed(self):
        enrolment = self.enrol(self.alice)
        later = timezone.now()
        services.enrol(
            user=self.alice,
            programme=self.programme,
            reminders=Frequency.NONE,
            questionnaires=Frequency.WEEKLY,
            channels=[],
            now=later,
        )
        enrolment.refresh_from_db()
        self.assertIsNone(enrolment.next_reminder_at)
        self.assertEqual(enrolment.next_questionnaire_at, self.start + 7 * DAY)
        self.assertEqual(Enrolment.objects.count(), 1)

    def test_the_command_and_the_task_send_what_is_due(self):
        from haven.library.tasks import send_due_deliveries
        from haven.testing.tasks import run_queued_tasks

        self.enrol(self.alice)
        out = StringIO()
        call_command("library", "send", stdout=out)
        self.assertIn("2 reminders and questionnaires delivered", out.getvalue())
        self.enrol(self.bruno)
        send_due_deliveries.enqueue()
        run_queued_tasks()
        self.assertEqual(Delivery.objects.filter(enrolment__user=self.bruno).count(), 2)

    @pytest.mark.promise("LOG-3")
    def test_staff_see_only_counts_with_small_groups_hidden(self):
        self.enrol(self.alice)
        (count,) = services.enrolment_counts()
        self.assertIsNone(count.enrolled)
        self.sign_in(self.nurse)
        page = self.client.get(reverse("library:staff_content"))
        self.assertContains(page, f"fewer than {services.SMALL_GROUP}")
        self.assertNotContains(page, "Alice")
        self.assertNotContains(page, "alice")


class ProgrammeWritingTests(HavenTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        demo.load()
        cls.programme = Programme.objects.get(slug=demo.PROGRAMME_SLUG)

    def test_the_care_team_adds_a_tip_in_three_languages_and_it_comes_in_turn(self):
        self.sign_in(self.nurse)
        url = reverse("library:item_new", args=[self.programme.pk])
        response = self.client.post(
            url, {"kind": "tip", "en": "Drink water.", "es": "Beba agua.", "it": "Beva acqua."}
        )
        self.assertRedirects(response, reverse("library:programme_edit", args=[self.programme.pk]))
        tip = self.programme.items.filter(kind="tip").order_by("position").last()
        self.assertEqual((tip.position, tip.text_in("es")), (len(demo.TIPS) + 1, "Beba agua."))
        # Editing drops the Italian text: Italian readers get the English one.
        self.client.post(
            reverse("library:item_edit", args=[self.programme.pk, tip.pk]),
            {"en": "Drink a glass of water.", "es": "Beba un vaso de agua."},
        )
        self.assertEqual(tip.text_in("it"), "Drink a glass of water.")
        # English is required.
        refused = self.client.post(url, {"kind": "question", "es": "¿Sí?"})
        self.assertEqual(refused.status_code, 200)
        self.assertEqual(self.programme.items.filter(kind="question").count(), len(demo.QUESTIONS))
        enrolment = services.enrol(
            user=self.alice,
            programme=self.programme,
            reminders=Frequency.DAILY,
            questionnaires=Frequency.NONE,
            channels=[],
            now=timezone.now() - 10 * DAY,
        )
        enrolment.next_tip = len(demo.TIPS)
        enrolment.save()
        services.send_due()
        self.assertEqual(Delivery.objects.get(enrolment=enrolment).item, tip)

    def test_only_writers_change_a_programme(self):
        self.sign_in(self.representative)
        url = reverse("library:item_new", args=[self.programme.pk])
        self.assertEqual(self.client.post(url, {"kind": "tip", "en": "x"}).status_code, 403)
        self.assertEqual(self.programme.items.count(), len(demo.TIPS) + len(demo.QUESTIONS))
