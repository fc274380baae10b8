"""The worker killed in the middle of sending e-mail: nothing lost, and sent once, whether it is
killed before the relay accepted the message or after, while the relay holds its answer to QUIT.

A real `haven db_worker` process sends through a real SMTP relay (aiosmtpd with STARTTLS) that
holds its answer to DATA; the test SIGKILLs the worker while the relay holds it, runs
`haven mail requeue_stale` as the periodic job would, and starts a fresh worker. The in-process
outbox tests (haven/mail/tests/test_outbox.py) cover the same rules without a process dying.
"""

import time

import pytest

from haven.faults.tests.deployment import ENQUEUE_EMAIL, OUTBOX, WORKER, wait_for
from haven.faults.tests.smtp import stalling_smtp_server

pytestmark = pytest.mark.django_db


def test_a_worker_killed_while_the_relay_holds_data_loses_nothing_and_sends_once(
    deployment_factory, pki
):
    with stalling_smtp_server(pki, stall=True) as server:
        haven = through_relay(deployment_factory, server, pki)
        queued = haven.shell(ENQUEUE_EMAIL)

        worker = haven.start(*WORKER)
        assert server.handler.receiving.wait(30), haven.log(worker)
        haven.kill(worker)  # SIGKILL: no cleanup, no "finally", as when the machine loses power
        assert worker.returncode == -9

        # Nothing lost: the claim is all the dead worker wrote; the e-mail waits in "sending".
        [row] = haven.shell(OUTBOX)
        assert (row["status"], row["attempts"]) == ("sending", 1)
        assert server.received == [], "an unanswered DATA is not a delivery"

        # The periodic job puts it back once the claim is older than the sending timeout.
        server.handler.stall = False
        requeue_and_send_again(haven)

    [row] = haven.shell(OUTBOX)
    assert row["attempts"] == 2
    assert server.handler.stalled == 1
    assert [message.message["Message-ID"] for message in server.received] == [queued["message_id"]]
    assert server.received[0].rcpt_tos == ["alice@example.org"]
    assert server.received[0].over_tls


def test_a_worker_killed_after_the_relay_accepted_does_not_send_again(deployment_factory, pki):
    """Accepted by the relay, then the worker dies while the relay holds its answer to QUIT.

    "sent" is written the moment the relay answers 250 to DATA, before QUIT, so the periodic job
    finds nothing to send again and the e-mail arrives once. The window left (the milliseconds
    between that answer and the write) is the at-least-once edge of docs/mail.md.
    """
    with stalling_smtp_server(pki, hold_quit=True) as server:
        haven = through_relay(deployment_factory, server, pki)
        queued = haven.shell(ENQUEUE_EMAIL)
        worker = haven.start(*WORKER)
        assert server.handler.quitting.wait(30), haven.log(worker)
        wait_for(
            lambda: haven.shell(OUTBOX)[0]["status"] == "sent",
            timeout=20,
            interval=0.2,
            what='"sent" to be written while the relay holds its answer to QUIT',
        )
        haven.kill(worker)
        server.handler.hold_quit = False
        # Past the sending timeout, the periodic job has nothing to take back.
        time.sleep(2.5)
        assert "queued 0 e-mails again" in haven.run("mail", "requeue_stale")
        [row] = haven.shell(OUTBOX)
        assert (row["status"], row["attempts"]) == ("sent", 1)
    assert [message.message["Message-ID"] for message in server.received] == [queued["message_id"]]


def through_relay(deployment_factory, server, pki):
    """Haven sending through the test's relay, with a sending timeout of 2 s for the requeue."""
    return deployment_factory(
        HAVEN_SMTP_HOST="localhost",
        HAVEN_SMTP_PORT=str(server.port),
        HAVEN_SMTP_CA_FILE=pki.ca_file,
        HAVEN_MAIL_DELIVERY="relay",
        HAVEN_SMTP_TIMEOUT="20",
        HAVEN_MAIL_SENDING_TIMEOUT_SECONDS="2",
    )


def requeue_and_send_again(haven) -> None:
    """The periodic job takes the dead worker's claim back once it is older than the sending
    timeout; a fresh worker then sends the e-mail."""
    wait_for(
        lambda: "queued 1 e-mails again" in haven.run("mail", "requeue_stale"),
        timeout=20,
        interval=0.5,
        what="the stale claim to be taken back",
    )
    worker = haven.start(*WORKER)
    wait_for(
        lambda: haven.shell(OUTBOX)[0]["status"] == "sent",
        timeout=40,
        interval=0.5,
        what="the e-mail to be sent by a fresh worker",
    )
    haven.kill(worker)
