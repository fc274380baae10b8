"""The Django e-mail backend for mail outside the outbox: TLS only, from Haven's domain."""

import pytest
from django.core.mail import send_mail

from haven.mail.tests.mailtest import MailTestCase, relay
from haven.mail.tests.smtp_servers import smtp_server
from haven.mail.transport import TLSUnavailable

BACKEND = "haven.mail.backends.TLSOnlyEmailBackend"


class BackendTests(MailTestCase):
    @pytest.mark.promise("MAIL-1")
    def test_django_send_mail_goes_over_tls_from_havens_domain(self):
        with (
            smtp_server(pki=self.pki) as server,
            relay(server, self.pki, EMAIL_BACKEND=BACKEND),
        ):
            count = send_mail(
                "Error report", "Text", "anyone@elsewhere.test", ["ops@haven.example"]
            )
        self.assertEqual(count, 1)
        received = server.received[0]
        self.assertTrue(received.over_tls)
        self.assertEqual(received.message["From"], "no-reply@haven.example")

    @pytest.mark.promise("MAIL-1")
    def test_django_send_mail_refuses_a_relay_without_tls(self):
        with smtp_server(tls="none") as server, relay(server, self.pki, EMAIL_BACKEND=BACKEND):
            with self.assertRaises(TLSUnavailable):
                send_mail("Error report", "Text", None, ["ops@haven.example"])
        self.assertEqual(server.handler.mail_commands, [])
