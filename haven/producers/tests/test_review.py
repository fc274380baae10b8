from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from haven.accounts.models import User
from haven.mail.models import Category, OutgoingEmail
from haven.producers.models import Producer
from haven.producers.services import ANALYST_ROLES, AlreadyReviewed, producer_review
from haven.producers.tasks import notify_producer_of_review
from haven.testing.people import HavenTestCase, make_user

REVIEWERS = ("producer_support", "administrator")


def waiting_producer(username: str, legal_name: str, submitted_days_ago: int) -> Producer:
    user = make_user(username, User.Kind.PRODUCER, email=f"{username}@example.org")
    return Producer.objects.create(
        user=user,
        kind=Producer.Kind.INDIVIDUAL,
        legal_name=legal_name,
        tax_id_hash=username.ljust(64, "0"),
        tax_id_last4="0000",
        licence_number=f"LIC-{username.upper()}",
        licence_region="NY",
        address_line="5 Side St",
        city="Albany",
        postal_code="12207",
        submitted_at=timezone.now() - timedelta(days=submitted_days_ago),
    )


class ReviewQueueTests(HavenTestCase):
    url = reverse("producers:review_queue")

    @pytest.mark.promise("ACC-2")
    def test_only_producer_support_and_administrators_open_the_queue(self):
        for role, user in self.staff.items():
            with self.subTest(role=role):
                self.sign_in(user)
                status = self.client.get(self.url).status_code
                self.assertEqual(status, 200 if role in REVIEWERS else 403)
        for user in (self.alice, self.maria, self.producer, self.pending_producer, self.employer):
            with self.subTest(user=user.username):
                self.sign_in(user)
                self.assertEqual(self.client.get(self.url).status_code, 403)

    def test_waiting_registrations_are_listed_oldest_first_with_a_steady_number_of_queries(self):
        newest = waiting_producer("newer", "Newer Broker", 1)
        oldest = waiting_producer("older", "Older Broker", 30)
        self.sign_in(self.staff["producer_support"])
        with CaptureQueriesContext(connection) as first:
            response = self.client.get(self.url)
        waiting = list(response.context["waiting"])
        # Penny registered just now, after both.
        self.assertEqual(waiting, [oldest, newest, self.pending_producer.producer])
        self.assertEqual(list(response.context["reviewed"]), [self.producer.producer])
        for producer in waiting:
            self.assertContains(response, reverse("producers:review", kwargs={"pk": producer.pk}))
        waiting_producer("third", "Third Broker", 3)
        # The page's own queries do not grow with the queue (the layout adds a fixed few).
        with self.assertNumQueries(len(first.captured_queries)):
            self.client.get(self.url)

    def test_the_review_page_shows_the_submission_with_the_tax_id_by_its_last_four_only(self):
        self.sign_in(self.staff["producer_support"])
        url = reverse("producers:review", kwargs={"pk": self.pending_producer.producer.pk})
        response = self.client.get(url)
        self.assertContains(response, "Penny Agency LLC")
        self.assertContains(response, "LIC-2")
        self.assertContains(response, "Ending in 5678")
        self.assertNotContains(response, "b" * 64)

    def test_the_staff_card_counts_waiting_registrations_for_reviewers_only(self):
        waiting_producer("newer", "Newer Broker", 1)
        request = RequestFactory().get("/staff/")
        for role, user in self.staff.items():
            with self.subTest(role=role):
                request.user = user
                card = render_to_string("producers/staff_cards.html", {"user": user}, request)
                if role in REVIEWERS:
                    self.assertIn(reverse("producers:review_queue"), card)
                    self.assertIn("2 registrations wait for review", card)
                else:
                    self.assertNotIn(reverse("producers:review_queue"), card)
                # The aggregate analysis of producers' activity (LOG-4) has a card of its own.
                if role in ANALYST_ROLES:
                    self.assertIn(reverse("producers:activity"), card)
                else:
                    self.assertNotIn(reverse("producers:activity"), card)
                if role not in REVIEWERS and role not in ANALYST_ROLES:
                    self.assertEqual(card.strip(), "")

    def test_the_staff_workspace_shows_the_card(self):
        self.sign_in(self.administrator)
        response = self.client.get(reverse("front:staff_home"))
        self.assertContains(response, "1 registration waits for review")


