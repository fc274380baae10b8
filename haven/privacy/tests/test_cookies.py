"""CON-4, CON-5, CON-7: essential cookies only until the visitor agrees, refusing keeps everything
working, analytics can be turned off, and GPC and Do Not Track are honoured without asking."""

import io
import json

import pytest
from django.core.management import call_command
from django.test import RequestFactory
from django.urls import reverse

from haven.privacy import services
from haven.privacy.models import ConsentRecord, PageViewCount, ReferrerCount, Subject
from haven.testing.people import HavenTestCase

CHOICE = services.CHOICE_COOKIE


def request_with(client, **headers):
    request = RequestFactory().get("/", **headers)
    request.COOKIES = {name: morsel.value for name, morsel in client.cookies.items()}
    return request


class CookieTests(HavenTestCase):
    @pytest.mark.promise("CON-4")
    def test_the_banner_shows_until_a_choice_and_no_optional_cookie_is_set_before(self):
        page = self.client.get(reverse("privacy:center"))
        self.assertContains(page, 'id="cookie-banner-title"', count=1)
        self.assertNotIn(CHOICE, page.cookies)
        self.assertFalse(services.analytics_allowed(request_with(self.client)))

    @pytest.mark.promise("CON-4")
    def test_the_banner_offers_only_what_haven_uses(self):
        page = self.client.get(reverse("privacy:cookies"))
        for name in ("haven_session", "csrftoken", "haven_language", "messages", CHOICE):
            self.assertContains(page, f"<code>{name}</code>")
        self.assertContains(page, "daily totals of how often each page of the site is viewed")
        self.assertContains(page, "It sets no cookie of its own")
        self.assertContains(page, "<code>", count=5)

    @pytest.mark.promise("CON-4")
    @pytest.mark.promise("CON-5")
    def test_refusing_analytics_keeps_signing_in_and_every_page_working(self):
        response = self.client.post(
            reverse("privacy:cookies"), {"choice": "essential", "next": reverse("privacy:center")}
        )
        self.assertRedirects(response, reverse("privacy:center"))
        self.assertFalse(services.analytics_allowed(request_with(self.client)))
        page = self.client.get(reverse("privacy:center"))
        self.assertNotContains(page, 'id="cookie-banner-title"')
        login = self.client.post(
            reverse("accounts:login"),
            {"username": "alice", "password": "correct horse battery staple"},
        )
        self.assertEqual(login.status_code, 302)
        self.assertEqual(self.client.get(reverse("privacy:preferences")).status_code, 200)
        record = ConsentRecord.objects.get(subject=Subject.ANALYTICS)
        self.assertFalse(record.given)
        self.assertTrue(record.visitor)

    @pytest.mark.promise("CON-5")
    def test_analytics_allowed_then_turned_off_again(self):
        self.client.post(reverse("privacy:cookies"), {"choice": "accept"})
        self.assertTrue(services.analytics_allowed(request_with(self.client)))
        self.client.post(reverse("privacy:cookies"), {"analytics": ""})
        self.assertFalse(services.analytics_allowed(request_with(self.client)))
        decisions = list(
            ConsentRecord.objects.filter(subject=Subject.ANALYTICS)
            .order_by("pk")
            .values_list("given", flat=True)
        )
        self.assertEqual(decisions, [True, False])

    @pytest.mark.promise("CON-4")
    def test_a_forged_choice_cookie_counts_as_no_choice(self):
        self.client.cookies[CHOICE] = "a=1"
        self.assertFalse(services.analytics_allowed(request_with(self.client)))

    @pytest.mark.promise("CON-7")
    def test_gpc_and_dnt_are_an_opt_out_without_asking(self):
        for header in ({"HTTP_SEC_GPC": "1"}, {"HTTP_DNT": "1"}):
            client = self.client_class()
            page = client.get(reverse("privacy:center"), **header)
            self.assertNotContains(page, 'id="cookie-banner-title"')
            self.assertFalse(services.analytics_allowed(request_with(client, **header)))
            self.assertContains(client.get(reverse("privacy:cookies"), **header), "We honour it")

    @pytest.mark.promise("CON-7")
    def test_an_earlier_yes_gives_way_to_a_gpc_signal(self):
        self.client.post(reverse("privacy:cookies"), {"choice": "accept"})
        self.assertFalse(services.analytics_allowed(request_with(self.client, HTTP_SEC_GPC="1")))

    @pytest.mark.promise("CON-7")
    def test_a_choice_against_the_signal_is_confirmed_and_recorded(self):
        self.sign_in(self.alice)
        first = self.client.post(reverse("privacy:cookies"), {"choice": "accept"}, HTTP_SEC_GPC="1")
        self.assertContains(first, "Global Privacy Control")
        self.assertFalse(ConsentRecord.objects.filter(subject=Subject.ANALYTICS).exists())
        self.client.post(
            reverse("privacy:cookies"), {"analytics": "on", "confirm": "True"}, HTTP_SEC_GPC="1"
        )
        record = ConsentRecord.objects.get(subject=Subject.ANALYTICS)
        self.assertTrue(record.given)
        self.assertEqual(record.signal, "gpc")
        self.assertTrue(record.confirmed_against_signal)
        self.assertEqual(record.user, self.alice)
        self.assertTrue(services.analytics_allowed(request_with(self.client, HTTP_SEC_GPC="1")))

    @pytest.mark.promise("CON-7")
    def test_gpc_json_is_published(self):
        response = self.client.get("/.well-known/gpc.json")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "application/json")
        self.assertIs(json.loads(response.content)["gpc"], True)

    def test_the_page_to_go_back_to_is_only_ever_a_path_on_this_site(self):
        # Found by wapiti (make security): a `next` that was not a path gave a 500.
        for junk, expected in [
            ("junk", reverse("privacy:cookies")),
            ("privacy:notice_current", reverse("privacy:cookies")),
            ("https://evil.example/", reverse("privacy:cookies")),
            ("//evil.example/", reverse("privacy:cookies")),
            ("/care/", "/care/"),
        ]:
            response = self.client.post(
                reverse("privacy:cookies"), {"choice": "essential", "next": junk}
            )
            self.assertEqual((response.status_code, response["Location"]), (302, expected), junk)


