"""Files and message text are screened by a real clamd before anyone can open them (MSG-6)."""

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from haven.messaging import clamd as clamd_client
from haven.messaging import services
from haven.messaging.models import Attachment, Conversation, Message, ScanStatus
from haven.messaging.tasks import rescan_quarantined
from haven.messaging.tests.conversations import MessagingTestCase, pdf_file, start
from haven.testing.clamd import EICAR, zipped

REFUSED = "This file cannot be accepted."
DETAILS = ("EICAR", "virus", "infected", "malware", "FOUND", "Haven.Test")


@pytest.mark.usefixtures("clamd")
class ScreeningTests(MessagingTestCase):
    def setUp(self):
        super().setUp()
        self.enterContext(override_settings(HAVEN_CLAMD_ADDRESS=self.clamd.address))
        self.sign_in(self.alice)

    def send(self, *files, body="Here is the file you asked for."):
        return self.client.post(
            reverse("messaging:new"),
            {
                "topic": "care_question",
                "subject": "Lab report",
                "body": body,
                "attachments": list(files),
                "idempotency_key": str(uuid.uuid4()),
            },
        )

    def assertRefusedWithoutDetail(self, response, text=REFUSED):
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, text)
        page = response.content.decode()
        for detail in DETAILS:
            self.assertNotIn(detail, page)
        self.assertFalse(Conversation.objects.exists())
        self.assertFalse(Message.objects.exists())

    @pytest.mark.promise("MSG-6")
    def test_an_infected_file_is_refused_with_a_plain_message_and_nothing_is_kept(self):
        response = self.send(SimpleUploadedFile("results.txt", EICAR))
        self.assertRefusedWithoutDetail(response)
        # What the member wrote stays in the form.
        self.assertContains(response, "Here is the file you asked for.")

    @pytest.mark.promise("MSG-6")
    def test_an_infected_file_inside_a_zip_is_refused_the_same_way(self):
        archive = zipped("results.txt", EICAR)
        self.assertNotIn(EICAR, archive, "the zip must hide the string: clamd has to unpack it")
        response = self.send(SimpleUploadedFile("results.zip", archive))
        self.assertRefusedWithoutDetail(response)

    @pytest.mark.promise("MSG-6")
    def test_infected_text_in_a_message_is_refused_the_same_way(self):
        response = self.send(body="Please look at this: " + EICAR.decode())
        self.assertRefusedWithoutDetail(response, "This message cannot be accepted.")
        # The rest of the form is kept; the refused text is not served back.
        self.assertContains(response, 'value="Lab report"')

    @pytest.mark.promise("MSG-6")
    def test_a_clean_file_passes_and_can_be_opened(self):
        response = self.send(pdf_file("referral.pdf"))
        self.assertEqual(response.status_code, 302)
        attachment = Attachment.objects.get()
        self.assertEqual(attachment.scan_status, ScanStatus.CLEAN)
        self.assertIsNotNone(attachment.scanned_at)
        download = self.client.get(reverse("messaging:attachment", kwargs={"pk": attachment.pk}))
        self.assertEqual(download.status_code, 200)
        self.assertTrue(download.content.startswith(b"%PDF-"))
        self.assertEqual(download["Content-Disposition"].split(";")[0], "attachment")

    def test_a_staff_answer_is_screened_too(self):
        conversation = start(self.alice)
        self.sign_in(self.nurse)
        response = self.client.post(
            reverse("messaging:conversation", kwargs={"pk": conversation.pk}),
            {
                "body": "See the attached.",
                "attachments": [SimpleUploadedFile("leaflet.txt", b"Notes\n" + EICAR)],
                "idempotency_key": str(uuid.uuid4()),
            },
        )
        self.assertContains(response, REFUSED)
        self.assertEqual(conversation.messages.count(), 1)

    @pytest.mark.promise("MSG-6")
    def test_while_the_scanner_is_down_files_wait_in_quarantine_and_are_screened_when_it_is_back(
        self,
    ):
        self.clamd.stop()
        response = self.send(
            pdf_file("referral.pdf"), SimpleUploadedFile("late.txt", b"Late: " + EICAR)
        )
        self.assertEqual(response.status_code, 302, "the message is kept, not lost")
        clean, infected = Attachment.objects.order_by("pk")
        self.assertEqual(
            [clean.scan_status, infected.scan_status], [ScanStatus.PENDING, ScanStatus.PENDING]
        )
        self.assertEqual(Message.objects.get().scan_status, ScanStatus.PENDING)
        waiting = self.client.get(reverse("messaging:attachment", kwargs={"pk": clean.pk}))
        self.assertEqual(waiting.status_code, 403)
        page = self.client.get(response["Location"])
        self.assertContains(page, "Being checked: it can be opened soon")
        self.assertTrue(DBTaskResult.objects.filter(task_path__endswith="rescan_quarantined"))

        self.assertEqual(rescan_quarantined.call(), 3, "still down: everything keeps waiting")

        self.clamd.start()
        self.assertEqual(rescan_quarantined.call(), 0)
        clean.refresh_from_db()
        infected.refresh_from_db()
        self.assertEqual(clean.scan_status, ScanStatus.CLEAN)
        self.assertEqual(infected.scan_status, ScanStatus.REFUSED)
        self.assertEqual(bytes(infected.content_sealed), b"", "an infected file is destroyed")
        self.assertEqual(Message.objects.get().scan_status, ScanStatus.CLEAN)
        opened = self.client.get(reverse("messaging:attachment", kwargs={"pk": clean.pk}))
        self.assertEqual(opened.status_code, 200)
        refused = self.client.get(reverse("messaging:attachment", kwargs={"pk": infected.pk}))
        self.assertEqual(refused.status_code, 403)
        self.assertContains(self.client.get(response["Location"]), "This file cannot be opened.")

    @pytest.mark.promise("MSG-6")
    def test_text_waiting_for_the_scanner_is_held_from_the_reader_until_it_is_screened(self):
        self.clamd.stop()
        conversation = start(self.alice, body="My knee still hurts after the operation.")
        self.assertEqual(conversation.messages.get().scan_status, ScanStatus.PENDING)
        url = reverse("messaging:conversation", kwargs={"pk": conversation.pk})

        self.sign_in(self.nurse)
        held = self.client.get(url)
        self.assertContains(held, "This message is being checked.")
        self.assertNotContains(held, "My knee still hurts")
        # The subject was screened with it, and waits with it.
        self.assertNotContains(held, "Knee pain after the operation")
        self.assertContains(held, "Message being checked")
        shown = services.conversation_read(conversation=conversation, actor=self.nurse)
        self.assertEqual(
            [(m.held, m.body) for m in shown.messages], [(True, "")], "nothing of it is served"
        )

        # Its author wrote it and sees it, marked as not yet screened for the others.
        self.sign_in(self.alice)
        own = self.client.get(url)
        self.assertContains(own, "My knee still hurts after the operation.")
        self.assertContains(own, "Being checked: the others can read it")

        self.clamd.start()
        self.assertEqual(rescan_quarantined.call(), 0)
        self.sign_in(self.nurse)
        screened = self.client.get(url)
        self.assertContains(screened, "My knee still hurts after the operation.")
        self.assertContains(screened, "Knee pain after the operation")
        self.assertNotContains(screened, "being checked")

    def test_text_that_waited_and_proves_infected_is_withheld(self):
        self.clamd.stop()
        conversation = start(self.alice, body="Look: " + EICAR.decode())
        self.clamd.start()
        rescan_quarantined.call()
        message = conversation.messages.get()
        self.assertEqual(message.scan_status, ScanStatus.REFUSED)
        self.assertEqual(message.body, "")
        page = self.client.get(reverse("messaging:conversation", kwargs={"pk": conversation.pk}))
        self.assertContains(page, "This message was removed by screening.")


