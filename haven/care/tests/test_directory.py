from unittest import mock

import pytest
from django import forms
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

from haven.care import directory, geo
from haven.care.forms import SearchForm
from haven.care.tests.world import practitioner, world
from haven.privacy.models import LocationPermission
from haven.testing.people import HavenTestCase

HARTFORD = geo.Position(41.7658, -72.6734, geo.Source.ZIP)


class FakeGeoIP:
    """Stands in for a MaxMind database: one address, in Hartford."""

    def get(self, address):
        return (
            {"location": {"latitude": 41.7637, "longitude": -72.6851}}
            if address == "8.8.8.8"
            else None
        )


class DirectorySearchTests(HavenTestCase):
    def setUp(self):
        super().setUp()
        self.world = world(self)
        self.far = practitioner(
            "Marco",
            "Bianchi",
            specialty="cardiology",
            latitude=41.0534,
            longitude=-73.5387,
            city="Stamford",
            postal_code="06901",
            languages=("en", "it"),
            accepting=False,
        )

    def names(self, **query) -> list[str]:
        return [item.last_name for item in directory.search(directory.Query(**query)).items]

    @pytest.mark.promise("CARE-1")
    def test_anyone_finds_practitioners_by_specialty_language_new_patients_and_name(self):
        self.assertEqual(self.names(specialty="cardiology"), ["Bianchi", "Costa"])
        self.assertEqual(self.names(language="it"), ["Bianchi", "Costa"])
        self.assertEqual(self.names(language="ko"), ["Kim"])
        self.assertEqual(self.names(specialty="cardiology", accepting=True), ["Costa"])
        self.assertEqual(self.names(text="ji-woo"), ["Kim"])
        self.assertEqual(self.names(text="jiwoo k"), ["Kim"])
        self.assertEqual(self.names(text="ros cos"), ["Costa"])

    @pytest.mark.promise("CARE-1")
    def test_distance_search_orders_by_distance_and_keeps_to_the_radius(self):
        page = directory.search(directory.Query(position=HARTFORD, radius_miles=50))
        self.assertEqual([item.last_name for item in page.items], ["Kim", "Costa"])
        self.assertAlmostEqual(page.items[1].distance_miles, 34.0, delta=1.5)
        self.assertEqual(self.names(position=HARTFORD, radius_miles=25), ["Kim"])
        stamford = geo.geocode("06901")
        self.assertEqual(self.names(position=stamford, radius_miles=50), ["Bianchi", "Costa"])

    @pytest.mark.promise("CARE-1")
    def test_a_typed_zip_code_town_or_address_is_found_in_the_shipped_table(self):
        self.assertEqual(geo.geocode("06510").label, "06510 (New Haven)")
        self.assertEqual(geo.geocode("new haven").label, "New Haven")
        address = geo.geocode("12 Main St, West Hartford, CT")
        self.assertEqual(address.label, "West Hartford")
        self.assertEqual(
            geo.geocode("20 York Street, New Haven, CT 06510-1234").label, "06510 (New Haven)"
        )
        self.assertIsNone(geo.geocode("Springfield, Illinois"))

    @pytest.mark.promise("CARE-1")
    def test_the_search_page_shows_results_near_a_zip_code_for_anonymous_visitors(self):
        response = self.client.get(reverse("care:search"), {"near": "06103", "radius": 10})
        self.assertContains(response, "Ji-woo Kim, MD")
        self.assertContains(response, "Distances from 06103 (Hartford).")
        self.assertNotContains(response, "Bianchi")

    def test_an_unknown_place_is_explained_and_kept(self):
        response = self.client.get(reverse("care:search"), {"near": "Atlantis"})
        self.assertContains(response, "We could not find “Atlantis”")
        self.assertContains(response, 'value="Atlantis"')

    @pytest.mark.promise("CARE-1")
    def test_facilities_are_found_by_kind_and_distance(self):
        response = self.client.get(
            reverse("care:search"),
            {"kind": "facilities", "facility_kind": "clinic", "near": "Hartford"},
        )
        self.assertContains(response, "Asylum Hill Family Health")

    def test_a_results_page_costs_the_same_few_queries_however_many_results(self):
        for n in range(25):
            practitioner(f"Extra{n}", "Lopez", latitude=41.76 + n / 1000, longitude=-72.67)
        with self.assertNumQueries(3):
            page = directory.search(directory.Query(position=HARTFORD, radius_miles=10))
        self.assertEqual(len(page.items), directory.PAGE_SIZE)

    @pytest.mark.promise("CARE-1")
    def test_a_name_search_lists_each_match_once_by_last_then_first_name_and_pages(self):
        for first in ("Zoe", "Ana", "Élodie"):
            practitioner(first, "Lopez", specialty="dermatology", languages=("en", "es"))
        practitioner("Lopez", "Adler")  # found by the first name
        practitioner("Ji-ho", "Lopez-Park")  # "ji" and "jiho" both start with "ji"
        found = directory.search(directory.Query(text="lop"))
        self.assertEqual(
            [item.display_name for item in found.items],
            [
                "Lopez Adler, MD",
                "Ana Lopez, MD",
                "Élodie Lopez, MD",
                "Zoe Lopez, MD",
                "Ji-ho Lopez-Park, MD",
            ],
        )
        self.assertEqual(found.total, 5)
        self.assertEqual(
            [i.first_name for i in directory.search(directory.Query(text="ji lo")).items],
            ["Ji-ho"],
        )
        self.assertEqual(
            self.names(text="lopez", specialty="dermatology", language="es"), ["Lopez"] * 3
        )
        for n in range(directory.PAGE_SIZE):
            practitioner(f"Extra{n:02}", "Lopez")
        second = directory.search(directory.Query(text="lopez", page=2))
        self.assertEqual(second.total, directory.PAGE_SIZE + 5)
        self.assertEqual(
            [item.first_name for item in second.items],
            ["Extra17", "Extra18", "Extra19", "Zoe", "Ji-ho"],
        )

    def test_result_labels_follow_the_language_of_the_page(self):
        kim = self.world.kim
        for language, specialty, speaks in (
            ("en", "Family medicine", ["English", "Korean"]),
            ("es", "Medicina familiar", ["Inglés", "Coreano"]),
            ("it", "Medicina di famiglia", ["Inglese", "Coreano"]),
            ("en", "Family medicine", ["English", "Korean"]),
        ):
            with translation.override(language):
                self.assertEqual(kim.specialty_label, specialty)
                self.assertEqual(kim.specialty_label, kim.get_specialty_display())
                self.assertEqual(kim.language_labels, speaks)
                self.assertEqual(self.world.clinic.kind_label, self.world.clinic.get_kind_display())

    def test_the_finder_lists_are_the_same_html_as_django_writes_them(self):
        form = SearchForm({"specialty": "cardiology", "language": "es", "radius": "10"})
        for name in ("kind", "specialty", "facility_kind", "language", "radius"):
            django_select = forms.Select(choices=form.fields[name].choices)
            ours = str(form[name])
            theirs = form[name].as_widget(widget=django_select)
            self.assertEqual(ours.replace("\n\n", "\n"), theirs.replace("\n\n", "\n"))
        self.assertIn('<option value="cardiology" selected>', str(form["specialty"]))