class PageViewCounterTests(HavenTestCase):
    """The analytics the banner offers exist, and only count for those who allowed them."""

    def counts(self) -> dict[str, int]:
        return dict(PageViewCount.objects.values_list("page", "views"))

    @pytest.mark.promise("CON-4")
    @pytest.mark.promise("CON-5")
    def test_nothing_is_counted_until_the_visitor_agrees_then_pages_are_counted_by_name(self):
        self.client.get(reverse("privacy:center"))
        self.assertEqual(self.counts(), {})
        response = self.client.post(reverse("privacy:cookies"), {"choice": "accept"})
        # Every cookie set is one the cookies page lists as essential; none is for counting.
        self.assertEqual(set(response.cookies), {CHOICE, "messages"})
        self.client.get(reverse("privacy:center"))
        page = self.client.get(reverse("privacy:center"))
        self.client.get(reverse("privacy:recipients"))
        self.assertEqual(self.counts(), {"privacy:center": 2, "privacy:recipients": 1})
        # No cookie of its own: the only cookies set are the essential ones.
        self.assertFalse(set(page.cookies) - {CHOICE, "messages", "csrftoken", "haven_session"})
        fields = {field.name for field in PageViewCount._meta.get_fields()}
        self.assertEqual(fields, {"id", "day", "page", "views", "entries", "seconds", "timed"})
        out = io.StringIO()
        call_command("privacy", "pageviews", stdout=out)
        self.assertRegex(out.getvalue(), r"\s2\s+\d+\s+0  privacy:center")

    @pytest.mark.promise("CON-5")
    def test_a_page_with_an_identifier_in_its_address_is_counted_by_its_name_only(self):
        self.sign_in(self.alice)
        self.client.post(reverse("privacy:cookies"), {"choice": "accept"})
        made = services.rights_request_create(
            kind="access", requester=self.alice, member=self.alice_member, identity="password"
        )
        path = reverse("privacy:request_detail", kwargs={"pk": made.pk})
        self.assertEqual(self.client.get(path).status_code, 200)
        self.assertEqual(self.counts(), {"privacy:request_detail": 1})
        self.assertFalse(PageViewCount.objects.filter(page__contains=str(made.pk)).exists())

    @pytest.mark.promise("CON-5")
    @pytest.mark.promise("CON-7")
    def test_turning_analytics_off_or_sending_gpc_stops_the_counting(self):
        self.client.post(reverse("privacy:cookies"), {"choice": "accept"})
        self.client.get(reverse("privacy:center"))
        self.client.get(reverse("privacy:center"), HTTP_SEC_GPC="1")
        self.client.get(reverse("privacy:center"), HTTP_DNT="1")
        self.assertEqual(self.counts(), {"privacy:center": 1})
        self.client.post(reverse("privacy:cookies"), {"analytics": ""})
        self.client.get(reverse("privacy:center"))
        self.assertEqual(self.counts(), {"privacy:center": 1})