class LimitsTests(MessagingTestCase):
    def setUp(self):
        super().setUp()
        self.sign_in(self.alice)

    def send(self, upload):
        return self.client.post(
            reverse("messaging:new"),
            {
                "topic": "care_question",
                "subject": "Lab report",
                "body": "Attached.",
                "attachments": [upload],
                "idempotency_key": str(uuid.uuid4()),
            },
        )

    @override_settings(HAVEN_ATTACHMENT_MAX_BYTES=1000)
    def test_a_file_over_the_size_limit_is_refused(self):
        response = self.send(SimpleUploadedFile("big.txt", b"a" * 1001))
        self.assertContains(response, "Files can be at most")
        self.assertFalse(Conversation.objects.exists())

    def test_the_type_comes_from_the_first_bytes_not_the_name(self):
        for name, content in [
            ("report.pdf", b"just text pretending to be a PDF"),
            ("photo.png", b"\xff\xd8\xff\xe0 a JPEG named .png"),
            ("setup.txt", b"MZ\x90\x00\x03\x00\x00\x00 a program"),
            ("page.html", b"<html><script>alert(1)</script></html>"),
        ]:
            response = self.send(SimpleUploadedFile(name, content))
            self.assertContains(response, "Send a PDF, PNG or JPEG image, or plain text")
        self.assertFalse(Conversation.objects.exists())

    def test_allowed_types_pass(self):
        for name, content in [
            ("scan.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20),
            ("photo.JPG", b"\xff\xd8\xff\xe0" + b"\x00" * 20),
            ("notes.txt", "Tensión arterial 120/80\n".encode()),
        ]:
            self.assertEqual(self.send(SimpleUploadedFile(name, content)).status_code, 302)
        kinds = sorted(Attachment.objects.values_list("content_type", flat=True))
        self.assertEqual(kinds, ["image/jpeg", "image/png", "text/plain"])

    def test_without_a_scanner_outside_production_files_are_marked_unscanned(self):
        self.send(pdf_file())
        self.assertEqual(Attachment.objects.get().scan_status, ScanStatus.UNSCANNED)

    @override_settings(PRODUCTION=True, HAVEN_CLAMD_ADDRESS=None)
    def test_in_production_a_missing_scanner_means_quarantine_not_unscreened(self):
        self.assertIs(clamd_client.scan(b"hello"), clamd_client.Verdict.UNAVAILABLE)


@pytest.mark.usefixtures("clamd")
class ClamdClientTests(MessagingTestCase):
    def test_the_client_speaks_instream_to_a_real_clamd(self):
        with override_settings(HAVEN_CLAMD_ADDRESS=self.clamd.address):
            self.assertIs(clamd_client.scan(EICAR), clamd_client.Verdict.INFECTED)
            self.assertIs(clamd_client.scan(b"hello"), clamd_client.Verdict.CLEAN)
            self.assertIs(clamd_client.scan(zipped("a.txt", EICAR)), clamd_client.Verdict.INFECTED)
            self.assertTrue(clamd_client.ping())

    def test_an_unreachable_scanner_gives_no_verdict(self):
        closed = f"127.0.0.1:{self.clamd.port + 1}"
        with override_settings(HAVEN_CLAMD_ADDRESS=closed):
            self.assertIs(clamd_client.scan(b"hello"), clamd_client.Verdict.UNAVAILABLE)
