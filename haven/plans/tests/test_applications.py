from datetime import date

import pytest
from django.urls import reverse

from haven.plans.imports import import_text
from haven.plans.models import Application, Product
from haven.plans.tests.test_quotes import RATES
from haven.testing.people import HavenTestCase

FORM = {
    "first_name": "Vera",
    "last_name": "Quintero",
    "date_of_birth": "1988-04-04",
    "address_line": "12 Oak Street",
    "city": "Hartford",
    "region": "CT",
    "postal_code": "06105",
    "phone": "860-555-0199",
    "email": "",
    "confirm": "on",
    "person-TOTAL_FORMS": "4",
    "person-INITIAL_FORMS": "0",
    "person-0-relationship": "child",
    "person-0-first_name": "Lia",
    "person-0-last_name": "Quintero",
    "person-0-date_of_birth": "2016-09-09",
}


class ApplicationTests(HavenTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        assert import_text("rates", RATES).rejected == 0
        cls.product = Product.objects.get(code="IND-1")

    def submit(self, **changes):
        data = FORM | {"product": str(self.product.pk)} | changes
        return self.client.post(reverse("plans:apply"), data)

    def make_application(self, reference="HA-TEST-2222"):
        return Application.objects.create(
            reference=reference,
            product=self.product,
            first_name="Rosa",
            last_name="Marquez",
            date_of_birth=date(1970, 1, 2),
            address_line="3 Pine Street",
            city="Hartford",
            region="CT",
            postal_code="06103",
            email="rosa@example.org",
        )

    @pytest.mark.promise("PLAN-4")
    def test_a_visitor_applies_and_gets_a_reference_number(self):
        response = self.submit()

        self.assertRedirects(response, reverse("plans:apply_done"))
        application = Application.objects.get()
        self.assertEqual(application.status, Application.Status.SUBMITTED)
        self.assertRegex(application.reference, r"^HA-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}$")
        self.assertEqual(application.full_name, "Vera Quintero")
        self.assertEqual(
            list(application.people.values_list("first_name", "relationship")), [("Lia", "child")]
        )
        self.assertIsNone(application.submitted_by)
        done = self.client.get(reverse("plans:apply_done"))
        self.assertContains(done, application.reference)
        self.assertNotContains(done, "Vera")

    @pytest.mark.promise("PLAN-4")
    def test_an_application_without_a_way_to_reach_the_applicant_is_refused_keeping_the_input(self):
        response = self.submit(phone="", email="")

        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Give a phone number or an e-mail address.")
        self.assertContains(response, 'value="Quintero"')
        self.assertFalse(Application.objects.exists())

    def test_an_application_from_outside_the_areas_or_born_tomorrow_is_refused(self):
        response = self.submit(postal_code="90210", date_of_birth="2999-01-01")

        self.assertContains(response, "We do not offer plans in the area of this ZIP code yet")
        self.assertContains(response, "The date of birth cannot be in the future.")
        self.assertFalse(Application.objects.exists())

    def test_the_confirmation_page_without_an_application_leads_back_to_the_form(self):
        response = self.client.get(reverse("plans:apply_done"))

        self.assertRedirects(response, reverse("plans:apply"))

    @pytest.mark.promise("PLAN-4")
    def test_the_queue_lists_reference_date_and_status_without_personal_data(self):
        application = self.make_application()
        self.sign_in(self.representative)

        response = self.client.get(reverse("plans:applications"))

        self.assertContains(response, application.reference)
        self.assertContains(response, reverse("plans:application", kwargs={"pk": application.pk}))
        self.assertNotContains(response, "Rosa")
        self.assertNotContains(response, "Marquez")
        self.assertNotContains(response, "rosa@example.org")

    @pytest.mark.promise("PLAN-4")
    def test_staff_open_an_application_and_accept_it_with_a_note(self):
        application = self.make_application()
        self.sign_in(self.administrator)

        page = self.client.get(reverse("plans:application", kwargs={"pk": application.pk}))
        response = self.client.post(
            reverse("plans:application_decision", kwargs={"pk": application.pk}),
            {"decision": "accepted", "note": "Identity checked by phone."},
        )

        self.assertContains(page, "Rosa Marquez")
        self.assertContains(page, "$550.00 a month (rating area: Hartford area)")
        self.assertRedirects(response, reverse("plans:applications"))
        application.refresh_from_db()
        self.assertEqual(application.status, Application.Status.ACCEPTED)
        self.assertEqual(application.decided_by, self.administrator)
        self.assertEqual(application.decision_note, "Identity checked by phone.")

    @pytest.mark.promise("PLAN-4")
    def test_a_decision_needs_a_note_and_cannot_be_made_twice(self):
        application = self.make_application()
        self.sign_in(self.representative)
        url = reverse("plans:application_decision", kwargs={"pk": application.pk})

        without_note = self.client.post(url, {"decision": "declined", "note": ""})
        self.client.post(url, {"decision": "declined", "note": "Outside the enrolment period."})
        again = self.client.post(url, {"decision": "accepted", "note": "Changed my mind."})

        self.assertContains(without_note, "Write a short note on why.")
        application.refresh_from_db()
        self.assertEqual(application.status, Application.Status.DECLINED)
        self.assertEqual(application.decision_note, "Outside the enrolment period.")
        self.assertRedirects(
            again,
            reverse("plans:application", kwargs={"pk": application.pk}),
            fetch_redirect_response=False,
        )

    @pytest.mark.promise("PLAN-4")
    def test_only_customer_service_and_administrators_see_applications(self):
        application = self.make_application()
        for role in ("care_team", "claims", "producer_support", "compliance", "privacy_officer"):
            client = self.sign_in(self.staff[role], self.client_class())
            for url in (
                reverse("plans:applications"),
                reverse("plans:application", kwargs={"pk": application.pk}),
            ):
                self.assertEqual(client.get(url).status_code, 403, f"{role} {url}")
        producer = self.sign_in(self.producer, self.client_class())
        self.assertEqual(producer.get(reverse("plans:applications")).status_code, 403)

    def test_staff_find_an_application_by_the_reference_read_out_on_the_phone(self):
        application = self.make_application("HA-FIND-3333")
        self.sign_in(self.representative)

        found = self.client.post(reverse("plans:application_find"), {"reference": " ha-find-3333 "})
        missing = self.client.post(reverse("plans:application_find"), {"reference": "HA-NONE-0000"})

        self.assertRedirects(found, reverse("plans:application", kwargs={"pk": application.pk}))
        self.assertRedirects(missing, reverse("plans:applications"), fetch_redirect_response=False)
