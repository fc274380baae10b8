from decimal import Decimal

import pytest
from django.contrib.sessions.models import Session
from django.urls import reverse

from haven.plans.imports import import_text
from haven.plans.models import Product, Quote
from haven.testing.people import HavenTestCase

RATES = (
    "product_code,product_name,plan_code,year,max_charged_children,area_code,area_name,"
    "zip_prefixes,age_min,age_max,tobacco,monthly_premium\n"
    "IND-1,Haven Individual PPO,TEST-PPO,2026,3,CT-1,Hartford area,060;061,0,20,N,250.00\n"
    "IND-1,Haven Individual PPO,TEST-PPO,2026,3,CT-1,Hartford area,,21,39,N,400.00\n"
    "IND-1,Haven Individual PPO,TEST-PPO,2026,3,CT-1,Hartford area,,40,64,N,550.00\n"
    "IND-1,Haven Individual PPO,TEST-PPO,2026,3,CT-1,Hartford area,,40,64,Y,660.00\n"
)


def people(*ages_and_tobacco) -> dict:
    data = {"person-TOTAL_FORMS": "6", "person-INITIAL_FORMS": "0"}
    for index, (age, tobacco) in enumerate(ages_and_tobacco):
        data[f"person-{index}-age"] = str(age)
        if tobacco:
            data[f"person-{index}-tobacco"] = "on"
    return data


class QuoteTests(HavenTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        assert import_text("rates", RATES).rejected == 0
        cls.product = Product.objects.get(code="IND-1")

    def ask(self, *ages_and_tobacco, zip_code="06103", client=None):
        data = {"product": self.product.pk, "zip_code": zip_code} | people(*ages_and_tobacco)
        return (client or self.client).post(reverse("plans:quote"), data)

    @pytest.mark.promise("PLAN-4")
    def test_a_family_premium_adds_each_person_and_charges_only_three_children(self):
        response = self.ask(
            (45, True), (38, False), (12, False), (9, False), (6, False), (2, False)
        )

        result = response.context["result"]
        self.assertEqual(response.status_code, 200)
        self.assertEqual(
            [(line.band, line.premium, line.charged) for line in result.lines],
            [
                ("40-64", Decimal("660.00"), True),
                ("21-39", Decimal("400.00"), True),
                ("0-20", Decimal("250.00"), True),
                ("0-20", Decimal("250.00"), True),
                ("0-20", Decimal("250.00"), True),
                ("0-20", Decimal("250.00"), False),
            ],
        )
        self.assertEqual(result.total, Decimal("1810.00"))
        self.assertContains(response, "$1,810.00")
        self.assertContains(response, "Only the 3 oldest people under 21 pay a premium")

    @pytest.mark.promise("PLAN-4")
    def test_an_anonymous_quote_keeps_nothing_that_identifies_the_visitor(self):
        sessions = Session.objects.count()

        self.ask((45, True), (12, False))

        quote = Quote.objects.get()
        stored = {field.name for field in Quote._meta.concrete_fields}
        self.assertEqual(
            stored,
            {
                "id",
                "product",
                "area",
                "family_size",
                "age_bands",
                "tobacco_users",
                "monthly_total",
                "producer",
                "quoted_on",
            },
        )
        self.assertEqual((quote.family_size, quote.tobacco_users), (2, 1))
        self.assertEqual(quote.age_bands, ["0-20", "40-64"])
        self.assertEqual(quote.area.code, "CT-1")
        self.assertIsNone(quote.producer)
        self.assertNotIn("06103", str(list(Quote.objects.values())))
        self.assertEqual(Session.objects.count(), sessions)

    @pytest.mark.promise("PLAN-4")
    def test_a_quote_by_an_approved_producer_is_attached_to_the_producer(self):
        self.ask((30, False), client=self.sign_in(self.producer, self.client_class()))
        self.ask((30, False), client=self.sign_in(self.pending_producer, self.client_class()))
        self.ask((30, False), client=self.sign_in(self.alice, self.client_class()))

        self.assertEqual(
            list(Quote.objects.order_by("pk").values_list("producer", flat=True)),
            [self.producer.pk, None, None],
        )

    def test_a_tobacco_user_pays_the_plain_rate_where_the_table_sets_no_tobacco_rate(self):
        response = self.ask((30, True))

        self.assertEqual(response.context["result"].total, Decimal("400.00"))

    def test_a_zip_code_outside_the_rating_areas_gets_a_clear_answer(self):
        response = self.ask((30, False), zip_code="90210")

        self.assertIsNone(response.context["result"])
        self.assertContains(response, "We do not offer plans in the area of this ZIP code yet")
        self.assertContains(response, 'value="90210"')
        self.assertFalse(Quote.objects.exists())

    def test_bad_ages_are_refused_and_the_form_keeps_what_was_typed(self):
        response = self.ask((130, False), zip_code="06103")

        self.assertContains(response, "Ensure this value is less than or equal to 120")
        self.assertContains(response, 'value="130"')
        self.assertFalse(Quote.objects.exists())

    def test_a_quote_needs_at_least_one_person(self):
        response = self.ask()

        self.assertContains(response, "Enter the age of at least one person to cover.")

    def test_the_quote_page_shows_the_published_plans(self):
        Product.objects.create(code="HIDDEN", name="Hidden plan", year=2026, published=False)

        response = self.client.get(reverse("plans:quote"))

        self.assertContains(response, "Haven Individual PPO")
        self.assertNotContains(response, "Hidden plan")
