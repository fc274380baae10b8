from decimal import Decimal

from haven.plans.imports import import_text
from haven.plans.models import Product, Rate, RatingArea
from haven.testing.people import HavenTestCase

HEADER = (
    "product_code,product_name,plan_code,year,max_charged_children,area_code,area_name,"
    "zip_prefixes,age_min,age_max,tobacco,monthly_premium\n"
)
PRODUCT = "IND-1,Individual PPO,TEST-PPO,2026,3"
GOOD = (
    f"{PRODUCT},CT-1,Hartford area,060;061,0,20,N,300.00\n"
    f"{PRODUCT},CT-1,Hartford area,,21,64,N,500.00\n"
    f"{PRODUCT},CT-1,Hartford area,,21,64,Y,600.00\n"
)


def rates(*lines: str) -> str:
    return HEADER + "".join(line + "\n" for line in lines)


class RateImportTests(HavenTestCase):
    def test_a_product_its_area_and_rates_are_created(self):
        result = import_text("rates", HEADER + GOOD)

        self.assertEqual((result.created, result.rejected), (3, 0))
        product = Product.objects.get(code="IND-1")
        self.assertEqual((product.plan, product.max_charged_children), (self.plan, 3))
        area = RatingArea.objects.get(code="CT-1")
        self.assertEqual(sorted(area.zip_prefixes.values_list("prefix", flat=True)), ["060", "061"])
        self.assertEqual(RatingArea.for_zip("06103"), area)
        self.assertEqual(
            Rate.objects.get(product=product, tobacco=True).monthly_premium, Decimal("600")
        )

    def test_importing_the_same_file_again_changes_nothing(self):
        import_text("rates", HEADER + GOOD)
        before = list(Rate.objects.order_by("pk").values())

        again = import_text("rates", HEADER + GOOD)

        self.assertEqual((again.created, again.updated, again.unchanged), (0, 0, 3))
        self.assertEqual(list(Rate.objects.order_by("pk").values()), before)

    def test_a_new_premium_updates_the_band(self):
        import_text("rates", HEADER + GOOD)

        result = import_text("rates", rates(f"{PRODUCT},CT-1,Hartford area,,21,64,N,525.00"))

        self.assertEqual(result.updated, 1)
        self.assertEqual(
            Rate.objects.get(age_min=21, tobacco=False).monthly_premium, Decimal("525")
        )

    def test_a_five_digit_zip_beats_its_three_digit_prefix(self):
        import_text(
            "rates",
            rates(
                f"{PRODUCT},CT-1,Hartford area,061,0,64,N,500",
                f"{PRODUCT},CT-2,Downtown,06103,0,64,N,550",
            ),
        )

        self.assertEqual(RatingArea.for_zip("06103").code, "CT-2")
        self.assertEqual(RatingArea.for_zip("06105").code, "CT-1")
        self.assertIsNone(RatingArea.for_zip("90210"))

    def test_bad_rows_are_reported_by_line_and_good_rows_are_kept(self):
        import_text("rates", HEADER + GOOD)

        result = import_text(
            "rates",
            rates(
                f"{PRODUCT},CT-1,Hartford area,,30,40,N,510.00",
                f"{PRODUCT},CT-9,Nowhere,,0,64,N,100",
                "IND-2,Other,NO-PLAN,2026,3,CT-1,Hartford area,,0,64,N,100",
                f"{PRODUCT},CT-3,Shore,06X,0,64,N,100",
                f"{PRODUCT},CT-4,Valley,061,0,64,N,100",
                f"{PRODUCT},CT-1,Hartford area,,65,60,N,100",
                f"{PRODUCT},CT-1,Hartford area,,65,120,N,12.345",
                f"{PRODUCT},CT-1,Hartford area,,65,120,N,700",
                f"{PRODUCT},CT-1,Hartford area,,100,110,N,700",
            ),
        )

        reasons = {rejection.line: rejection.reason for rejection in result.rejections}
        self.assertEqual(result.created, 1)
        self.assertIn("overlaps the band from age 21", reasons[2])
        self.assertIn("area CT-9 is new: give its zip_prefixes", reasons[3])
        self.assertIn("plan_code NO-PLAN is not a known plan", reasons[4])
        self.assertIn("zip_prefixes: 06X is not three to five digits", reasons[5])
        self.assertIn("ZIP prefix 061 belongs to area CT-1", reasons[6])
        self.assertIn("age_max is less than age_min", reasons[7])
        self.assertIn("at most two decimals", reasons[8])
        self.assertIn("overlaps the band on line 9", reasons[10])
        self.assertTrue(Rate.objects.filter(age_min=65, monthly_premium=700).exists())