class ReviewDecisionTests(HavenTestCase):
    def url(self, producer: Producer) -> str:
        return reverse("producers:review", kwargs={"pk": producer.pk})

    @property
    def penny(self) -> Producer:
        return Producer.objects.get(user=self.pending_producer)

    @pytest.mark.promise("ACC-2")
    def test_approving_records_who_and_when_and_opens_the_producer_home(self):
        support = self.staff["producer_support"]
        self.sign_in(support)
        before = timezone.now()
        response = self.client.post(self.url(self.penny), {"decision": "approve", "note": ""})
        self.assertRedirects(response, reverse("producers:review_queue"))
        penny = self.penny
        self.assertEqual(penny.status, Producer.Status.APPROVED)
        self.assertEqual(penny.reviewed_by, support)
        self.assertGreaterEqual(penny.reviewed_at, before)
        self.sign_in(self.pending_producer)
        self.assertEqual(self.client.get(reverse("producers:home")).status_code, 200)

    @pytest.mark.promise("ACC-2")
    def test_a_rejection_needs_a_note_which_the_producer_then_sees(self):
        self.sign_in(self.administrator)
        refused = self.client.post(self.url(self.penny), {"decision": "reject", "note": "  "})
        self.assertContains(refused, "Write the reason for rejecting")
        self.assertEqual(self.penny.status, Producer.Status.PENDING)
        note = "Send us a copy of the agency's Connecticut licence; LIC-2 is not on file."
        self.client.post(self.url(self.penny), {"decision": "reject", "note": note})
        self.assertEqual(self.penny.status, Producer.Status.REJECTED)
        self.assertEqual(self.penny.reviewed_by, self.administrator)
        self.sign_in(self.pending_producer)
        status = self.client.get(reverse("producers:status"))
        self.assertContains(status, "Send us a copy of the agency&#x27;s Connecticut licence")
        self.assertEqual(self.client.get(reverse("producers:home")).status_code, 403)

    @pytest.mark.promise("ACC-2")
    def test_a_registration_is_decided_once_and_a_second_decision_is_refused(self):
        support = self.staff["producer_support"]
        producer_review(producer=self.penny, approve=True, note="", actor=support)
        with self.assertRaises(AlreadyReviewed):
            producer_review(
                producer=self.penny, approve=False, note="Changed my mind", actor=support
            )
        self.sign_in(self.administrator)
        response = self.client.post(self.url(self.penny), {"decision": "reject", "note": "No"})
        self.assertContains(response, "already reviewed", status_code=409)
        penny = self.penny
        self.assertEqual((penny.status, penny.reviewed_by), (Producer.Status.APPROVED, support))
        self.assertEqual(penny.review_note, "")

    @pytest.mark.promise("ACC-2")
    def test_only_reviewers_may_decide_even_through_the_service(self):
        for role, user in self.staff.items():
            if role in REVIEWERS:
                continue
            with self.subTest(role=role):
                with self.assertRaises(PermissionDenied):
                    producer_review(producer=self.penny, approve=True, note="", actor=user)
                self.sign_in(user)
                response = self.client.post(self.url(self.penny), {"decision": "approve"})
                self.assertEqual(response.status_code, 403)
        self.sign_in(self.producer)
        self.client.post(self.url(self.penny), {"decision": "approve"})
        self.assertEqual(self.penny.status, Producer.Status.PENDING)

    def test_the_decision_is_mailed_as_a_prompt_to_sign_in_that_names_no_one(self):
        User.objects.filter(pk=self.pending_producer.pk).update(email="penny@agency.example")
        producer_review(
            producer=self.penny,
            approve=False,
            note="Licence not found",
            actor=self.staff["producer_support"],
        )
        self.assertEqual(
            DBTaskResult.objects.filter(task_path__endswith="notify_producer_of_review").count(), 1
        )
        notify_producer_of_review.call(self.penny.pk)
        # Through the mail outbox (TLS only, retried, a stable Message-ID), not send_mail.
        self.assertEqual(mail.outbox, [])
        email = OutgoingEmail.objects.get()
        self.assertEqual(email.to_address, "penny@agency.example")
        self.assertEqual(email.category, Category.REGISTRATION)
        self.assertEqual(email.status, OutgoingEmail.Status.QUEUED)
        self.assertTrue(
            DBTaskResult.objects.filter(task_path__endswith="send_outgoing_email").exists()
        )
        self.assertIn(reverse("producers:status"), email.text_body)
        text = email.subject + email.text_body + email.html_body
        for private in ("Penny", "Licence not found", "LIC-2", "5678", "rejected", "Not approved"):
            self.assertNotIn(private, text)
        # A retried task finds the e-mail it already wrote.
        notify_producer_of_review.call(self.penny.pk)
        self.assertEqual(OutgoingEmail.objects.count(), 1)

    def test_the_mail_is_written_in_the_producers_language(self):
        User.objects.filter(pk=self.pending_producer.pk).update(
            email="penny@agency.example", language="es"
        )
        notify_producer_of_review.call(self.penny.pk)
        self.assertIn(
            "Hemos revisado su registro como productor", OutgoingEmail.objects.get().subject
        )
