import uuid
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.template import Context, Template
from django.test import RequestFactory, override_settings
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from haven.audit.models import AuditEvent, TrainingAttestation
from haven.audit.policy import FIELDS
from haven.caregivers.middleware import ACTING_FOR_GRANT
from haven.caregivers.models import Grant, Scope
from haven.messaging import services
from haven.messaging.models import Broadcast, Conversation, Message, Participant
from haven.messaging.tasks import deliver_broadcast
from haven.messaging.tests.conversations import MessagingTestCase, reply, start
from haven.testing.people import make_member


class StartingAConversationTests(MessagingTestCase):
    def new_url(self):
        return reverse("messaging:new")

    def post_new(self, key=None, **fields):
        data = {
            "topic": "care_question",
            "subject": "Knee pain after the operation",
            "body": "It still hurts when I climb stairs.",
            "idempotency_key": str(key or uuid.uuid4()),
        } | fields
        return self.client.post(self.new_url(), data)

    @pytest.mark.promise("MSG-2")
    def test_member_writes_to_the_care_team_and_the_nurse_finds_it_in_the_queue(self):
        self.sign_in(self.alice)
        response = self.post_new()
        conversation = Conversation.objects.get(member=self.alice_member)
        self.assertRedirects(
            response, reverse("messaging:conversation", kwargs={"pk": conversation.pk})
        )
        self.assertEqual(conversation.queue, "care_team")
        self.assertTrue(conversation.is_clinical)
        self.sign_in(self.nurse)
        queue = self.client.get(reverse("messaging:queue"))
        self.assertContains(queue, "Alice Rivera: A question for my care team")
        self.assertContains(queue, "Waiting for a reply")
        # The work list names the topic; the subject is read only by opening the conversation.
        self.assertNotContains(queue, "Knee pain after the operation")

    @pytest.mark.promise("MSG-2")
    def test_billing_questions_go_to_customer_service_and_not_to_the_care_team(self):
        self.sign_in(self.alice)
        self.post_new(topic="claims", subject="Bill for March")
        conversation = Conversation.objects.get(member=self.alice_member)
        self.assertEqual(conversation.queue, "customer_service")
        self.assertFalse(conversation.is_clinical)
        self.sign_in(self.representative)
        self.assertContains(self.client.get(reverse("messaging:queue")), "Claims and billing")
        self.sign_in(self.nurse)
        self.assertNotContains(self.client.get(reverse("messaging:queue")), "Claims and billing")

    def test_customer_service_never_sees_a_clinical_conversation(self):
        conversation = start(self.alice)
        self.sign_in(self.representative)
        queue = self.client.get(reverse("messaging:queue"))
        self.assertNotContains(queue, "A question for my care team")
        page = self.client.get(reverse("messaging:conversation", kwargs={"pk": conversation.pk}))
        self.assertEqual(page.status_code, 404)

    def test_a_double_submit_with_the_same_key_sends_one_message(self):
        self.sign_in(self.alice)
        key = uuid.uuid4()
        first = self.post_new(key=key)
        second = self.post_new(key=key)
        self.assertEqual(first["Location"], second["Location"])
        self.assertEqual(Message.objects.filter(author=self.alice).count(), 1)
        self.assertEqual(Conversation.objects.count(), 1)

    def test_a_missing_subject_is_explained_and_the_text_is_kept(self):
        self.sign_in(self.alice)
        response = self.post_new(subject="")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "It still hurts when I climb stairs.")
        self.assertFalse(Conversation.objects.exists())

    def test_an_account_without_a_roster_entry_writes_only_to_customer_service(self):
        self.sign_in(self.consumer)
        form = self.client.get(self.new_url()).context["form"]
        topics = [value for value, _label in form.fields["topic"].choices if value]
        self.assertEqual(topics, ["claims", "coverage", "technical", "other"])
        response = self.post_new(topic="care_question")
        self.assertEqual(response.status_code, 200)
        self.post_new(topic="technical", subject="Cannot print my card")
        self.assertEqual(Conversation.objects.get(account=self.consumer).queue, "customer_service")

    @pytest.mark.promise("CON-6")
    @override_settings(HAVEN_MEDICAL_DATA_CONSENT=True)
    def test_a_message_to_the_care_team_waits_for_consent_where_the_law_requires_it(self):
        from haven.privacy.services import medical_data_consent_record

        self.sign_in(self.alice)
        refused = self.post_new(topic="care_question")
        self.assertContains(refused, "A message to the care team is medical data")
        self.assertContains(refused, "It still hurts when I climb stairs.")
        self.assertFalse(Conversation.objects.exists())
        # A billing question is not medical data: it goes without consent.
        self.post_new(topic="claims", subject="A bill I do not understand")
        self.assertEqual(Conversation.objects.get().queue, "customer_service")
        medical_data_consent_record(
            user=self.alice, member=self.alice_member, given=True, actor=self.alice
        )
        self.assertEqual(self.post_new(topic="care_question").status_code, 302)
        self.assertEqual(Conversation.objects.filter(is_clinical=True).count(), 1)

    @pytest.mark.promise("CON-6")
    def test_after_consent_is_withdrawn_the_member_cannot_add_medical_data_but_staff_answer(self):
        from haven.privacy.services import medical_data_consent_record

        with override_settings(HAVEN_MEDICAL_DATA_CONSENT=True):
            medical_data_consent_record(
                user=self.alice, member=self.alice_member, given=True, actor=self.alice
            )
            conversation = start(self.alice)
            medical_data_consent_record(
                user=self.alice, member=self.alice_member, given=False, actor=self.alice
            )
            with self.assertRaises(ValidationError) as refused:
                reply(conversation, self.alice, body="It hurts more today.")
            self.assertEqual(refused.exception.code, "medical_data_consent")
            reply(conversation, self.nurse, body="Please call us today.")
        self.assertEqual(conversation.messages.count(), 2)
        with override_settings(HAVEN_MEDICAL_DATA_CONSENT=False):
            reply(conversation, self.alice, body="Thank you.")
        self.assertEqual(conversation.messages.count(), 3)


