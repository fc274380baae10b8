from datetime import date

import pytest
from django.apps import apps
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import override_settings
from django.urls import reverse

from haven.accounts.models import User
from haven.lib.hashing import lookup_hash
from haven.producers.models import TAX_ID_PURPOSE, Producer, tax_id_digits
from haven.testing.people import HavenTestCase, years_ago

STRONG_PASSWORD = "lantern orchard copper 42"


def registration(**changes) -> dict:
    data = {
        "kind": "individual",
        "legal_name": "Rosa Delgado Ortiz",
        "agency_name": "",
        "first_name": "Rosa",
        "last_name": "Delgado",
        "date_of_birth": years_ago(45).isoformat(),
        "tax_id": "123-45-6789",
        "licence_number": "ct 2451 887",
        "licence_region": "CT",
        "address_line": "100 Pearl St",
        "city": "Hartford",
        "region": "CT",
        "postal_code": "06103",
        "phone": "(860) 555-0142",
        "email": "rosa@delgado-insurance.example",
        "username": "rosa.delgado",
        "password1": STRONG_PASSWORD,
        "password2": STRONG_PASSWORD,
    }
    return data | changes


def every_stored_value() -> str:
    """Every value in every table, sessions decoded, as one text to search."""
    values = []
    tables = set(connection.introspection.table_names())
    for model in apps.get_models():
        if model._meta.db_table not in tables:
            continue  # an app whose migration is still being written stores nothing yet
        for row in model._default_manager.values_list():
            values.extend(str(value) for value in row)
    values.extend(str(session.get_decoded()) for session in Session.objects.all())
    return "\n".join(values)


