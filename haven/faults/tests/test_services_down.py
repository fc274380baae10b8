"""SMTP and ClamAV down, then back: the work waits, then is delivered or screened, through Haven's
own processes (`haven db_worker`, `haven messaging rescan`) on their own database.

The same rules are tested in-process, with the worker run inside the test's transaction, in
haven/mail/tests/test_outbox.py (`test_with_smtp_down_...`), haven/messaging/tests/
test_screening.py (`test_while_the_scanner_is_down_...`) and haven/mail/tests/
test_portal_screening.py. Here the worker is a separate long-running process and clamd is a real
daemon stopped and started again.
"""

import pytest

from haven.faults.tests.deployment import ENQUEUE_EMAIL, MEMBER, OUTBOX, WORKER, wait_for
from haven.faults.tests.smtp import stalling_smtp_server
from haven.mail.tests.smtp_servers import free_port
from haven.testing.clamd import EICAR, Clamd

pytestmark = pytest.mark.django_db


def test_with_smtp_down_the_running_worker_keeps_the_email_and_delivers_it_once_when_it_is_back(
    deployment_factory, pki
):
    port = free_port()  # nothing listens here yet
    haven = deployment_factory(
        HAVEN_SMTP_HOST="localhost",
        HAVEN_SMTP_PORT=str(port),
        HAVEN_SMTP_CA_FILE=pki.ca_file,
        HAVEN_MAIL_DELIVERY="relay",
        HAVEN_SMTP_TIMEOUT="5",
        HAVEN_MAIL_RETRY_SECONDS="1",
    )
    queued = haven.shell(ENQUEUE_EMAIL)
    worker = haven.start(*WORKER)
    waiting = wait_for(
        lambda: [row for row in haven.shell(OUTBOX) if row["attempts"] >= 2],
        timeout=40,
        interval=0.5,
        what="two failed attempts while the relay is down",
    )
    assert waiting[0]["status"] == "queued"
    assert "ConnectionRefusedError" in waiting[0]["last_error"]

    with stalling_smtp_server(pki, stall=False, port=port) as server:
        wait_for(
            lambda: haven.shell(OUTBOX)[0]["status"] == "sent",
            timeout=40,
            interval=0.5,
            what="the e-mail to go once the relay is back",
        )
        haven.kill(worker)
    assert [message.message["Message-ID"] for message in server.received] == [queued["message_id"]]


# Alice writes to her care team with a clean PDF and a file carrying the EICAR test string,
# through the message center's service (what the "new message" page calls).
WRITE_WITH_FILES = (
    "import json, uuid\n"
    + MEMBER
    + f"""
from django.core.files.uploadedfile import SimpleUploadedFile
from haven.messaging import services
from haven.messaging.services import Mailbox
files = [
    SimpleUploadedFile("referral.pdf", b"%PDF-1.4\\n%%EOF\\n", content_type="application/pdf"),
    SimpleUploadedFile("late.txt", b"Late: " + {EICAR!r}, content_type="text/plain"),
]
services.conversation_start(
    mailbox=Mailbox(member=user.member), topic="care_question", subject="Lab report",
    body="Here is the file.", files=files, idempotency_key=uuid.uuid4(), actor=user,
)
print(json.dumps(True))
"""
)

RESCAN_STATE = """
import json
from haven.messaging.models import Attachment, Message
print(json.dumps({
    "attachments": [
        [a.filename, a.scan_status, len(bytes(a.content_sealed))]
        for a in Attachment.objects.order_by("pk")
    ],
    "messages": list(Message.objects.values_list("scan_status", flat=True)),
}))
"""


@pytest.mark.promise("MSG-6")
def test_with_clamd_down_files_wait_in_quarantine_and_the_rescan_job_screens_them_when_it_is_back(
    deployment_factory, tmp_path
):
    (tmp_path / "clamd-home").mkdir()
    scanner = Clamd(tmp_path / "clamd-home")
    scanner.start()
    try:
        haven = deployment_factory(HAVEN_CLAMD_ADDRESS=scanner.address)
        scanner.stop()  # down before the member writes
        assert haven.shell(WRITE_WITH_FILES)
        pending = haven.shell(RESCAN_STATE)
        assert [row[1] for row in pending["attachments"]] == ["pending_scan", "pending_scan"]
        assert pending["messages"] == ["pending_scan"]

        out = haven.run("messaging", "rescan")
        assert "3 items still wait for the scanner" in out, out

        scanner.start()
        out = haven.run("messaging", "rescan")
        assert "0 items still wait for the scanner" in out, out
        screened = haven.shell(RESCAN_STATE)
        [clean, infected] = screened["attachments"]
        assert clean[:2] == ["referral.pdf", "clean"] and clean[2] > 0
        assert infected == ["late.txt", "refused", 0], "an infected file is destroyed"
        assert screened["messages"] == ["clean"]
    finally:
        scanner.stop()
