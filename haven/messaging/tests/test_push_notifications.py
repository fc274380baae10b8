"""Push notifications through a real Web Push service on loopback: encrypted for one browser,
signed with the site's VAPID key, retried, and never the message (MSG-4).

The push service is a real HTTP server in a thread. Like a real one it checks the VAPID signature,
and, playing the browser too, it decrypts each payload with the browser's private key (http_ece,
RFC 8291), so the tests read exactly what a phone would show.
"""

import base64
import io
import json
import os
import threading
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from io import StringIO

import http_ece
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from py_vapid import Vapid02

from haven.messaging import push, services
from haven.messaging.models import (
    Notification,
    NotificationPreference,
    OutgoingPush,
    OutgoingText,
    PushDevice,
    Topic,
)
from haven.messaging.tests.conversations import MessagingTestCase, reply, start
from haven.privacy import services as privacy
from haven.privacy.models import Archive
from haven.testing.servers import QuietHandler, loopback_server
from haven.testing.tasks import make_retries_due, run_queued_tasks

SUBJECT = "Results of my thyroid test"
BODY = "Your TSH is slightly high; we will repeat the test in six weeks."
VAPID_KEY = push.new_private_key()
CHROME_ON_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class Browser:
    """A browser's side of a subscription: its key pair and auth secret, as PushManager makes."""

    def __init__(self):
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.auth_secret = os.urandom(16)
        self.p256dh = b64url(
            self.private_key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )
        self.auth = b64url(self.auth_secret)

    def read(self, body: bytes) -> dict:
        return json.loads(
            http_ece.decrypt(
                body,
                private_key=self.private_key,
                auth_secret=self.auth_secret,
                version="aes128gcm",
            )
        )


@dataclass
class PushService:
    """What the loopback push service saw, and what it delivered to each browser."""

    origin: str
    script: list[str]
    gone: set[str] = field(default_factory=set)
    browsers: dict[str, Browser] = field(default_factory=dict)
    requests: list[dict] = field(default_factory=list)
    delivered: dict[str, list[dict]] = field(default_factory=dict)

    def subscribe(self, name: str) -> dict:
        """A new subscription as the browser's PushManager would hand it to the page."""
        browser = self.browsers[name] = Browser()
        return {
            "endpoint": f"{self.origin}/push/{name}",
            "keys": {"p256dh": browser.p256dh, "auth": browser.auth},
        }