class AnsweringTests(MessagingTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.conversation = start(cls.alice)

    def page(self, conversation=None):
        conversation = conversation or self.conversation
        return self.client.get(reverse("messaging:conversation", kwargs={"pk": conversation.pk}))

    @pytest.mark.promise("MSG-2")
    def test_nurse_takes_answers_and_closes_and_the_member_sees_the_history(self):
        self.sign_in(self.nurse)
        url = reverse("messaging:assign", kwargs={"pk": self.conversation.pk})
        self.client.post(url, {"assignee": "me"})
        self.client.post(
            reverse("messaging:conversation", kwargs={"pk": self.conversation.pk}),
            {"body": "Please rest and ice it twice a day.", "idempotency_key": str(uuid.uuid4())},
        )
        self.client.post(reverse("messaging:close", kwargs={"pk": self.conversation.pk}))
        self.conversation.refresh_from_db()
        self.assertEqual(self.conversation.assigned_to, self.nurse)
        self.assertEqual(self.conversation.status, "closed")
        self.sign_in(self.alice)
        page = self.page()
        self.assertContains(page, "My knee still hurts two weeks after surgery.")
        self.assertContains(page, "Please rest and ice it twice a day.")
        self.assertContains(page, "This conversation is closed.")

    def test_a_closed_conversation_takes_no_reply_until_staff_reopen_it(self):
        services.conversation_close(conversation=self.conversation, actor=self.nurse)
        self.sign_in(self.alice)
        self.client.post(
            reverse("messaging:conversation", kwargs={"pk": self.conversation.pk}),
            {"body": "One more thing", "idempotency_key": str(uuid.uuid4())},
        )
        self.assertEqual(self.conversation.messages.count(), 1)
        self.sign_in(self.nurse)
        self.client.post(reverse("messaging:reopen", kwargs={"pk": self.conversation.pk}))
        self.conversation.refresh_from_db()
        self.assertTrue(self.conversation.is_open)
        self.assertIsNone(self.conversation.closed_at)

    def test_staff_assign_only_colleagues_of_the_queue(self):
        self.sign_in(self.nurse)
        self.client.post(
            reverse("messaging:assign", kwargs={"pk": self.conversation.pk}),
            {"assignee": self.representative.pk},
        )
        self.conversation.refresh_from_db()
        self.assertIsNone(self.conversation.assigned_to)

    def test_answering_an_unassigned_conversation_takes_it(self):
        reply(self.conversation, self.nurse)
        self.conversation.refresh_from_db()
        self.assertEqual(self.conversation.assigned_to, self.nurse)

    def test_customer_service_moves_a_clinical_question_to_the_care_team(self):
        billing = start(self.alice, topic="other", subject="Question")
        self.sign_in(self.representative)
        response = self.client.post(
            reverse("messaging:classify", kwargs={"pk": billing.pk}),
            {"topic": "care_question"},
        )
        self.assertRedirects(response, reverse("messaging:queue"))
        billing.refresh_from_db()
        self.assertEqual((billing.queue, billing.is_clinical), ("care_team", True))
        self.assertEqual(self.page(billing).status_code, 404)

    @pytest.mark.promise("MSG-2")
    def test_staff_see_when_the_member_has_read_the_answer(self):
        reply(self.conversation, self.nurse)
        self.sign_in(self.nurse)
        self.assertContains(self.page(), "Not read yet")
        self.sign_in(self.alice)
        self.page()
        self.sign_in(self.nurse)
        self.assertContains(self.page(), "Read by the member")


class CaregiverTests(MessagingTestCase):
    def act_for(self, grant):
        session = self.client.session
        session[ACTING_FOR_GRANT] = grant.pk
        session.save()

    @pytest.mark.promise("MSG-2")
    def test_caregiver_writes_for_the_member_who_sees_it_in_her_inbox(self):
        self.sign_in(self.maria)
        self.act_for(self.maria_grant)
        self.client.post(
            reverse("messaging:new"),
            {
                "topic": "prescriptions",
                "subject": "Refill for Elena",
                "body": "Elena needs her refill.",
                "idempotency_key": str(uuid.uuid4()),
            },
        )
        conversation = Conversation.objects.get(member=self.elena_member)
        self.assertEqual(conversation.started_by, self.maria)
        self.sign_in(self.elena)
        self.assertContains(self.client.get(reverse("messaging:inbox")), "Refill for Elena")

    def test_a_sensitive_conversation_is_hidden_from_the_caregiver(self):
        conversation = start(self.elena, subject="A private matter")
        services.conversation_classify(
            conversation=conversation,
            topic="care_question",
            sensitive_category="mental_health",
            actor=self.nurse,
        )
        self.sign_in(self.maria)
        self.act_for(self.maria_grant)
        self.assertNotContains(self.client.get(reverse("messaging:inbox")), "A private matter")
        page = reverse("messaging:conversation", kwargs={"pk": conversation.pk})
        self.assertEqual(self.client.get(page).status_code, 404)

    def test_a_grant_without_messages_opens_no_inbox(self):
        other = make_member("M-GINA", self.group, "Gina", "Vale", timezone.localdate())
        now = timezone.now()
        grant = Grant.objects.create(
            member=other,
            grantee=self.maria,
            kind=Grant.Kind.CAREGIVER,
            scopes=[Scope.APPOINTMENTS],
            expires_at=Grant.default_caregiver_expiry(now),
            accepted_at=now,
            created_by=self.maria,
        )
        self.sign_in(self.maria)
        self.act_for(grant)
        self.assertEqual(self.client.get(reverse("messaging:inbox")).status_code, 403)

    def test_a_guardian_reads_her_sons_messages(self):
        conversation = start(self.alice, member=self.teo_member, grant=self.teo_guardian_grant)
        reply(conversation, self.nurse, body="Teo can come on Tuesday.")
        self.sign_in(self.alice)
        self.act_for(self.teo_guardian_grant)
        page = self.client.get(reverse("messaging:conversation", kwargs={"pk": conversation.pk}))
        self.assertContains(page, "Teo can come on Tuesday.")


class PlanMessageTests(MessagingTestCase):
    def post(self, **fields):
        data = {
            "audience": "group",
            "group": self.group.pk,
            "topic": "coverage",
            "subject": "Your new ID cards",
            "body": "New cards are on their way.",
            "idempotency_key": str(uuid.uuid4()),
        } | fields
        return self.client.post(reverse("messaging:staff_new"), data)

    @pytest.mark.promise("MSG-1")
    def test_the_plan_posts_to_every_member_of_a_group_one_conversation_each(self):
        self.sign_in(self.representative)
        response = self.post()
        self.assertRedirects(response, reverse("messaging:queue"))
        group_members = set(self.group.members.values_list("pk", flat=True))
        conversations = Conversation.objects.filter(origin="plan")
        self.assertEqual(set(conversations.values_list("member_id", flat=True)), group_members)
        self.assertNotIn(self.oscar_member.pk, group_members)
        # Each copy under its own data key.
        keys = {bytes(message.wrapped_key) for message in Message.objects.all()}
        self.assertEqual(len(keys), len(group_members))
        self.sign_in(self.bruno)
        inbox = self.client.get(reverse("messaging:inbox"))
        self.assertContains(inbox, "Your new ID cards")
        self.assertContains(inbox, "From the plan")

    @pytest.mark.promise("MSG-1")
    def test_the_plan_posts_to_a_list_and_unknown_ids_are_named_back(self):
        self.sign_in(self.representative)
        response = self.post(audience="list", member_ids="M-ELENA\nM-NOBODY")
        self.assertContains(response, "M-NOBODY")
        self.assertFalse(Conversation.objects.exists())
        self.post(audience="list", member_ids="M-ELENA, M-OSCAR")
        self.assertEqual(
            set(Conversation.objects.values_list("member__member_id", flat=True)),
            {"M-ELENA", "M-OSCAR"},
        )

    def test_a_double_submit_posts_once(self):
        self.sign_in(self.representative)
        key = str(uuid.uuid4())
        self.post(audience="one", member_id="M-ELENA", idempotency_key=key)
        self.post(audience="one", member_id="M-ELENA", idempotency_key=key)
        self.assertEqual(Conversation.objects.count(), 1)

    @pytest.mark.promise("MSG-1")
    @override_settings(HAVEN_BROADCAST_INLINE_LIMIT=2)
    def test_a_large_audience_is_delivered_by_a_task_and_the_waiting_text_is_then_wiped(self):
        self.sign_in(self.representative)
        response = self.post()
        self.assertContains(self.client.get(response["Location"]), "is being posted to 5")
        broadcast = Broadcast.objects.get()
        self.assertIsNone(broadcast.delivered_at)
        self.assertFalse(Conversation.objects.exists())
        self.assertNotIn(b"ID cards", bytes(broadcast.subject_sealed))
        self.assertTrue(DBTaskResult.objects.filter(task_path__endswith="deliver_broadcast"))
        self.assertEqual(deliver_broadcast.call(broadcast.pk), 5)
        self.assertEqual(deliver_broadcast.call(broadcast.pk), 0)
        broadcast.refresh_from_db()
        self.assertIsNotNone(broadcast.delivered_at)
        self.assertEqual(
            (bytes(broadcast.subject_sealed), bytes(broadcast.body_sealed), broadcast.kek_id),
            (b"", b"", ""),
        )
        self.assertEqual(Conversation.objects.filter(broadcast=broadcast).count(), 5)
        self.sign_in(self.elena)
        self.assertContains(self.client.get(reverse("messaging:inbox")), "Your new ID cards")

    @override_settings(HAVEN_BROADCAST_INLINE_LIMIT=0)
    def test_a_delivery_that_stops_half_way_resumes_and_nobody_gets_two(self):
        self.sign_in(self.representative)
        self.post()
        broadcast = Broadcast.objects.get()
        real = services._create_message
        calls = []

        def crash_on_the_third(**kwargs):
            calls.append(1)
            if len(calls) == 3:
                raise RuntimeError("worker stopped")
            return real(**kwargs)

        with mock.patch.object(services, "_create_message", crash_on_the_third):
            with self.assertRaises(RuntimeError):
                services.broadcast_deliver(broadcast=broadcast, batch_size=2)
        self.assertEqual(Conversation.objects.count(), 2)
        self.assertEqual(services.broadcast_deliver(broadcast=broadcast, batch_size=2), 3)
        self.assertEqual(
            sorted(Conversation.objects.values_list("member_id", flat=True)),
            sorted(broadcast.member_ids),
        )
        self.assertEqual(Message.objects.count(), 5)

    def test_customer_service_cannot_post_a_clinical_topic(self):
        self.sign_in(self.representative)
        response = self.post(topic="care_question")
        self.assertEqual(response.status_code, 200)
        self.assertFalse(Conversation.objects.exists())


class UnreadTests(MessagingTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.conversation = start(cls.alice)

    def unread(self):
        return services.unread_conversation_count(
            self.alice, services.Mailbox(member=self.alice_member)
        )

    def open_page(self):
        return self.client.get(
            reverse("messaging:conversation", kwargs={"pk": self.conversation.pk})
        )

    @pytest.mark.promise("MSG-1")
    def test_unread_counts_follow_answers_reading_replying_and_archiving(self):
        self.assertEqual(self.unread(), 0)
        reply(self.conversation, self.nurse)
        reply(self.conversation, self.nurse, body="And keep it raised.")
        self.assertEqual(self.unread(), 1)
        self.sign_in(self.alice)
        inbox = self.client.get(reverse("messaging:inbox"))
        self.assertContains(inbox, "2 unread")
        self.open_page()
        self.assertEqual(self.unread(), 0)
        reply(self.conversation, self.nurse, body="How is it today?")
        self.assertEqual(self.unread(), 1)
        reply(self.conversation, self.alice, body="Better, thank you.")
        self.assertEqual(self.unread(), 0)
        reply(self.conversation, self.nurse, body="Good to hear.")
        self.client.post(reverse("messaging:archive", kwargs={"pk": self.conversation.pk}))
        self.assertEqual(self.unread(), 0)
        self.assertNotContains(self.client.get(reverse("messaging:inbox")), "Knee pain")
        self.assertContains(self.client.get(reverse("messaging:archived")), "Knee pain")
        reply(self.conversation, self.nurse, body="One more thing.")
        self.assertEqual(self.unread(), 1)
        self.assertContains(self.client.get(reverse("messaging:inbox")), "Knee pain")

    def test_read_markers_never_move_back(self):
        reply(self.conversation, self.nurse)
        self.sign_in(self.alice)
        self.open_page()
        marker = Participant.objects.get(conversation=self.conversation, user=self.alice)
        read_at = marker.last_read_at
        services._mark_read(self.conversation, self.alice, read_at - timezone.timedelta(days=1))
        marker.refresh_from_db()
        self.assertEqual(marker.last_read_at, read_at)

    def test_the_whole_row_is_one_link_that_takes_keyboard_focus(self):
        self.sign_in(self.alice)
        inbox = self.client.get(reverse("messaging:inbox")).content.decode()
        link = reverse("messaging:conversation", kwargs={"pk": self.conversation.pk})
        self.assertIn(f'<a class="conversation-link" href="{link}">', inbox)
        self.assertIn("messaging/messaging.css", inbox)

    def test_the_inbox_takes_the_same_queries_for_many_conversations(self):
        self.sign_in(self.alice)
        self.client.get(reverse("messaging:inbox"))
        with self.assertNumQueriesLessThan(30) as few:
            self.client.get(reverse("messaging:inbox"))
        for index in range(10):
            start(self.alice, subject=f"Question {index}")
        with self.assertNumQueries(few.count):
            self.client.get(reverse("messaging:inbox"))

    def assertNumQueriesLessThan(self, limit):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        test = self

        class Capture(CaptureQueriesContext):
            @property
            def count(self):
                return len(self.captured_queries)

            def __exit__(self, *args):
                super().__exit__(*args)
                test.assertLess(len(self.captured_queries), limit)

        return Capture(connection)


class AuditedReadingTests(MessagingTestCase):
    """Reading goes through haven.audit.access, whose policy decides and records each read."""

    def open_as(self, user, conversation, acting_grant=None):
        self.sign_in(user)
        if acting_grant is not None:
            session = self.client.session
            session[ACTING_FOR_GRANT] = acting_grant.pk
            session.save()
        return self.client.get(reverse("messaging:conversation", kwargs={"pk": conversation.pk}))

    def test_each_read_is_recorded_with_whose_messages_and_why(self):
        conversation = start(self.elena)
        self.open_as(self.elena, conversation)
        self.open_as(self.maria, conversation, acting_grant=self.maria_grant)
        self.open_as(self.nurse, conversation)
        events = AuditEvent.objects.filter(member=self.elena_member, record_id=str(conversation.pk))
        self.assertEqual(
            [(event.actor, event.purpose, event.outcome) for event in events.order_by("pk")],
            [
                (self.elena, "self", "allowed"),
                (self.maria, "proxy", "allowed"),
                (self.nurse, "treatment", "allowed"),
            ],
        )
        self.assertEqual(events.filter(grant=self.maria_grant).count(), 1)
        self.assertTrue(all("messages" in event.entity for event in events))

    def test_staff_without_current_privacy_training_cannot_open_a_conversation(self):
        conversation = start(self.elena)
        TrainingAttestation.objects.filter(staff=self.nurse).delete()
        page = self.open_as(self.nurse, conversation)
        self.assertEqual(page.status_code, 403)
        self.assertContains(page, "privacy training", status_code=403)
        self.assertNotContains(page, "My knee still hurts", status_code=403)

    def test_a_substance_use_conversation_stays_closed_to_the_care_team_as_the_policy_says(self):
        conversation = start(self.elena)
        services.conversation_classify(
            conversation=conversation,
            topic="care_question",
            sensitive_category="substance_use",
            actor=self.nurse,
        )
        page = self.open_as(self.nurse, conversation)
        self.assertEqual(page.status_code, 403)
        self.assertNotContains(page, "My knee still hurts", status_code=403)
        self.assertEqual(self.open_as(self.elena, conversation).status_code, 200)

    def test_customer_service_reads_a_billing_question_exactly_when_the_policy_opens_it(self):
        conversation = start(self.elena, topic="claims", body="Why was I billed twice?")
        page = self.open_as(self.representative, conversation)
        if services.SERVICE_MESSAGES in FIELDS:
            self.assertContains(page, "Why was I billed twice?")
        else:
            # Until the policy table names service messages, the accessor refuses and says why.
            self.assertEqual(page.status_code, 403)
            self.assertNotContains(page, "Why was I billed twice?", status_code=403)
        event = AuditEvent.objects.filter(actor=self.representative).get()
        self.assertEqual(event.purpose, "payment")


class InboxLinkTests(MessagingTestCase):
    def render_count(self, user):
        request = RequestFactory().get("/")
        request.user = user
        request.session = {}
        request.acting_for = None
        request.acting_grant = None
        return Template("{% load messaging %}{% unread_conversations %}").render(
            Context({"request": request})
        )

    def test_the_inbox_link_counts_conversations_with_unread_messages(self):
        conversation = start(self.alice)
        self.assertEqual(self.render_count(self.alice), "0")
        reply(conversation, self.nurse)
        reply(start(self.alice, subject="Second"), self.nurse)
        self.assertEqual(self.render_count(self.alice), "2")
        self.assertEqual(self.render_count(self.nurse), "0")

    def test_the_home_page_card_leads_to_the_inbox_with_the_unread_count(self):
        reply(start(self.alice), self.nurse)
        self.sign_in(self.alice)
        home = self.client.get(reverse("front:home"))
        self.assertContains(home, f'href="{reverse("messaging:inbox")}"')
        self.assertContains(home, "1 conversation with unread messages.")
