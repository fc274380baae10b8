"""Text notifications through a real SMS gateway on loopback: once, retried, never the message.

The gateway is a real HTTP server in a thread (http.server). Like real SMS gateways it honours
`Idempotency-Key`: a request with a key it already took answers as before and sends nothing new.
"""

import json
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from haven.front.tests.test_security_headers import haven_command, production_environment, run
from haven.mail.models import OutgoingEmail
from haven.messaging import services, sms
from haven.messaging.models import Notification, NotificationPreference, OutgoingText, Topic
from haven.messaging.tests.conversations import MessagingTestCase, reply, start
from haven.testing.servers import QuietHandler, loopback_server
from haven.testing.tasks import make_retries_due, run_queued_tasks

SUBJECT = "Results of my thyroid test"
BODY = "Your TSH is slightly high; we will repeat the test in six weeks."
TOKEN = "gateway-token-for-tests"  # noqa: S105 - a throwaway token for the loopback gateway


class Boom(Exception):
    pass


@dataclass
class Gateway:
    """What the loopback gateway saw: every request, and the texts it actually sent."""

    url: str
    script: list[str]
    requests: list[dict] = field(default_factory=list)
    sent: dict[str, dict] = field(default_factory=dict)


@contextmanager
def sms_gateway(*script: str):
    """A real HTTP SMS gateway; `script` answers request after request ("200" when it runs out).

    "503", "400": answer that status, sending nothing. "lost": send the text, then hang up
    without an answer (the answer was lost on the way back).
    """
    lock = threading.Lock()
    gateway = Gateway(url="", script=list(script))

    class Handler(QuietHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            payload = json.loads(self.rfile.read(length))
            key = self.headers.get("Idempotency-Key", "")
            with lock:
                gateway.requests.append(
                    {
                        "path": self.path,
                        "key": key,
                        "authorization": self.headers.get("Authorization", ""),
                        "content_type": self.headers.get("Content-Type", ""),
                        "payload": payload,
                    }
                )
                action = gateway.script.pop(0) if gateway.script else "200"
                if action in {"503", "400"}:
                    self.send_response(int(action))
                    self.end_headers()
                    return
                if key not in gateway.sent:
                    gateway.sent[key] = payload
            if action == "lost":
                self.close_connection = True
                return
            answer = json.dumps({"id": f"sms-{list(gateway.sent).index(key)}"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

    with loopback_server(Handler) as port:
        gateway.url = f"http://127.0.0.1:{port}/v1/texts"
        yield gateway


class TextNotificationTests(MessagingTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.conversation = start(cls.alice, subject=SUBJECT, body="Any news on my thyroid?")
        cls.alice.phone = "+1 (860) 555-0100"
        cls.alice.language = "en"
        cls.alice.save(update_fields=["phone", "language"])
        NotificationPreference.objects.create(user=cls.alice, by_email=False, by_text=True)

    @contextmanager
    def gateway(self, *script: str):
        with (
            sms_gateway(*script) as gateway,
            self.settings(
                HAVEN_SMS_GATEWAY_URL=gateway.url,
                HAVEN_SMS_GATEWAY_TOKEN=TOKEN,
                HAVEN_SMS_SENDER="Haven",
            ),
        ):
            yield gateway

    def text_of(self, user) -> OutgoingText:
        return OutgoingText.objects.select_related("notification").get(notification__user=user)

    @pytest.mark.promise("MSG-4")
    def test_a_text_goes_once_with_its_key_and_says_only_that_a_message_waits(self):
        with self.gateway() as gateway:
            reply(self.conversation, self.nurse, body=BODY)
            text = self.text_of(self.alice)
            self.assertEqual(text.status, OutgoingText.Status.QUEUED)
            run_queued_tasks()
            # A task run again finds the text already sent.
            self.assertEqual(services.outgoing_text_send(text_id=text.pk), "not-claimed")
        self.assertEqual(len(gateway.requests), 1)
        request = gateway.requests[0]
        self.assertEqual(request["key"], str(text.idempotency_key))
        self.assertEqual(request["authorization"], f"Bearer {TOKEN}")
        self.assertEqual(request["content_type"], "application/json")
        self.assertEqual(request["payload"]["to"], "+18605550100")
        self.assertEqual(request["payload"]["from"], "Haven")
        link = settings.SITE_URL + reverse(
            "messaging:conversation", kwargs={"pk": self.conversation.pk}
        )
        self.assertEqual(
            request["payload"]["body"],
            f"{settings.SITE_NAME}: a secure message is waiting for you. "
            f"Sign in to read it: {link}",
        )
        forbidden = [
            SUBJECT,
            "thyroid",
            BODY,
            "TSH",
            str(Topic.CARE_QUESTION.label),
            "care_question",
            "Alice",
            "Rivera",
            "M-ALICE",
        ]
        for words in forbidden:
            self.assertNotIn(words, json.dumps(request["payload"]))
        self.assertEqual(len(gateway.sent), 1)
        text.refresh_from_db()
        self.assertEqual((text.status, text.attempts), (OutgoingText.Status.SENT, 1))
        self.assertEqual(text.gateway_reference, "sms-0")
        self.assertIsNotNone(text.sent_at)
        self.assertEqual(text.notification.channel, Notification.Channel.TEXT)
        self.assertEqual(
            Notification.objects.get(pk=text.notification_id).status, Notification.Status.SENT
        )
        self.assertFalse(OutgoingEmail.objects.filter(user=self.alice).exists())

    @pytest.mark.promise("MSG-4")
    def test_the_text_is_in_the_members_language(self):
        self.alice.language = "es"
        self.alice.save(update_fields=["language"])
        with self.gateway() as gateway:
            reply(self.conversation, self.nurse, body=BODY)
            run_queued_tasks()
        body = gateway.requests[0]["payload"]["body"]
        self.assertIn("tiene un mensaje seguro", body)
        self.assertNotIn("thyroid", body)

    def test_the_text_and_its_task_are_written_in_the_messages_transaction(self):
        with self.gateway() as gateway:
            with self.assertRaises(Boom), transaction.atomic():
                reply(self.conversation, self.nurse, body=BODY)
                self.assertEqual(OutgoingText.objects.count(), 1)
                raise Boom
            self.assertFalse(OutgoingText.objects.exists())
            self.assertFalse(
                DBTaskResult.objects.filter(
                    task_path="haven.messaging.tasks.send_outgoing_text"
                ).exists()
            )
            run_queued_tasks()
        self.assertEqual(gateway.requests, [])

    def test_after_a_503_the_retry_waits_its_turn_and_the_text_goes_once_with_the_same_key(self):
        with self.gateway("503") as gateway:
            reply(self.conversation, self.nurse, body=BODY)
            run_queued_tasks()
            text = self.text_of(self.alice)
            self.assertEqual(text.status, OutgoingText.Status.QUEUED)
            self.assertEqual(text.attempts, 1)
            self.assertEqual(text.last_error, "gateway answered 503")
            self.assertGreater(text.next_attempt_at, timezone.now())
            self.assertEqual(len(gateway.requests), 1)

            run_queued_tasks()  # not due yet: the worker leaves it alone
            self.assertEqual(len(gateway.requests), 1)

            make_retries_due(OutgoingText)
            run_queued_tasks()
        text.refresh_from_db()
        self.assertEqual((text.status, text.attempts), (OutgoingText.Status.SENT, 2))
        self.assertEqual(text.last_error, "")
        self.assertEqual(
            [request["key"] for request in gateway.requests], [str(text.idempotency_key)] * 2
        )
        self.assertEqual(len(gateway.sent), 1)

    def test_when_the_gateways_answer_is_lost_the_retry_sends_nothing_new(self):
        with self.gateway("lost") as gateway:
            reply(self.conversation, self.nurse, body=BODY)
            run_queued_tasks()
            text = self.text_of(self.alice)
            self.assertEqual(text.status, OutgoingText.Status.QUEUED)
            self.assertIn("gateway unreachable", text.last_error)
            make_retries_due(OutgoingText)
            run_queued_tasks()
        text.refresh_from_db()
        self.assertEqual(text.status, OutgoingText.Status.SENT)
        self.assertEqual(len(gateway.requests), 2)
        self.assertEqual(
            {request["key"] for request in gateway.requests}, {str(text.idempotency_key)}
        )
        self.assertEqual(len(gateway.sent), 1)

    def test_a_text_left_sending_by_a_dead_worker_goes_again_with_the_same_key_and_once(self):
        with self.gateway() as gateway:
            reply(self.conversation, self.nurse, body=BODY)
            text = self.text_of(self.alice)
            # The worker handed the text to the gateway, then died before writing "sent".
            sms.send(to=text.to_number, body=text.body, idempotency_key=str(text.idempotency_key))
            DBTaskResult.objects.filter(status="READY").delete()
            OutgoingText.objects.filter(pk=text.pk).update(
                status=OutgoingText.Status.SENDING,
                attempts=1,
                claimed_at=timezone.now() - timedelta(hours=1),
            )
            out = StringIO()
            call_command("messaging", "requeue_notifications", stdout=out)
            self.assertIn("1 text and push notifications queued again", out.getvalue())
            run_queued_tasks()
        text.refresh_from_db()
        self.assertEqual((text.status, text.attempts), (OutgoingText.Status.SENT, 2))
        self.assertEqual(
            [request["key"] for request in gateway.requests], [str(text.idempotency_key)] * 2
        )
        self.assertEqual(len(gateway.sent), 1)

    def test_a_400_fails_at_once_without_retry_and_the_member_sees_it(self):
        with self.gateway("400") as gateway:
            reply(self.conversation, self.nurse, body=BODY)
            run_queued_tasks()
            make_retries_due(OutgoingText)
            run_queued_tasks()
        text = self.text_of(self.alice)
        self.assertEqual((text.status, text.attempts), (OutgoingText.Status.FAILED, 1))
        self.assertEqual(text.last_error, "gateway answered 400")
        self.assertEqual(len(gateway.requests), 1)
        self.assertEqual(gateway.sent, {})
        self.assertFalse(DBTaskResult.objects.filter(status="READY").exists())
        notification = Notification.objects.get(pk=text.notification_id)
        self.assertEqual(notification.status, Notification.Status.FAILED)
        self.sign_in(self.alice)
        page = self.client.get(reverse("messaging:preferences"))
        self.assertContains(page, "Not sent: the provider refused it")
        self.client.logout()
        # Staff see it where failed e-mail is shown, with the error and not the wording.
        self.sign_in(self.administrator)
        outbox = self.client.get(reverse("mail:outbox"))
        self.assertContains(outbox, "Text notifications that failed")
        self.assertContains(outbox, "+18605550100")
        self.assertContains(outbox, "gateway answered 400")
        self.assertNotContains(outbox, "a secure message is waiting for you")

    def test_a_member_who_did_not_choose_texts_gets_none(self):
        NotificationPreference.objects.filter(user=self.alice).update(by_text=False, by_email=True)
        with self.gateway() as gateway:
            reply(self.conversation, self.nurse, body=BODY)
            run_queued_tasks()
        self.assertEqual(gateway.requests, [])
        self.assertFalse(OutgoingText.objects.exists())
        self.assertFalse(
            Notification.objects.filter(user=self.alice, channel=Notification.Channel.TEXT).exists()
        )

    def test_texts_turned_off_before_sending_are_not_sent(self):
        with self.gateway() as gateway:
            reply(self.conversation, self.nurse, body=BODY)
            services.notification_preferences_update(
                user=self.alice, by_email=True, by_text=False, by_push=False, actor=self.alice
            )
            run_queued_tasks()
        self.assertEqual(gateway.requests, [])
        text = self.text_of(self.alice)
        self.assertEqual(text.status, OutgoingText.Status.CANCELLED)
        self.assertEqual(
            Notification.objects.get(pk=text.notification_id).status,
            Notification.Status.WITHDRAWN,
        )

    def test_without_a_phone_number_nothing_is_queued(self):
        self.alice.phone = ""
        self.alice.save(update_fields=["phone"])
        with self.gateway() as gateway:
            reply(self.conversation, self.nurse, body=BODY)
            run_queued_tasks()
        self.assertEqual(gateway.requests, [])
        self.assertFalse(OutgoingText.objects.exists())
        notification = Notification.objects.get(user=self.alice)
        self.assertEqual(notification.status, Notification.Status.NO_ADDRESS)

    def test_without_a_gateway_texts_stay_waiting_for_a_provider(self):
        reply(self.conversation, self.nurse, body=BODY)
        self.assertFalse(OutgoingText.objects.exists())
        notification = Notification.objects.get(user=self.alice)
        self.assertEqual(notification.status, Notification.Status.NO_PROVIDER)

    def test_in_production_a_gateway_in_clear_is_refused_at_sending_too(self):
        with (
            sms_gateway() as gateway,
            self.settings(HAVEN_SMS_GATEWAY_URL=gateway.url, PRODUCTION=True),
        ):
            with self.assertRaises(sms.GatewayError) as refused:
                sms.send(to="+18605550100", body="test", idempotency_key="k")
        self.assertTrue(refused.exception.permanent)
        self.assertEqual(gateway.requests, [])


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("+1 (860) 555-0100", "+18605550100"),
        ("860.555.0100", "+18605550100"),
        ("0039 06 1234 5678", "+390612345678"),
        ("555-0100", None),
        ("call me", None),
        ("", None),
    ],
)
def test_phone_numbers_from_the_profile_become_e164_or_nothing(number, expected):
    assert sms.normalise_number(number) == expected


def test_production_refuses_to_start_with_a_gateway_in_clear(tmp_path):
    environment = production_environment(
        tmp_path, HAVEN_SMS_GATEWAY_URL="http://sms.example/v1/texts"
    )
    result = run([*haven_command(), "check"], environment)
    assert result.returncode != 0
    assert "ImproperlyConfigured: HAVEN_SMS_GATEWAY_URL must be https" in result.stderr
    environment["HAVEN_SMS_GATEWAY_URL"] = "https://sms.example/v1/texts"
    assert "HAVEN_SMS_GATEWAY_URL" not in run([*haven_command(), "check"], environment).stderr
