"""MAIL-1: e-mail leaves Haven only over TLS with a verified certificate; never in clear text."""

import pytest
from django.test import override_settings

from haven.mail.models import OutgoingEmail
from haven.mail.services import secure_message_notify
from haven.mail.tests.mailtest import MailTestCase, relay, run_outbox
from haven.mail.tests.smtp_servers import smtp_server

Status = OutgoingEmail.Status


class TLSOnlyTests(MailTestCase):
    def notify_alice(self, key="tls-1") -> OutgoingEmail:
        return secure_message_notify(user=self.alice, link_path="/", idempotency_key=key)

    @pytest.mark.promise("MAIL-1")
    def test_mail_reaches_a_starttls_relay_over_an_encrypted_session(self):
        with smtp_server(pki=self.pki, tls="starttls") as server, relay(server, self.pki):
            email = self.notify_alice()
            run_outbox()
        email.refresh_from_db()
        self.assertEqual(email.status, Status.SENT)
        self.assertEqual(len(server.received), 1)
        received = server.received[0]
        self.assertTrue(received.over_tls)
        self.assertEqual(received.rcpt_tos, ["alice@example.org"])
        self.assertEqual(received.message["Message-ID"], email.message_id)
        self.assertTrue(all(encrypted for _address, encrypted in server.handler.mail_commands))

    @pytest.mark.promise("MAIL-1")
    def test_mail_reaches_an_implicit_tls_relay(self):
        with (
            smtp_server(pki=self.pki, tls="implicit") as server,
            relay(server, self.pki, tls="implicit"),
        ):
            email = self.notify_alice()
            run_outbox()
        email.refresh_from_db()
        self.assertEqual(email.status, Status.SENT)
        self.assertEqual([r.over_tls for r in server.received], [True])

    @pytest.mark.promise("MAIL-1")
    def test_a_relay_without_starttls_gets_not_a_single_mail_command(self):
        with smtp_server(tls="none") as server, relay(server, self.pki):
            email = self.notify_alice()
            run_outbox()
        email.refresh_from_db()
        self.assertEqual(server.handler.mail_commands, [])
        self.assertEqual(server.received, [])
        self.assertEqual(email.status, Status.QUEUED)
        self.assertEqual(email.attempts, 1)
        self.assertIn("does not offer STARTTLS", email.last_error)

    @pytest.mark.promise("MAIL-1")
    def test_a_relay_whose_certificate_does_not_verify_gets_nothing(self):
        with smtp_server(pki=self.pki, trusted=False) as server, relay(server, self.pki):
            email = self.notify_alice()
            run_outbox()
        email.refresh_from_db()
        self.assertEqual(server.handler.mail_commands, [])
        self.assertEqual(email.status, Status.QUEUED)
        self.assertIn("SSLCertVerificationError", email.last_error)

    @pytest.mark.promise("MAIL-1")
    def test_a_certificate_for_another_host_name_is_refused(self):
        # The certificate names localhost and 127.0.0.1; a server reached as 127.0.0.2 is not it.
        with (
            smtp_server(pki=self.pki, bind="127.0.0.2") as server,
            relay(server, self.pki),
            override_settings(HAVEN_SMTP_HOST="127.0.0.2"),
        ):
            email = self.notify_alice()
            run_outbox()
        email.refresh_from_db()
        self.assertEqual(server.handler.mail_commands, [])
        self.assertEqual(email.status, Status.QUEUED)
        self.assertIn("SSLCertVerificationError", email.last_error)

    @pytest.mark.promise("MAIL-1")
    def test_after_the_last_attempt_without_tls_the_mail_fails_and_is_never_sent_in_clear(self):
        with (
            smtp_server(tls="none") as server,
            relay(server, self.pki, HAVEN_MAIL_MAX_ATTEMPTS=2, HAVEN_MAIL_RETRY_SECONDS=0),
        ):
            email = self.notify_alice()
            run_outbox()
            run_outbox()
        email.refresh_from_db()
        self.assertEqual(email.status, Status.FAILED)
        self.assertEqual(email.attempts, 2)
        self.assertEqual(server.handler.mail_commands, [])
