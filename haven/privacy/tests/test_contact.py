"""RIG-5: the privacy officer is reached by form, e-mail, phone and post, all shown."""

import pytest
from django.urls import reverse

from haven.privacy import facts
from haven.privacy.models import Inquiry
from haven.testing.people import HavenTestCase


class ContactTests(HavenTestCase):
    @pytest.mark.promise("RIG-5")
    def test_the_contact_page_shows_email_phone_post_and_a_form(self):
        officer = facts.privacy_officer()
        page = self.client.get(reverse("privacy:contact"))
        self.assertContains(page, f'href="mailto:{officer["email"]}"')
        self.assertContains(page, officer["phone"])
        self.assertContains(page, "Attn: Privacy Officer")
        self.assertContains(page, 'name="message"')

    @pytest.mark.promise("RIG-5")
    def test_a_question_sent_with_the_form_reaches_the_officer(self):
        self.client.post(
            reverse("privacy:contact"),
            {"name": "Ana", "email": "ana@example.org", "message": "Who sees my claims?"},
        )
        self.assertEqual(Inquiry.objects.get().message, "Who sees my claims?")
        officer = self.sign_in(self.privacy_officer, self.client_class())
        page = officer.get(reverse("privacy:staff_inquiries"))
        self.assertContains(page, "Who sees my claims?")
        officer.post(reverse("privacy:staff_inquiries"), {"inquiry": Inquiry.objects.get().pk})
        self.assertIsNotNone(Inquiry.objects.get().answered_by)

    @pytest.mark.promise("RIG-5")
    def test_a_bad_form_keeps_what_was_typed_and_says_what_is_wrong(self):
        page = self.client.post(
            reverse("privacy:contact"), {"name": "Ana", "email": "not-an-address", "message": "Hi"}
        )
        self.assertContains(page, "Enter a valid email address.")
        self.assertContains(page, 'value="Ana"')
        self.assertFalse(Inquiry.objects.exists())