class LocationTests(HavenTestCase):
    def setUp(self):
        super().setUp()
        world(self)

    def precise_search(self, **extra):
        data = {"latitude": "41.7640", "longitude": "-72.6800", "permission": "granted"} | extra
        return self.client.post(reverse("care:search"), data)

    @pytest.mark.promise("CON-3")
    def test_the_browser_position_is_used_only_after_permission_which_is_recorded(self):
        self.sign_in(self.alice)
        refused = self.precise_search(permission="")
        self.assertNotContains(refused, "Ji-woo Kim, MD")
        self.assertFalse(LocationPermission.objects.filter(user=self.alice).exists())

        response = self.precise_search()
        self.assertContains(response, "Distances from your current location")
        self.assertContains(response, "Ji-woo Kim, MD")
        permission = LocationPermission.objects.get(user=self.alice)
        self.assertEqual(permission.purpose, "find_doctor")
        self.precise_search(kind="facilities")
        self.assertEqual(
            set(
                LocationPermission.objects.filter(user=self.alice).values_list("purpose", flat=True)
            ),
            {"find_doctor", "find_facility"},
        )

    @pytest.mark.promise("CON-3")
    def test_the_page_asks_the_browser_only_from_a_script_when_the_person_clicks(self):
        response = self.client.get(reverse("care:search"))
        self.assertContains(response, 'src="/static/care/finder.js"')
        self.assertContains(response, 'id="use-my-location" hidden')
        self.assertNotContains(response, "<script>")
        script = apps.get_app_config("care").path + "/static/care/finder.js"
        with open(script, encoding="utf-8") as source:
            code = source.read()
        click = code.index('addEventListener("click"')
        self.assertGreater(code.index("getCurrentPosition"), click)

    @pytest.mark.promise("LOG-6")
    @override_settings(HAVEN_GEOIP_PATH="/geoip/test.mmdb")
    def test_a_signed_in_search_from_the_ip_location_stores_nothing_linking_person_and_place(self):
        self.sign_in(self.alice)
        before = snapshot()
        with mock.patch("haven.care.geo._geoip_reader", return_value=FakeGeoIP()):
            response = self.client.get(reverse("care:search"), REMOTE_ADDR="8.8.8.8")
        self.assertContains(response, "approximate area of your internet connection")
        self.assertContains(response, "Ji-woo Kim, MD")
        after = snapshot()
        changed = {table for table in after if after[table] != before.get(table)}
        # The web log keeps the address (LOG-1) with no account and, checked below, no place.
        self.assertLessEqual(
            changed, {"django_session", "accounts_usersession", "security_webrequest"}
        )
        written = repr(
            {table: sorted(set(after[table]) - set(before.get(table, []))) for table in changed}
        )
        for coordinate in ("41.76", "72.68", "41.7637", "72.6851"):
            self.assertNotIn(coordinate, written)
        session = self.client.session
        self.assertNotIn("41.76", repr(dict(session.items())))

    @pytest.mark.promise("LOG-6")
    @override_settings(HAVEN_GEOIP_PATH="/geoip/test.mmdb")
    def test_the_approximate_location_can_be_turned_off(self):
        with mock.patch("haven.care.geo._geoip_reader", return_value=FakeGeoIP()):
            response = self.client.get(
                reverse("care:search"), {"approximate": "off", "q": "kim"}, REMOTE_ADDR="8.8.8.8"
            )
        self.assertNotContains(response, "approximate area")
        self.assertContains(response, "Ji-woo Kim, MD")

    def test_without_a_geoip_database_there_is_no_approximate_location(self):
        self.assertIsNone(geo.approximate_position("8.8.8.8"))
        geo.geoip_check()  # nothing configured, nothing to complain about

    @pytest.mark.promise("LOG-6")
    def test_a_geoip_path_without_its_reader_fails_loudly(self):
        geo._geoip_reader.cache_clear()
        with (
            override_settings(HAVEN_GEOIP_PATH="/geoip/test.mmdb"),
            mock.patch.dict("sys.modules", {"maxminddb": None}),  # as if not installed
        ):
            with self.assertRaisesMessage(ImproperlyConfigured, "maxminddb"):
                geo.geoip_check()
            with self.assertRaises(ImproperlyConfigured):
                self.client.get(reverse("care:search"), REMOTE_ADDR="8.8.8.8")
        geo._geoip_reader.cache_clear()

    def test_a_geoip_path_that_cannot_be_opened_fails_loudly(self):
        geo._geoip_reader.cache_clear()
        reader = mock.Mock()
        reader.open_database.side_effect = FileNotFoundError("/geoip/missing.mmdb")
        with (
            override_settings(HAVEN_GEOIP_PATH="/geoip/missing.mmdb"),
            mock.patch.dict("sys.modules", {"maxminddb": reader}),
        ):
            with self.assertRaisesMessage(ImproperlyConfigured, "/geoip/missing.mmdb"):
                geo.geoip_check()
        geo._geoip_reader.cache_clear()


def snapshot() -> dict[str, list]:
    """Every row of every table, to see what a request wrote."""
    rows = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - table names from introspection
            rows[table] = sorted(map(repr, cursor.fetchall()))
    return rows
