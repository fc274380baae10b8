"""The outbox: written with its cause, sent once by one worker, retried after an outage."""

from datetime import timedelta
from io import StringIO

from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from haven.mail.models import OutgoingEmail
from haven.mail.services import outgoing_email_send, secure_message_notify
from haven.mail.tests.mailtest import MailTestCase, relay, run_outbox
from haven.mail.tests.smtp_servers import free_port, smtp_server

Status = OutgoingEmail.Status


class Boom(Exception):
    pass


def time_passes() -> None:
    """Make every waiting retry due now, as if its backoff had elapsed."""
    past = timezone.now() - timedelta(seconds=1)
    OutgoingEmail.objects.filter(status=Status.QUEUED).update(next_attempt_at=past)
    DBTaskResult.objects.ready().update(run_after=past)
    DBTaskResult.objects.filter(status="READY").update(run_after=past)


class OutboxTests(MailTestCase):
    def notify(self, key="outbox-1") -> OutgoingEmail:
        return secure_message_notify(user=self.alice, link_path="/", idempotency_key=key)

    def test_the_email_and_its_send_task_are_written_in_the_callers_transaction(self):
        with self.assertRaises(Boom), transaction.atomic():
            self.notify()
            self.assertEqual(OutgoingEmail.objects.count(), 1)
            self.assertEqual(DBTaskResult.objects.count(), 1)
            raise Boom
        self.assertEqual(OutgoingEmail.objects.count(), 0)
        self.assertEqual(DBTaskResult.objects.count(), 0)

        with transaction.atomic():
            email = self.notify()
        task = DBTaskResult.objects.get()
        self.assertEqual(task.task_path, "haven.mail.tasks.send_outgoing_email")
        self.assertEqual(task.args_kwargs["args"], [email.pk])

    def test_the_same_idempotency_key_gives_one_email(self):
        first = self.notify("same-key")
        second = self.notify("same-key")
        self.assertEqual(first.pk, second.pk)
        self.assertEqual(OutgoingEmail.objects.count(), 1)
        self.assertEqual(DBTaskResult.objects.count(), 1)

    def test_the_message_id_is_made_once_at_the_configured_domain(self):
        with self.settings(HAVEN_MAIL_FROM_DOMAIN="mail.haven-health.test"):
            email = self.notify()
        self.assertRegex(email.message_id, r"^<[0-9a-f]{32}@mail\.haven-health\.test>$")

    def test_a_second_worker_cannot_claim_an_email_already_being_sent(self):
        email = self.notify()
        OutgoingEmail.objects.filter(pk=email.pk).update(status=Status.SENDING)
        self.assertEqual(outgoing_email_send(email_id=email.pk), "not-claimed")
        email.refresh_from_db()
        self.assertEqual(email.attempts, 0)

    def test_a_sent_email_is_not_sent_again_by_a_repeated_task(self):
        with smtp_server(pki=self.pki) as server, relay(server, self.pki):
            email = self.notify()
            run_outbox()
            self.assertEqual(outgoing_email_send(email_id=email.pk), "not-claimed")
        self.assertEqual(len(server.received), 1)

    def test_with_smtp_down_the_email_waits_with_its_error_then_goes_once_with_the_same_message_id(
        self,
    ):
        port = free_port()  # nothing listens here yet
        with self.settings(
            HAVEN_SMTP_HOST="localhost",
            HAVEN_SMTP_PORT=port,
            HAVEN_SMTP_CA_FILE=self.pki.ca_file,
            HAVEN_SMTP_TIMEOUT=5,
        ):
            email = self.notify()
            run_outbox()
            email.refresh_from_db()
            self.assertEqual(email.status, Status.QUEUED)
            self.assertEqual(email.attempts, 1)
            self.assertIn("ConnectionRefusedError", email.last_error)
            self.assertGreater(email.next_attempt_at, timezone.now())
            waiting = DBTaskResult.objects.filter(status="READY").get()
            self.assertGreater(waiting.run_after, timezone.now())

            # Not due yet: the worker leaves it alone.
            run_outbox()
            email.refresh_from_db()
            self.assertEqual(email.attempts, 1)

            with smtp_server(pki=self.pki, port=port) as server:
                time_passes()
                run_outbox()
                run_outbox()
        email.refresh_from_db()
        self.assertEqual(email.status, Status.SENT)
        self.assertEqual(email.attempts, 2)
        self.assertEqual(email.last_error, "")
        self.assertEqual(len(server.received), 1)
        self.assertEqual(server.received[0].message["Message-ID"], email.message_id)

    def test_an_email_stuck_in_sending_goes_again_with_the_same_message_id(self):
        with smtp_server(pki=self.pki) as server, relay(server, self.pki):
            email = self.notify()
            # A worker claimed it and died (the claim is all that reached the database).
            DBTaskResult.objects.all().delete()
            OutgoingEmail.objects.filter(pk=email.pk).update(
                status=Status.SENDING, claimed_at=timezone.now() - timedelta(hours=1), attempts=1
            )
            call_command("mail", "requeue_stale", stdout=open("/dev/null", "w"))  # noqa: SIM115
            run_outbox()
        email.refresh_from_db()
        self.assertEqual(email.status, Status.SENT)
        self.assertEqual([r.message["Message-ID"] for r in server.received], [email.message_id])

    def test_a_fresh_claim_is_not_taken_back_as_stale(self):
        email = self.notify()
        OutgoingEmail.objects.filter(pk=email.pk).update(
            status=Status.SENDING, claimed_at=timezone.now()
        )
        call_command("mail", "requeue_stale", stdout=open("/dev/null", "w"))  # noqa: SIM115
        email.refresh_from_db()
        self.assertEqual(email.status, Status.SENDING)

    def test_a_permanent_refusal_fails_at_once_and_staff_can_send_it_again(self):
        with smtp_server(pki=self.pki) as server, relay(server, self.pki):
            server.handler.refused.add("alice@example.org")
            email = self.notify()
            run_outbox()
            email.refresh_from_db()
            self.assertEqual(email.status, Status.FAILED)
            self.assertEqual(email.attempts, 1)
            self.assertIn("recipient refused (550)", email.last_error)

            server.handler.refused.clear()
            self.sign_in(self.representative)
            response = self.client.post(reverse("mail:outbox_retry", kwargs={"pk": email.pk}))
            self.assertEqual(response.status_code, 302)
            run_outbox()
        email.refresh_from_db()
        self.assertEqual(email.status, Status.SENT)
        self.assertEqual(len(server.received), 1)

    def test_staff_see_failed_email_in_the_outbox_page(self):
        OutgoingEmail.objects.create(
            idempotency_key="failed-1",
            to_address="alice@example.org",
            category="notification",
            reason="a secure message is waiting",
            subject="s",
            text_body="t",
            status=Status.FAILED,
            last_error="TLSUnavailable: localhost does not offer STARTTLS",
        )
        self.sign_in(self.administrator)
        response = self.client.get(reverse("mail:outbox"))
        self.assertContains(response, "does not offer STARTTLS")
        self.assertContains(response, "alice@example.org")

    def test_finished_email_is_forgotten_after_the_keeping_time_and_queued_email_stays(self):
        old = timezone.now() - timedelta(days=91)
        sent = self.notify("old-sent")
        queued = self.notify("old-queued")
        OutgoingEmail.objects.filter(pk=sent.pk).update(status=Status.SENT, sent_at=old)
        OutgoingEmail.objects.update(created_at=old)
        fresh = self.notify("fresh")
        OutgoingEmail.objects.filter(pk=fresh.pk).update(status=Status.SENT, sent_at=timezone.now())
        out = StringIO()
        call_command("mail", "prune_outbox", stdout=out)
        self.assertIn("forgot 1 finished e-mails", out.getvalue())
        self.assertEqual(
            set(OutgoingEmail.objects.values_list("pk", flat=True)), {queued.pk, fresh.pk}
        )