@contextmanager
def push_service(*script: str, gone: tuple[str, ...] = ()):
    """A real Web Push service; `script` answers request after request ("201" when it runs out).

    "410", "503", "400", "302": answer that status and deliver nothing. The browsers named in
    `gone` have unsubscribed: their address answers 410.
    """
    lock = threading.Lock()
    service = PushService(origin="", script=list(script), gone=set(gone))

    class Handler(QuietHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            name = self.path.rsplit("/", 1)[-1]
            headers = {key.lower(): value for key, value in self.headers.items()}
            with lock:
                service.requests.append({"path": self.path, "headers": headers, "body": body})
                action = service.script.pop(0) if service.script else "201"
                if name in service.gone:
                    action = "410"
                if action == "201":
                    payload = service.browsers[name].read(body)
                    service.delivered.setdefault(name, []).append(payload)
            self.send_response(int(action))
            if action == "302":
                self.send_header("Location", f"{service.origin}/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

    with loopback_server(Handler) as port:
        service.origin = f"http://127.0.0.1:{port}"
        yield service


class PushTestCase(MessagingTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.conversation = start(cls.alice, subject=SUBJECT, body="Any news on my thyroid?")
        cls.alice.language = "en"
        cls.alice.save(update_fields=["language"])
        NotificationPreference.objects.create(user=cls.alice, by_email=False, by_push=True)

    @contextmanager
    def service(self, *script: str, key: str = VAPID_KEY, gone: tuple[str, ...] = ()):
        with (
            push_service(*script, gone=gone) as service,
            self.settings(HAVEN_VAPID_PRIVATE_KEY=key, HAVEN_PUSH_SERVICES=["127.0.0.1"]),
        ):
            yield service

    def turn_on(self, service: PushService, name: str = "phone", user=None):
        subscription = service.subscribe(name)
        return services.push_device_add(
            user=user or self.alice,
            endpoint=subscription["endpoint"],
            p256dh=subscription["keys"]["p256dh"],
            auth=subscription["keys"]["auth"],
            user_agent=CHROME_ON_ANDROID,
            actor=user or self.alice,
        )


class PushSendingTests(PushTestCase):
    @pytest.mark.promise("MSG-4")
    def test_a_push_is_encrypted_for_the_browser_signed_and_says_only_that_a_message_waits(self):
        with self.service() as service:
            device = self.turn_on(service)
            reply(self.conversation, self.nurse, body=BODY)
            item = OutgoingPush.objects.get(notification__user=self.alice)
            self.assertEqual(item.status, OutgoingPush.Status.QUEUED)
            run_queued_tasks()
            self.assertEqual(services.outgoing_push_send(push_id=item.pk), "not-claimed")
        self.assertEqual(len(service.requests), 1)
        link = settings.SITE_URL + reverse(
            "messaging:conversation", kwargs={"pk": self.conversation.pk}
        )
        self.assertEqual(
            service.delivered["phone"],
            [
                {
                    "title": settings.SITE_NAME,
                    "body": "A secure message is waiting for you. Sign in to read it.",
                    "url": link,
                    "lang": "en",
                }
            ],
        )
        request = service.requests[0]
        # Encrypted for that browser alone: nothing readable crosses the push service.
        self.assertEqual(request["headers"]["content-encoding"], "aes128gcm")
        for words in [SUBJECT, "thyroid", BODY, "TSH", str(Topic.CARE_QUESTION.label), "Alice"]:
            self.assertNotIn(words.encode(), request["body"])
            self.assertNotIn(words, json.dumps(service.delivered["phone"]))
        # Signed with the site's VAPID key, for this push service, for at most a day.
        authorization = request["headers"]["authorization"]
        self.assertTrue(Vapid02.verify(authorization))
        self.assertIn(f"k={push.application_server_key()}", authorization)
        token = authorization.split("t=", 1)[1].split(",", 1)[0]
        claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
        self.assertEqual(claims["aud"], service.origin)
        self.assertEqual(claims["sub"], settings.HAVEN_VAPID_SUBJECT)
        self.assertLessEqual(claims["exp"] - timezone.now().timestamp(), 24 * 3600)
        self.assertEqual(request["headers"]["ttl"], str(settings.HAVEN_PUSH_TTL_SECONDS))
        self.assertEqual(request["headers"]["topic"], push.TOPIC)
        self.assertEqual(request["headers"]["urgency"], "normal")
        item.refresh_from_db()
        self.assertEqual((item.status, item.attempts), (OutgoingPush.Status.SENT, 1))
        self.assertEqual(
            Notification.objects.get(pk=item.notification_id).status, Notification.Status.SENT
        )
        device.refresh_from_db()
        self.assertIsNotNone(device.last_sent_at)

    @pytest.mark.promise("MSG-4")
    def test_the_push_is_in_the_members_language(self):
        self.alice.language = "es"
        self.alice.save(update_fields=["language"])
        with self.service() as service:
            self.turn_on(service)
            reply(self.conversation, self.nurse, body=BODY)
            run_queued_tasks()
        payload = service.delivered["phone"][0]
        self.assertEqual(payload["lang"], "es")
        self.assertIn("mensaje seguro", payload["body"])

    def test_every_device_gets_one_and_a_device_the_service_reports_gone_is_forgotten(self):
        with self.service(gone=("old-laptop",)) as service:
            self.turn_on(service, "old-laptop")
            self.turn_on(service, "phone")
            reply(self.conversation, self.nurse, body=BODY)
            run_queued_tasks()
            self.assertEqual(len(service.requests), 2)
            self.assertEqual(
                sorted(PushDevice.objects.values_list("endpoint", flat=True)),
                [f"{service.origin}/push/phone"],
            )
            notification = Notification.objects.get(
                user=self.alice, channel=Notification.Channel.PUSH
            )
            self.assertEqual(notification.status, Notification.Status.SENT)
            self.assertEqual(
                sorted(notification.pushes.values_list("status", flat=True)),
                [OutgoingPush.Status.CANCELLED, OutgoingPush.Status.SENT],
            )

    def test_a_push_service_that_is_down_is_tried_again_and_the_push_arrives_once(self):
        with self.service("503", "429") as service:
            self.turn_on(service)
            reply(self.conversation, self.nurse, body=BODY)
            run_queued_tasks()
            item = OutgoingPush.objects.get()
            self.assertEqual((item.status, item.attempts), (OutgoingPush.Status.QUEUED, 1))
            self.assertIn("503", item.last_error)
            self.assertGreater(item.next_attempt_at, timezone.now())
            for _ in range(2):
                make_retries_due(OutgoingPush)
                run_queued_tasks()
        item.refresh_from_db()
        self.assertEqual((item.status, item.attempts), (OutgoingPush.Status.SENT, 3))
        self.assertEqual(len(service.requests), 3)
        self.assertEqual(len(service.delivered["phone"]), 1)

    def test_a_refusal_or_a_redirect_is_final_and_nothing_follows_the_redirect(self):
        with self.service("400") as service:
            self.turn_on(service)
            reply(self.conversation, self.nurse, body=BODY)
            run_queued_tasks()
        item = OutgoingPush.objects.get()
        self.assertEqual(item.status, OutgoingPush.Status.FAILED)
        self.assertEqual(item.notification.status, Notification.Status.FAILED)
        self.client.force_login(self.alice)
        page = self.client.get(reverse("messaging:preferences"))
        self.assertContains(page, "Push notification: Not sent: the provider refused it")
        # Staff see it where failed e-mail is shown: the device and the error, not the wording.
        self.client.logout()
        self.sign_in(self.administrator)
        outbox = self.client.get(reverse("mail:outbox") + "?status=failed")
        self.assertContains(outbox, "Push notifications that failed")
        self.assertContains(outbox, "Chrome on Android")
        self.assertContains(outbox, "push service answered 400")
        self.assertNotContains(outbox, "A secure message is waiting for you")

        with self.service("302") as service:
            self.turn_on(service, "tablet")
            reply(self.conversation, self.nurse, body="Another answer.")
            run_queued_tasks()
            self.assertEqual([r["path"] for r in service.requests], ["/push/tablet"])
        tablet = OutgoingPush.objects.get(device__endpoint__endswith="/push/tablet")
        self.assertEqual(tablet.status, OutgoingPush.Status.FAILED)
        self.assertIn("redirected", tablet.last_error)

    def test_without_a_device_or_without_a_vapid_key_the_notification_says_why(self):
        with self.service() as service:
            reply(self.conversation, self.nurse, body=BODY)
            notification = Notification.objects.get(channel=Notification.Channel.PUSH)
            self.assertEqual(notification.status, Notification.Status.NO_DEVICE)
        with self.service(key="") as service:
            self.turn_on(service)
            reply(self.conversation, self.nurse, body="Another answer.")
            run_queued_tasks()
            self.assertEqual(service.requests, [])
        latest = Notification.objects.filter(channel=Notification.Channel.PUSH).first()
        self.assertEqual(latest.status, Notification.Status.NO_PROVIDER)
        self.assertFalse(OutgoingPush.objects.exists())

    def test_turning_push_off_before_the_worker_runs_stops_the_push(self):
        with self.service() as service:
            self.turn_on(service)
            reply(self.conversation, self.nurse, body=BODY)
            services.notification_preferences_update(
                user=self.alice, by_email=False, by_text=False, by_push=False, actor=self.alice
            )
            run_queued_tasks()
        self.assertEqual(service.requests, [])
        item = OutgoingPush.objects.get()
        self.assertEqual(item.status, OutgoingPush.Status.CANCELLED)
        self.assertEqual(item.notification.status, Notification.Status.WITHDRAWN)

    def test_the_push_and_its_task_are_written_in_the_messages_transaction(self):
        with self.service() as service:
            self.turn_on(service)
            with self.assertRaises(RuntimeError), transaction.atomic():
                reply(self.conversation, self.nurse, body=BODY)
                self.assertEqual(OutgoingPush.objects.count(), 1)
                raise RuntimeError("the request failed after the message was written")
            self.assertFalse(OutgoingPush.objects.exists())
            run_queued_tasks()
        self.assertEqual(service.requests, [])

    def test_a_push_left_sending_by_a_stopped_worker_is_sent_again(self):
        with self.service() as service:
            self.turn_on(service)
            reply(self.conversation, self.nurse, body=BODY)
            item = OutgoingPush.objects.get()
            stopped = timezone.now() - timedelta(hours=1)
            OutgoingPush.objects.filter(pk=item.pk).update(
                status=OutgoingPush.Status.SENDING, claimed_at=stopped, attempts=1
            )
            DBTaskResult.objects.all().delete()  # the worker that held it is gone
            out = StringIO()
            call_command("messaging", "requeue_notifications", stdout=out)
            self.assertIn("1 text and push notifications queued again", out.getvalue())
            run_queued_tasks()
        item.refresh_from_db()
        self.assertEqual(item.status, OutgoingPush.Status.SENT)
        self.assertEqual(len(service.delivered["phone"]), 1)


class PushDeviceTests(PushTestCase):
    def subscribe(self, subscription: dict, user=None):
        self.client.force_login(user or self.alice)
        return self.client.post(
            reverse("messaging:push_subscribe"),
            data=json.dumps(subscription),
            content_type="application/json",
            headers={"User-Agent": CHROME_ON_ANDROID},
        )

    def test_a_browser_turns_push_on_and_the_page_lists_it(self):
        with self.service() as service:
            response = self.subscribe(service.subscribe("phone"))
            self.assertEqual(response.status_code, 200)
            self.assertEqual(response.json(), {"device": "Chrome on Android"})
            page = self.client.get(reverse("messaging:preferences"))
            public_key = push.application_server_key()
        device = PushDevice.objects.get(user=self.alice)
        self.assertEqual(device.endpoint, f"{service.origin}/push/phone")
        self.assertContains(page, "Chrome on Android")
        self.assertContains(page, f'data-push-key="{public_key}"')
        self.assertTrue(NotificationPreference.objects.get(user=self.alice).by_push)

    def test_an_address_that_is_not_a_known_push_service_is_refused(self):
        with self.service():
            for endpoint in [
                "http://169.254.169.254/latest/meta-data/",
                "https://fcm.googleapis.com.evil.example/send/x",
                "ftp://127.0.0.1/push/x",
                "http://user:pw@127.0.0.1/push/x",
            ]:
                response = self.subscribe(
                    {"endpoint": endpoint, "keys": {"p256dh": Browser().p256dh, "auth": "x" * 22}}
                )
                self.assertEqual(response.status_code, 400, endpoint)
                self.assertEqual(
                    response.json()["error"],
                    "This browser's push service is not one Haven can send to.",
                )
        self.assertFalse(PushDevice.objects.exists())
        with self.settings(PRODUCTION=True, HAVEN_PUSH_SERVICES=["127.0.0.1"]):
            self.assertFalse(push.endpoint_allowed("http://127.0.0.1:8443/push/x"))
            self.assertTrue(push.endpoint_allowed("https://127.0.0.1:8443/push/x"))
        self.assertTrue(push.endpoint_allowed("https://jp.notify.windows.com/w/?token=abc"))

    def test_keys_a_browser_could_not_have_made_are_refused(self):
        with self.service() as service:
            good = service.subscribe("phone")
            for keys in [
                {"p256dh": b64url(b"\x04" + b"\x01" * 64), "auth": good["keys"]["auth"]},
                {"p256dh": good["keys"]["p256dh"], "auth": b64url(b"short")},
                {"p256dh": "not base64!", "auth": good["keys"]["auth"]},
                {},
            ]:
                response = self.subscribe({"endpoint": good["endpoint"], "keys": keys})
                self.assertEqual(response.status_code, 400, keys)
            self.assertEqual(self.subscribe(["not", "an", "object"]).status_code, 400)
        self.assertFalse(PushDevice.objects.exists())

    def test_ten_devices_at_most_and_a_browser_moves_to_whoever_turned_push_on_last(self):
        with self.service() as service:
            for number in range(services.MAX_PUSH_DEVICES):
                self.turn_on(service, f"device-{number}")
            response = self.subscribe(service.subscribe("one-too-many"))
            self.assertEqual(response.status_code, 400)
            self.assertIn("Remove one you no longer use", response.json()["error"])
            shared = service.subscribe("device-0")
            self.assertEqual(self.subscribe(shared, user=self.bruno).status_code, 200)
        self.assertEqual(PushDevice.objects.filter(user=self.alice).count(), 9)
        self.assertEqual(PushDevice.objects.get(user=self.bruno).endpoint, shared["endpoint"])

    def test_a_person_turns_push_off_on_their_own_devices_only(self):
        with self.service() as service:
            alices = self.turn_on(service, "alices-phone")
            brunos = self.turn_on(service, "brunos-phone", user=self.bruno)
            self.client.force_login(self.alice)
            remove = reverse("messaging:push_device_remove")
            self.client.post(remove, {"device": brunos.pk})
            self.assertTrue(PushDevice.objects.filter(pk=brunos.pk).exists())
            response = self.client.post(remove, {"device": alices.pk}, follow=True)
            self.assertContains(response, "Push notifications are off on that device.")
            self.assertFalse(PushDevice.objects.filter(pk=alices.pk).exists())
            self.client.post(remove, {"endpoint": brunos.endpoint})
            self.assertTrue(PushDevice.objects.filter(pk=brunos.pk).exists())

    def test_the_service_worker_is_served_as_script_and_never_cached(self):
        response = self.client.get(reverse("messaging:push_worker"))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "text/javascript")
        self.assertIn("no-store", response["Cache-Control"])
        self.assertContains(response, 'addEventListener("push"')
        self.assertContains(response, "A secure message is waiting for you.")

    def test_without_a_vapid_key_the_page_says_push_is_not_switched_on(self):
        self.client.force_login(self.alice)
        with self.settings(HAVEN_VAPID_PRIVATE_KEY=""):
            page = self.client.get(reverse("messaging:preferences"))
        self.assertContains(page, "Push notifications are recorded and will be sent once")
        self.assertNotContains(page, "data-push-key")

    def test_haven_push_keys_makes_a_key_browsers_can_subscribe_with(self):
        out = StringIO()
        call_command("push", "keys", stdout=out)
        name, key = out.getvalue().strip().split("=", 1)
        self.assertEqual(name, "HAVEN_VAPID_PRIVATE_KEY")
        with self.settings(HAVEN_VAPID_PRIVATE_KEY=key):
            public = push.application_server_key()
            status = StringIO()
            call_command("push", "status", stdout=status)
        raw = base64.urlsafe_b64decode(public + "=" * (-len(public) % 4))
        self.assertEqual((len(raw), raw[0]), (65, 4))
        self.assertIn(public, status.getvalue())


class PushPrivacyTests(PushTestCase):
    @pytest.mark.promise("RIG-1")
    def test_the_access_archive_lists_the_notification_choices_and_push_devices(self):
        with self.service() as service:
            self.turn_on(service)
        made = privacy.rights_request_create(
            kind="access", requester=self.alice, member=self.alice_member, identity="password"
        )
        run_queued_tasks()
        with zipfile.ZipFile(io.BytesIO(Archive.objects.get(request=made).content())) as archive:
            data = json.loads(archive.read("haven-data.json"))
        notifications = data["notifications"]
        self.assertEqual(
            (notifications["by_email"], notifications["by_text"], notifications["by_push"]),
            (False, False, True),
        )
        self.assertEqual([d["label"] for d in notifications["push_devices"]], ["Chrome on Android"])
        # The endpoint is the push service's key to the browser, not the person's data to carry.
        self.assertNotIn("endpoint", json.dumps(notifications))

    @pytest.mark.promise("ACC-11")
    def test_erasure_forgets_the_devices_the_text_numbers_and_the_choices(self):
        self.alice.phone = "+1 860 555 0100"
        self.alice.save(update_fields=["phone"])
        NotificationPreference.objects.filter(user=self.alice).update(by_text=True)
        with (
            self.service() as service,
            self.settings(HAVEN_SMS_GATEWAY_URL="http://127.0.0.1:9/never-reached"),
        ):
            self.turn_on(service)
            reply(self.conversation, self.nurse, body=BODY)
        self.assertTrue(OutgoingText.objects.filter(to_number="+18605550100").exists())
        made = privacy.rights_request_create(
            kind="deletion", requester=self.alice, member=self.alice_member, identity="password"
        )
        erasure = privacy.account_erase(request=made, actor=self.privacy_officer)
        for erased in [
            "messaging.PushDevice (all)",
            "messaging.OutgoingText.to_number",
            "messaging.NotificationPreference",
        ]:
            self.assertIn(erased, erasure.erased_fields)
        self.assertFalse(PushDevice.objects.filter(user=self.alice).exists())
        self.assertFalse(OutgoingText.objects.exclude(to_number="").exists())
        self.assertFalse(NotificationPreference.objects.filter(user=self.alice).exists())
