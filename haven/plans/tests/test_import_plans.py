from decimal import Decimal

from haven.plans.imports import import_text
from haven.plans.models import Plan, PlanBenefit
from haven.testing.people import HavenTestCase

HEADER = (
    "plan_code,plan_name,carrier,year,network_type,deductible_individual,deductible_family,"
    "out_of_pocket_max_individual,out_of_pocket_max_family,member_services_phone,category,"
    "in_network_copay,in_network_coinsurance,in_network_deductible_applies,"
    "out_of_network_covered,out_of_network_copay,out_of_network_coinsurance,"
    "out_of_network_deductible_applies,limits\n"
)
GOLD = "P-GOLD,Gold PPO,Haven Health Plan,2026,PPO,1000,2000,4000,8000,1-800-555-0142"
GOOD = (
    f"{GOLD},primary_care,25,,N,Y,,40,Y,\n"
    f"{GOLD},hospital,,20,Y,Y,,40,Y,\n"
    f"{GOLD},therapy,30,,N,N,,,,30 visits a year\n"
)


def plans(*lines: str) -> str:
    return HEADER + "".join(line + "\n" for line in lines)


class PlanImportTests(HavenTestCase):
    def test_a_plan_and_its_benefits_are_created(self):
        result = import_text("plans", HEADER + GOOD)

        self.assertEqual((result.created, result.rejected), (3, 0))
        plan = Plan.objects.get(code="P-GOLD")
        self.assertEqual(plan.deductible_family, Decimal("2000"))
        self.assertEqual(plan.member_services_phone, "1-800-555-0142")
        visit = plan.benefits.get(category="primary_care")
        self.assertEqual(visit.in_network_copay, Decimal("25"))
        self.assertFalse(visit.in_network_deductible_applies)
        self.assertEqual(visit.out_of_network_coinsurance, 40)
        therapy = plan.benefits.get(category="therapy")
        self.assertFalse(therapy.out_of_network_covered)
        self.assertEqual(therapy.limits, "30 visits a year")

    def test_importing_the_same_file_again_changes_nothing(self):
        import_text("plans", HEADER + GOOD)
        before = list(PlanBenefit.objects.order_by("pk").values())

        again = import_text("plans", HEADER + GOOD)

        self.assertEqual((again.created, again.updated, again.unchanged), (0, 0, 3))
        self.assertEqual(list(PlanBenefit.objects.order_by("pk").values()), before)

    def test_a_changed_copay_updates_the_benefit(self):
        import_text("plans", HEADER + GOOD)

        result = import_text("plans", plans(f"{GOLD},primary_care,30,,N,Y,,40,Y,"))

        self.assertEqual(result.updated, 1)
        self.assertEqual(
            PlanBenefit.objects.get(plan__code="P-GOLD", category="primary_care").in_network_copay,
            Decimal("30"),
        )

    def test_bad_rows_are_reported_by_line_and_good_rows_are_kept(self):
        result = import_text(
            "plans",
            plans(
                f"{GOLD},primary_care,25,,N,Y,,40,Y,",
                f"{GOLD},acupuncture,25,,N,Y,,40,Y,",
                f"{GOLD},hospital,,120,Y,Y,,40,Y,",
                "P-GOLD,Gold PPO,Haven Health Plan,2026,PPO,1500,2000,4000,8000,,lab,,,,,,,,",
                "P-BAD,Bad,Haven,2026,PPO,3000,2000,4000,8000,,,,,,,,,,",
                f"{GOLD},primary_care,25,,N,Y,,40,Y,",
                f"{GOLD},lab,,10,maybe,N,,20,,",
            ),
        )

        reasons = {rejection.line: rejection.reason for rejection in result.rejections}
        self.assertEqual(result.created, 1)
        self.assertIn("category ('acupuncture') is not one of", reasons[3])
        self.assertIn(
            "in_network_coinsurance ('120') is not a whole number from 0 to 100", reasons[4]
        )
        self.assertIn("plan P-GOLD is described differently on line 2", reasons[5])
        self.assertIn("deductible_family is less than deductible_individual", reasons[6])
        self.assertIn("the same plan_code and category are already on line 2", reasons[7])
        self.assertIn("in_network_deductible_applies ('maybe') must be Y or N", reasons[8])
        self.assertIn("leave the out-of-network copay and coinsurance empty", reasons[8])
        self.assertFalse(Plan.objects.filter(code="P-BAD").exists())
