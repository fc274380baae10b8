"""MAIL-6 and SEC-4: our own domain, links only to our site, never a request for passwords or cards."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from haven.mail.emails import TEMPLATES, render_email
from haven.mail.models import Category, OutgoingEmail
from haven.mail.services import build_message, outbox_enqueue, secure_message_notify
from haven.mail.tests.mailtest import MailTestCase

SITE = "http://127.0.0.1:8000/"
LANGUAGES = ("en", "es", "it")
TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates" / "mail" / "email"

# Asking for a secret: a request verb close before the secret, in each language.
ASKS_FOR_SECRETS = {
    "en": re.compile(
        r"\b(send|reply with|enter|type|confirm|verify|update|provide|give us|tell us)\b[^.\n]{0,40}"
        r"\b(password|card number|credit card|PIN|security code|CVV)",
        re.IGNORECASE,
    ),
    "es": re.compile(
        r"\b(envíe|envíenos|responda con|introduzca|ingrese|escriba|confirme|verifique|actualice|"
        r"facilite|proporcione|indíquenos)\b[^.\n]{0,40}"
        r"\b(contraseña|número de (la )?tarjeta|tarjeta de crédito|PIN|código de seguridad)",
        re.IGNORECASE,
    ),
    "it": re.compile(
        r"\b(invii|inviaci|ci invii|risponda con|inserisca|digiti|confermi|verifichi|aggiorni|"
        r"fornisca|comunichi|ci indichi)\b[^.\n]{0,40}"
        r"\b(password|numero della carta|numero di carta|carta di credito|PIN|codice di sicurezza)",
        re.IGNORECASE,
    ),
}
# The only values a template may show: fixed by emails.render_email, never chosen by a caller.
FIXED_CONTEXT = {
    "site_name",
    "organisation_name",
    "site_url",
    "link",
    "link_expires_at",
    "genuine_url",
    "unsubscribe_url",
    "tracking_url",
    "own_words",
    "date",
    "time",
    "LANGUAGE_CODE",
}


def every_rendering():
    for name, template in TEMPLATES.items():
        for category in sorted(template.categories):
            for language in LANGUAGES:
                rendered = render_email(
                    name,
                    category=category,
                    link_path="/mail/portal/open/token/",
                    language=language,
                    unsubscribe_url=f"{SITE}mail/unsubscribe/token/",
                    tracking_url=f"{SITE}mail/t/token.gif",
                    link_expires_at=timezone.now() + timedelta(days=14),
                    own_words="(their reply)" if template.carries_own_words else "",
                )
                yield name, category, language, rendered


class HygieneTests(MailTestCase):
    @pytest.mark.promise("MAIL-6")
    def test_every_email_template_links_only_to_havens_own_site(self):
        checked = 0
        for name, _category, language, rendered in every_rendering():
            urls = re.findall(r"https?://[^\s\"'<>]+", rendered.text_body + rendered.html_body)
            self.assertTrue(urls, f"{name} in {language} has no link to Haven")
            for url in urls:
                self.assertTrue(url.startswith(SITE), f"{name} ({language}) links to {url}")
            for attribute in re.findall(r'(?:href|src)="([^"]+)"', rendered.html_body):
                self.assertTrue(attribute.startswith(SITE), f"{name} ({language}): {attribute}")
            checked += 1
        self.assertGreaterEqual(checked, len(TEMPLATES) * len(LANGUAGES))

    def test_a_link_path_outside_haven_is_refused(self):
        for path in ("https://evil.test/", "//evil.test/x", "evil"):
            with self.assertRaises(ValueError):
                render_email(
                    "secure_message_waiting",
                    category=Category.NOTIFICATION,
                    link_path=path,
                    language="en",
                )

    @pytest.mark.promise("MAIL-6")
    def test_no_email_asks_for_passwords_or_card_numbers_in_any_language(self):
        for name, _category, language, rendered in every_rendering():
            text = (
                rendered.subject
                + "\n"
                + rendered.text_body
                + "\n"
                + re.sub(r"<[^>]+>", " ", rendered.html_body)
            )
            match = ASKS_FOR_SECRETS[language].search(text)
            self.assertIsNone(match, f"{name} ({language}) asks: {match and match.group(0)}")

    def test_the_scan_would_catch_a_request_in_each_language(self):
        self.assertTrue(ASKS_FOR_SECRETS["en"].search("Please reply with your password."))
        self.assertTrue(ASKS_FOR_SECRETS["es"].search("Envíenos el número de la tarjeta."))
        self.assertTrue(ASKS_FOR_SECRETS["it"].search("Inserisca la password qui."))

    @pytest.mark.promise("MAIL-6")
    def test_templates_show_only_fixed_values_so_no_health_information_can_reach_a_body(self):
        for path in TEMPLATE_DIR.iterdir():
            source = path.read_text()
            names = {
                match.split("|")[0].split(".")[0].strip()
                for match in re.findall(r"{{\s*([^}]+?)\s*}}", source)
            }
            names |= set(re.findall(r"with (\w+)=", source))
            self.assertLessEqual(names, FIXED_CONTEXT, path.name)
        own_words = [t.name for t in TEMPLATES.values() if t.carries_own_words]
        self.assertEqual(own_words, ["portal_reply_copy"])

    @pytest.mark.promise("MAIL-6")
    def test_email_comes_from_the_configured_domain_whoever_sends_it(self):
        with self.settings(HAVEN_MAIL_FROM_DOMAIN="mail.haven-health.test"):
            email = secure_message_notify(user=self.alice, link_path="/", idempotency_key="from-1")
            message = build_message(email)
        self.assertEqual(message["From"], "Haven <no-reply@mail.haven-health.test>")
        self.assertTrue(message["Message-ID"].endswith("@mail.haven-health.test>"))

    @pytest.mark.promise("MAIL-6")
    def test_email_to_a_user_goes_only_to_the_address_they_gave(self):
        email = secure_message_notify(user=self.alice, link_path="/", idempotency_key="addr-1")
        self.assertEqual(email.to_address, "alice@example.org")
        with self.assertRaises(ValueError):
            outbox_enqueue(
                to_address="someone-else@example.org",
                subject="s",
                text_body="t",
                category=Category.REGISTRATION,
                user=self.alice,
                reason="test",
                idempotency_key="addr-2",
            )
        self.assertEqual(OutgoingEmail.objects.count(), 1)
        self.assertIsNone(
            secure_message_notify(user=self.maria, link_path="/", idempotency_key="no-address")
        )

    @pytest.mark.promise("SEC-4")
    @pytest.mark.promise("MAIL-6")
    def test_a_public_page_explains_genuine_email_and_phishing_in_three_languages(self):
        headings = {
            "en": "Genuine e-mail from us, and phishing",
            "es": "Cómo reconocer nuestro correo auténtico y el phishing",
            "it": "Come riconoscere le nostre e-mail autentiche e il phishing",
        }
        for language, heading in headings.items():
            response = self.client.get("/mail/genuine/", headers={"accept-language": language})
            self.assertEqual(response.status_code, 200)
            self.assertContains(response, heading)
            self.assertContains(response, "no-reply@haven.example")
            self.assertContains(response, "http://127.0.0.1:8000")