class RegistrationTests(HavenTestCase):
    url = reverse("producers:register")

    def register(self, **changes):
        return self.client.post(self.url, registration(**changes))

    @pytest.mark.promise("ACC-2")
    def test_registration_creates_a_pending_producer_and_signs_them_in(self):
        response = self.register()
        self.assertRedirects(response, reverse("producers:status"))
        producer = Producer.objects.select_related("user").get(user__username="rosa.delgado")
        self.assertEqual(producer.status, Producer.Status.PENDING)
        self.assertIsNone(producer.reviewed_by)
        self.assertEqual(producer.user.kind, User.Kind.PRODUCER)
        self.assertEqual(producer.user.email, "rosa@delgado-insurance.example")
        self.assertEqual(producer.user.phone, "(860) 555-0142")
        self.assertEqual((producer.user.first_name, producer.user.last_name), ("Rosa", "Delgado"))
        self.assertEqual(producer.licence_number, "CT 2451 887")
        self.assertEqual(producer.date_of_birth, years_ago(45))
        self.assertTrue(producer.user.check_password(STRONG_PASSWORD))
        page = self.client.get(reverse("producers:status"))
        self.assertContains(page, "Waiting for approval")
        self.assertEqual(page.context["user"], producer.user)

    @pytest.mark.promise("ACC-2")
    def test_the_tax_id_is_kept_only_as_a_keyed_hash_and_its_last_four_digits(self):
        self.register(tax_id="98-7654321")
        producer = Producer.objects.get(user__username="rosa.delgado")
        self.assertEqual(producer.tax_id_hash, lookup_hash("987654321", purpose=TAX_ID_PURPOSE))
        self.assertEqual(producer.tax_id_last4, "4321")
        stored = every_stored_value()
        for written in ("987654321", "98-7654321", "7654321"):
            self.assertNotIn(written, stored)

    def test_ein_ssn_and_bare_digits_are_the_same_number(self):
        for tax_id in ("12-3456789", "123-45-6789", " 123456789 "):
            with self.subTest(tax_id=tax_id):
                self.assertEqual(tax_id_digits(tax_id), "123456789")

    @pytest.mark.promise("ACC-2")
    def test_a_malformed_tax_id_gets_a_clear_error_and_the_rest_is_kept(self):
        for tax_id in ("12345678", "1234567890", "12-345-6789", "AB-3456789", "000-12-3456"):
            with self.subTest(tax_id=tax_id):
                response = self.register(tax_id=tax_id)
                self.assertEqual(response.status_code, 200)
                self.assertIn("tax_id", response.context["form"].errors)
                self.assertContains(response, 'value="Rosa Delgado Ortiz"')
                self.assertContains(response, 'value="100 Pearl St"')
        self.assertFalse(User.objects.filter(username="rosa.delgado").exists())

    def test_a_malformed_licence_number_gets_a_clear_error_and_the_rest_is_kept(self):
        response = self.register(licence_number="#1")
        self.assertContains(response, "Enter the licence number as it appears on your licence")
        self.assertContains(response, 'value="rosa@delgado-insurance.example"')
        self.assertFalse(Producer.objects.filter(legal_name="Rosa Delgado Ortiz").exists())

    def test_an_agency_must_name_itself_and_keeps_no_birthday(self):
        response = self.register(kind="agency")
        self.assertIn("agency_name", response.context["form"].errors)
        self.register(kind="agency", agency_name="Delgado Insurance", legal_name="Delgado LLC")
        producer = Producer.objects.get(user__username="rosa.delgado")
        self.assertEqual(producer.kind, Producer.Kind.AGENCY)
        self.assertEqual(producer.agency_name, "Delgado Insurance")
        self.assertIsNone(producer.date_of_birth)

    def test_an_individual_gives_a_date_of_birth_and_is_an_adult(self):
        missing = self.register(date_of_birth="")
        self.assertIn("date_of_birth", missing.context["form"].errors)
        minor = self.register(date_of_birth=years_ago(17).isoformat())
        self.assertContains(minor, "must be 18 or older")
        future = self.register(date_of_birth=date(2999, 1, 1).isoformat())
        self.assertIn("date_of_birth", future.context["form"].errors)
        self.assertFalse(User.objects.filter(username="rosa.delgado").exists())

    def test_phone_zip_and_email_are_checked(self):
        response = self.register(phone="555", postal_code="6103", email="not-an-address")
        errors = response.context["form"].errors
        self.assertEqual(set(errors), {"phone", "postal_code", "email"})

    @pytest.mark.promise("ACC-2")
    def test_a_tax_id_already_registered_is_refused_without_naming_the_other_producer(self):
        self.register()
        self.client.logout()
        response = self.register(
            tax_id="123456789",
            licence_number="CT-999",
            legal_name="Tomas Ng",
            first_name="Tomas",
            last_name="Ng",
            email="tomas@example.org",
            address_line="9 Elm St",
            username="tomas.ng",
        )
        self.assertContains(response, "A producer with these registration details already exists")
        self.assertContains(response, "contact producer support")
        page = response.content.decode()
        for telling in ("Rosa", "Delgado", "rosa", "Pearl"):
            self.assertFalse(telling in page, f"{telling!r} is on the page")
        self.assertContains(response, 'value="Tomas Ng"')
        self.assertFalse(User.objects.filter(username="tomas.ng").exists())

    @pytest.mark.promise("ACC-2")
    def test_a_licence_already_registered_in_the_state_is_refused(self):
        # Pete holds LIC-1 in Connecticut; spacing and case do not make a new licence.
        response = self.register(licence_number=" lic-1 ", licence_region="CT")
        self.assertContains(response, "A producer with these registration details already exists")
        self.assertNotContains(response, "Pete")
        self.assertFalse(User.objects.filter(username="rosa.delgado").exists())
        elsewhere = self.register(licence_number="LIC-1", licence_region="NY")
        self.assertRedirects(elsewhere, reverse("producers:status"))

    def test_username_and_password_follow_the_sign_in_rules(self):
        taken = self.register(username="PETE")
        self.assertIn("username", taken.context["form"].errors)
        mismatch = self.register(password2="something else entirely")
        self.assertIn("password2", mismatch.context["form"].errors)
        weak = self.register(password1="password", password2="password")
        self.assertIn("password2", weak.context["form"].errors)
        like_name = self.register(password1="rosa.delgado", password2="rosa.delgado")
        self.assertIn("password2", like_name.context["form"].errors)
        self.assertNotContains(weak, 'value="password"')

    def test_someone_signed_in_is_sent_to_their_own_page(self):
        self.sign_in(self.pending_producer)
        self.assertRedirects(self.client.get(self.url), reverse("producers:status"))
        self.sign_in(self.alice)
        self.assertRedirects(self.client.get(self.url), reverse("front:home"))

    def test_the_form_and_its_errors_speak_spanish_and_italian(self):
        for language, title, error in (
            ("es", "Registrarse como productor o agencia", "Escriba un número de identificación"),
            (
                "it",
                "Registrazione di intermediari e agenzie",
                "Inserisca un identificativo fiscale",
            ),
        ):
            with self.subTest(language=language):
                self.client.cookies["haven_language"] = language
                response = self.client.post(self.url, registration(tax_id="12"))
                self.assertContains(response, title)
                self.assertContains(response, error)

    @override_settings(HAVEN_REGISTRATION_FAILURE_LIMIT=2)
    def test_repeated_refusals_pause_registration_so_tax_ids_cannot_be_probed(self):
        for tax_id in ("111-22-3333", "444-55-6666"):
            # Pete's licence makes each attempt a duplicate, whatever the tax ID.
            self.register(tax_id=tax_id, licence_number="LIC-1")
        paused = self.register(licence_number="CT-NEW-1")
        self.assertContains(paused, "too many unsuccessful attempts", status_code=429)
        self.assertContains(paused, 'value="Rosa Delgado Ortiz"', status_code=429)
        self.assertFalse(User.objects.filter(username="rosa.delgado").exists())

    def test_the_interface_language_is_kept_for_later_e_mails(self):
        self.client.cookies["haven_language"] = "it"
        self.register()
        self.assertEqual(User.objects.get(username="rosa.delgado").language, "it")