class SiteStatisticsTests(HavenTestCase):
    """Visits, pages, referrers and time on page, in daily totals that identify nobody (LOG-2)."""

    def setUp(self):
        super().setUp()
        self.client.post(reverse("privacy:cookies"), {"choice": "accept"})

    @pytest.mark.promise("LOG-2")
    def test_a_visit_is_counted_where_it_began_with_the_referring_domain_only(self):
        self.client.get(
            reverse("privacy:center"), HTTP_REFERER="https://search.example/results?q=knee+pain"
        )
        self.client.get(reverse("privacy:recipients"), HTTP_REFERER="http://testserver/privacy/")
        rows = {row.page: (row.views, row.entries) for row in PageViewCount.objects.all()}
        self.assertEqual(rows, {"privacy:center": (1, 1), "privacy:recipients": (1, 0)})
        self.assertEqual(
            list(ReferrerCount.objects.values_list("domain", "visits")), [("search.example", 1)]
        )
        self.assertEqual(
            {field.name for field in ReferrerCount._meta.get_fields()},
            {"id", "day", "domain", "visits"},
        )

    @pytest.mark.promise("LOG-2")
    def test_time_on_page_is_added_to_the_days_total_and_capped(self):
        page = self.client.get(reverse("privacy:center"))
        self.assertContains(page, 'data-analytics-page="privacy:center"')
        url = reverse("privacy:page_time")
        self.assertEqual(
            self.client.post(url, {"page": "privacy:center", "seconds": "42"}).status_code, 204
        )
        self.client.post(url, {"page": "privacy:center", "seconds": "999999"})
        self.client.post(url, {"page": "privacy:recipients", "seconds": "30"})  # not viewed today
        self.assertEqual(
            self.client.post(url, {"page": "privacy:center", "seconds": "x"}).status_code, 400
        )
        row = PageViewCount.objects.get(page="privacy:center")
        self.assertEqual((row.seconds, row.timed), (42 + services.PAGE_TIME_LIMIT_SECONDS, 2))
        self.assertFalse(PageViewCount.objects.filter(page="privacy:recipients").exists())

    @pytest.mark.promise("LOG-2")
    def test_without_agreement_or_under_gpc_nothing_is_marked_or_counted(self):
        self.client.get(reverse("privacy:center"))
        self.client.post(reverse("privacy:cookies"), {"analytics": ""})
        page = self.client.get(reverse("privacy:center"), HTTP_REFERER="https://search.example/")
        self.assertNotContains(page, "data-analytics-page")
        self.client.post(reverse("privacy:page_time"), {"page": "privacy:center", "seconds": "42"})
        gpc = self.client.get(reverse("privacy:center"), HTTP_SEC_GPC="1")
        self.assertNotContains(gpc, "data-analytics-page")
        row = PageViewCount.objects.get(page="privacy:center")
        self.assertEqual((row.views, row.seconds), (1, 0))
        self.assertFalse(ReferrerCount.objects.exists())
