"""MAIL-2: a recipient domain that cannot receive over TLS gets the portal and a link, never clear text."""

import re
from contextlib import ExitStack

import pytest
from django.test import override_settings

from haven.mail.models import OutgoingEmail, PortalMessage
from haven.mail.services import secure_message_notify
from haven.mail.tests.mailtest import MailTestCase, run_outbox
from haven.mail.tests.smtp_servers import https_server, smtp_server

Status = OutgoingEmail.Status
BODY_SENTENCE = "You have a new secure message in your Haven inbox."


class DirectDeliveryTests(MailTestCase):
    def start(self, stack: ExitStack, *, relay_tls="starttls", policies=None):
        """A TLS relay, a clear-text-only domain, a TLS domain, and an MTA-STS policy server."""
        self.relay = stack.enter_context(smtp_server(pki=self.pki, tls=relay_tls))
        self.plain = stack.enter_context(smtp_server(tls="none"))
        self.tls_domain = stack.enter_context(smtp_server(pki=self.pki))
        pages = {f"/{domain}/mta-sts.txt": text for domain, text in (policies or {}).items()}
        policy_port = stack.enter_context(https_server(self.pki, pages))
        stack.enter_context(
            override_settings(
                HAVEN_MAIL_DELIVERY="direct",
                HAVEN_MAIL_ROUTES={
                    "plain.test": self.plain.route,
                    "tls.test": self.tls_domain.route,
                },
                HAVEN_MAIL_MTA_STS_URL=f"https://localhost:{policy_port}/{{domain}}/mta-sts.txt",
                HAVEN_SMTP_HOST="localhost",
                HAVEN_SMTP_PORT=self.relay.port,
                HAVEN_SMTP_TLS=relay_tls,
                HAVEN_SMTP_CA_FILE=self.pki.ca_file,
                HAVEN_SMTP_TIMEOUT=5,
            )
        )

    def notify(self, address: str) -> OutgoingEmail:
        self.alice.email = address
        self.alice.save(update_fields=["email"])
        return secure_message_notify(user=self.alice, link_path="/", idempotency_key=address)

    @pytest.mark.promise("MAIL-2")
    @pytest.mark.promise("MAIL-1")
    def test_a_domain_without_tls_gets_the_body_in_the_portal_and_only_a_link_over_tls(self):
        with ExitStack() as stack:
            self.start(stack)
            email = self.notify("alice@plain.test")
            run_outbox()
        email.refresh_from_db()
        self.assertEqual(email.status, Status.PORTAL)
        self.assertIn("does not offer STARTTLS", email.last_error)
        # Nothing at all was said in clear text to the domain without TLS.
        self.assertEqual(self.plain.handler.mail_commands, [])
        self.assertEqual(self.plain.received, [])
        # The body waits in the portal.
        kept = PortalMessage.objects.get(diverted_email=email)
        self.assertIn(BODY_SENTENCE, kept.body)
        self.assertEqual(kept.conversation.recipient.address, "alice@plain.test")
        # The recipient gets only the notification with a link, through the relay, over TLS.
        self.assertEqual(len(self.relay.received), 1)
        notice = self.relay.received[0]
        self.assertTrue(notice.over_tls)
        self.assertEqual(notice.rcpt_tos, ["alice@plain.test"])
        text = notice.text()
        self.assertNotIn(BODY_SENTENCE, text)
        self.assertRegex(text, r"http://127\.0\.0\.1:8000/mail/portal/open/[^/\s]+/")
        self.assertNotIn("alice@plain.test", re.findall(r"https?://\S+", text)[0])

    @pytest.mark.promise("MAIL-2")
    @pytest.mark.promise("MAIL-1")
    def test_a_domain_with_tls_gets_the_email_directly_over_tls(self):
        with ExitStack() as stack:
            self.start(stack)
            email = self.notify("alice@tls.test")
            run_outbox()
        email.refresh_from_db()
        self.assertEqual(email.status, Status.SENT)
        self.assertEqual([r.over_tls for r in self.tls_domain.received], [True])
        self.assertEqual(self.relay.received, [])
        self.assertFalse(PortalMessage.objects.exists())

    @pytest.mark.promise("MAIL-2")
    def test_an_enforced_mta_sts_policy_naming_other_servers_sends_the_body_to_the_portal(self):
        policy = "version: STSv1\nmode: enforce\nmx: mx.tls.test\nmax_age: 86400\n"
        with ExitStack() as stack:
            self.start(stack, policies={"tls.test": policy})
            email = self.notify("alice@tls.test")
            run_outbox()
        email.refresh_from_db()
        self.assertEqual(email.status, Status.PORTAL)
        self.assertIn("MTA-STS", email.last_error)
        self.assertEqual(self.tls_domain.handler.mail_commands, [])
        self.assertEqual(len(self.relay.received), 1)

    @pytest.mark.promise("MAIL-2")
    def test_an_mta_sts_policy_that_names_the_server_lets_the_email_through(self):
        policy = "version: STSv1\nmode: enforce\nmx: localhost\nmax_age: 86400\n"
        with ExitStack() as stack:
            self.start(stack, policies={"tls.test": policy})
            email = self.notify("alice@tls.test")
            run_outbox()
        email.refresh_from_db()
        self.assertEqual(email.status, Status.SENT)
        self.assertEqual(len(self.tls_domain.received), 1)

    @pytest.mark.promise("MAIL-2")
    @pytest.mark.promise("MAIL-1")
    def test_when_even_the_notification_cannot_go_over_tls_nothing_goes_and_staff_see_it(self):
        with ExitStack() as stack:
            self.start(stack)
            # The relay, too, offers no TLS.
            clear_relay = stack.enter_context(smtp_server(tls="none"))
            stack.enter_context(
                override_settings(
                    HAVEN_SMTP_PORT=clear_relay.port,
                    HAVEN_MAIL_MAX_ATTEMPTS=1,
                )
            )
            email = self.notify("alice@plain.test")
            run_outbox()
        email.refresh_from_db()
        self.assertEqual(email.status, Status.PORTAL)
        notice = OutgoingEmail.objects.exclude(pk=email.pk).get()
        self.assertEqual(notice.status, Status.FAILED)
        self.assertIn("STARTTLS", notice.last_error)
        self.assertEqual(clear_relay.handler.mail_commands, [])
        self.assertEqual(self.plain.handler.mail_commands, [])
        self.sign_in(self.administrator)
        response = self.client.get("/mail/outbox/?status=failed")
        self.assertContains(response, "alice@plain.test")
