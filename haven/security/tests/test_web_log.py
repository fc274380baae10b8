"""Every request is in the web log, without account or search terms, for its retention (LOG-1)."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from haven.security.models import WebRequest
from haven.security.services import describe_user_agent
from haven.testing.people import HavenTestCase

FIREFOX_ON_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
)
SAFARI_ON_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
EDGE_ON_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0"
)


class WebLogTests(HavenTestCase):
    @pytest.mark.promise("LOG-1")
    def test_a_request_is_logged_with_domain_address_browser_system_time_page_and_referrer(self):
        self.client.get(
            reverse("care:search") + "?q=cardiology",
            HTTP_USER_AGENT=FIREFOX_ON_WINDOWS,
            HTTP_REFERER="https://search.example/results?q=heart+doctor",
            REMOTE_ADDR="203.0.113.7",
        )
        line = WebRequest.objects.get()
        self.assertEqual(
            (line.host, line.address, line.browser, line.operating_system, line.method),
            ("testserver", "203.0.113.7", "Firefox", "Windows", "GET"),
        )
        self.assertEqual(line.path, reverse("care:search"))
        # Search terms are left out of the page and the referrer alike.
        self.assertEqual(line.referrer, "https://search.example/results")
        self.assertLess(timezone.now() - line.at, timedelta(minutes=1))

    @pytest.mark.promise("LOG-1")
    def test_pages_are_logged_by_their_pattern_so_no_slug_or_number_says_what_was_read(self):
        self.client.get("/care/practitioners/4711/", REMOTE_ADDR="203.0.113.8")
        self.client.get("/library/programmes/quit-smoking/", REMOTE_ADDR="203.0.113.8")
        self.client.get("/no/such/page/", REMOTE_ADDR="203.0.113.8")
        paths = list(WebRequest.objects.order_by("pk").values_list("path", flat=True))
        self.assertEqual(
            paths,
            [
                "/care/practitioners/<int:pk>/",
                "/library/programmes/<slug:slug>/",
                "/no/such/page/",
            ],
        )

    def test_browsers_and_systems_are_named_by_family(self):
        self.assertEqual(describe_user_agent(SAFARI_ON_IPHONE), ("Safari", "iOS"))
        self.assertEqual(describe_user_agent(EDGE_ON_MAC), ("Edge", "macOS"))
        self.assertEqual(describe_user_agent(""), ("other", "other"))

    @pytest.mark.promise("LOG-1")
    def test_only_security_staff_read_the_log(self):
        self.client.get("/", REMOTE_ADDR="198.51.100.9")
        self.sign_in(self.nurse)
        self.assertEqual(self.client.get(reverse("security:web_log")).status_code, 403)
        self.sign_in(self.administrator)
        page = self.client.get(reverse("security:web_log"), {"address": "198.51.100.9"})
        self.assertContains(page, "198.51.100.9")

    @pytest.mark.promise("LOG-1")
    @pytest.mark.promise("LOG-5")
    @override_settings(HAVEN_WEBLOG_RETENTION_DAYS=30)
    def test_lines_past_the_retention_period_are_erased_by_the_nightly_purge(self):
        now = timezone.now()
        for age in (45, 31, 29, 1):
            WebRequest.objects.create(
                at=now - timedelta(days=age),
                host="haven.example",
                address="192.0.2.1",
                browser="Chrome",
                operating_system="Linux",
                method="GET",
                path=f"/{age}/",
                status=200,
            )
        call_command("security", "purge")
        kept = sorted(
            WebRequest.objects.filter(host="haven.example").values_list("path", flat=True)
        )
        self.assertEqual(kept, ["/1/", "/29/"])
