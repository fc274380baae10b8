import pytest
from django.template import Context, Template
from django.urls import reverse

from haven.care import links
from haven.care.tests.world import world
from haven.testing.people import HavenTestCase


class LeavingTests(HavenTestCase):
    @pytest.mark.promise("SEC-3")
    def test_a_link_to_another_site_goes_through_the_leaving_notice(self):
        html = Template("{% load leaving %}{% external_link url %}").render(
            Context({"url": "https://example.org/practice"})
        )
        self.assertIn('href="/care/leaving/?to=', html)
        self.assertNotIn('href="https://example.org', html)
        path = html.split('href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
        page = self.client.get(path)
        self.assertContains(page, "You are leaving Haven")
        self.assertContains(page, "has its own privacy policy")
        self.assertContains(
            page, 'href="https://example.org/practice" rel="noopener noreferrer external"'
        )

    @pytest.mark.promise("SEC-3")
    def test_practice_websites_in_the_directory_leave_through_the_notice(self):
        kim = world(self).kim
        page = self.client.get(reverse("care:practitioner", args=[kim.pk]))
        self.assertContains(page, f'href="{links.leaving_url(kim.website)}"'.replace("&", "&amp;"))
        self.assertNotContains(page, 'href="https://example.org/practice"')

    @pytest.mark.promise("SEC-3")
    def test_the_leaving_page_sends_nowhere_that_haven_did_not_sign(self):
        forged = links.leaving_token("https://example.org")[:-3] + "abc"
        self.assertEqual(self.client.get(reverse("care:leaving"), {"to": forged}).status_code, 400)
        self.assertEqual(
            self.client.get(reverse("care:leaving"), {"to": "https://evil.example"}).status_code,
            400,
        )
        self.assertIsNone(links.read_leaving_token(links.leaving_token("javascript:alert(1)")))
        with self.assertRaises(ValueError):
            links.leaving_url("/care/")
