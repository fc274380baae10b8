import random
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from haven.plans.imports import import_text, npi_is_valid
from haven.plans.models import COUNTED_STATUSES, Accumulator, Claim, ClaimStatusChange
from haven.testing.people import HavenTestCase

HEADER = (
    "claim_number,member_id,service_start,provider_name,provider_npi,service_category,status,"
    "status_date,status_note,billed_amount,allowed_amount,plan_paid,member_responsibility,"
    "deductible_applied,diagnosis_codes,procedure_codes\n"
)
RECEIVED = "C-1,M-ALICE,2026-02-10,Riverside Family Medicine,1234567893,lab,received,2026-02-12,,200.00,,,,,E11.9;I10,80053"
PAID = "C-1,M-ALICE,2026-02-10,Riverside Family Medicine,1234567893,lab,paid,2026-02-28,,200.00,150.00,100.00,50.00,50.00,E11.9;I10,80053"
BRUNO = "C-2,M-BRUNO,2026-03-01,Harbor Urgent Care,,urgent_care,approved,2026-03-05,,120.00,90.00,60.00,30.00,0,J06.9,99213"


def claims(*lines: str) -> str:
    return HEADER + "".join(line + "\n" for line in lines)


class ClaimImportTests(HavenTestCase):
    def test_lines_of_one_claim_build_its_status_history(self):
        result = import_text("claims", claims(RECEIVED, PAID, BRUNO))

        self.assertEqual((result.created, result.updated, result.rejected), (2, 1, 0))
        claim = Claim.objects.get(claim_number="C-1")
        self.assertEqual(claim.member, self.alice_member)
        self.assertEqual((claim.status, claim.status_on), ("paid", date(2026, 2, 28)))
        self.assertEqual(claim.allowed_amount, Decimal("150.00"))
        self.assertEqual(claim.diagnosis_codes, ["E11.9", "I10"])
        self.assertEqual(claim.procedure_codes, ["80053"])
        self.assertEqual(
            list(claim.history.values_list("status", "on")),
            [("received", date(2026, 2, 12)), ("paid", date(2026, 2, 28))],
        )

    def test_importing_the_same_file_again_changes_nothing(self):
        import_text("claims", claims(RECEIVED, PAID, BRUNO))
        claims_before = list(Claim.objects.order_by("pk").values())
        history_before = list(ClaimStatusChange.objects.order_by("pk").values())

        again = import_text("claims", claims(RECEIVED, PAID, BRUNO))

        self.assertEqual((again.created, again.updated, again.unchanged), (0, 0, 3))
        self.assertEqual(list(Claim.objects.order_by("pk").values()), claims_before)
        self.assertEqual(list(ClaimStatusChange.objects.order_by("pk").values()), history_before)

    def test_a_later_file_moves_the_claim_on_and_an_older_line_does_not_roll_it_back(self):
        import_text("claims", claims(PAID))

        result = import_text("claims", claims(RECEIVED))

        self.assertEqual(result.updated, 1)
        claim = Claim.objects.get(claim_number="C-1")
        self.assertEqual(claim.status, "paid")
        self.assertEqual(claim.history.count(), 2)

    def test_accumulators_add_up_the_approved_and_paid_claims_of_the_year(self):
        import_text("claims", claims(RECEIVED, PAID, BRUNO))

        alice = Accumulator.objects.get(member=self.alice_member, plan_year=2026)
        self.assertEqual(
            (alice.deductible_met, alice.out_of_pocket_met), (Decimal("50"), Decimal("50"))
        )
        bruno = Accumulator.objects.get(member=self.bruno_member, plan_year=2026)
        self.assertEqual(
            (bruno.deductible_met, bruno.out_of_pocket_met), (Decimal("0"), Decimal("30"))
        )

    def test_a_claim_denied_on_appeal_leaves_the_accumulators(self):
        import_text("claims", claims(PAID))
        denied = PAID.replace("paid,2026-02-28", "denied,2026-03-15").replace(
            "150.00,100.00,50.00,50.00", "0,0,0,0"
        )

        import_text("claims", claims(denied))

        alice = Accumulator.objects.get(member=self.alice_member, plan_year=2026)
        self.assertEqual(
            (alice.deductible_met, alice.out_of_pocket_met), (Decimal("0"), Decimal("0"))
        )

    def test_bad_rows_are_reported_by_line_and_good_rows_are_kept(self):
        result = import_text(
            "claims",
            claims(
                BRUNO,
                "C-3,M-NOBODY,2026-03-01,Clinic,,,received,2026-03-02,,10,,,,,,",
                "C-4,M-ALICE,2026-03-01,Clinic,,,payed,2026-03-02,,10,,,,,,",
                "C-5,M-ALICE,2026-03-01,Clinic,,,paid,2026-03-02,,100,120,100,20,0,,",
                "C-6,M-ALICE,2026-03-01,Clinic,,,paid,2026-03-02,,100,80,70,20,0,,",
                "C-7,M-ALICE,2026-03-01,Clinic,,,paid,2026-03-02,,100,80,60,20,30,,",
                "C-8,M-ALICE,2026-03-01,Clinic,1234567890,,received,2026-03-02,,10,,,,,,",
                "C-9,M-ALICE,2026-03-01,Clinic,,,received,2026-03-02,,-10,,,,,,",
                "C-10,M-ALICE,2026-03-01,Clinic,,,received,2026-03-02,,10,,,,,HELLO,",
                "C-11,M-ALICE,2026-03-01,Clinic,,,received,2026-02-02,,10,,,,,,",
                "C-12,M-ALICE,2099-03-01,Clinic,,,received,2099-03-02,,10,,,,,,",
                "C-2,M-BRUNO,2026-03-01,Harbor Urgent Care,,urgent_care,received,2026-03-02,,120.00,,,,,,",
            ),
        )

        reasons = {rejection.line: rejection.reason for rejection in result.rejections}
        self.assertEqual(result.created, 1)
        self.assertEqual(list(Claim.objects.values_list("claim_number", flat=True)), ["C-2"])
        self.assertIn("member_id is not on the roster", reasons[3])
        self.assertIn("status ('payed') is not one of", reasons[4])
        self.assertIn("allowed_amount is more than billed_amount", reasons[5])
        self.assertIn("add up to more than allowed_amount", reasons[6])
        self.assertIn("deductible_applied is more than member_responsibility", reasons[7])
        self.assertIn("provider_npi ('1234567890') is not a valid NPI", reasons[8])
        self.assertIn("billed_amount ('-10') is not an amount", reasons[9])
        self.assertIn("diagnosis_codes: code number 1 is not an ICD-10 code", reasons[10])
        self.assertNotIn("HELLO", reasons[10])
        self.assertIn("status_date is before service_start", reasons[11])
        self.assertIn("service_start is in the future", reasons[12])
        self.assertIn("earlier than on line 2", reasons[13])

    def test_the_same_claim_twice_on_one_date_is_refused(self):
        result = import_text("claims", claims(PAID, PAID))

        self.assertEqual(result.created, 1)
        self.assertIn("same status_date (line 2)", result.rejections[0].reason)

    def test_a_batch_costs_the_same_queries_for_thirty_claims_as_for_three_hundred(self):
        def lines(prefix, count):
            return [
                f"{prefix}-{n},M-ALICE,2026-02-10,Clinic,,lab,paid,2026-02-20,,100,80,60,20,10,,"
                for n in range(count)
            ]

        with CaptureQueriesContext(connection) as few:
            import_text("claims", claims(*lines("F", 30)), batch_size=1000)
        with CaptureQueriesContext(connection) as many:
            result = import_text("claims", claims(*lines("M", 300)), batch_size=1000)

        self.assertEqual(result.created, 300)
        self.assertEqual(len(many), len(few))
        self.assertEqual(
            Accumulator.objects.get(member=self.alice_member, plan_year=2026).deductible_met,
            Decimal("3300.00"),
        )


class NpiTests(HavenTestCase):
    def test_the_check_digit_is_verified(self):
        self.assertTrue(npi_is_valid("1234567893"))
        self.assertFalse(npi_is_valid("1234567890"))
        self.assertFalse(npi_is_valid("12345"))


class AccumulatorConsistencyTests(HavenTestCase):
    def test_accumulators_always_equal_the_sum_of_counted_claims_after_many_changes(self):
        rng = random.Random(2026)
        members = ["M-ALICE", "M-BRUNO", "M-ELENA"]
        statuses = ["received", "in_review", "approved", "paid", "denied", "appealed"]
        day = {number: 10 for number in range(20)}
        for _round in range(6):
            lines = []
            for number in rng.sample(range(20), 12):
                day[number] += rng.randrange(1, 5)
                owed = rng.randrange(0, 50)
                lines.append(
                    f"R-{number},{rng.choice(members)},2026-0{rng.choice([1, 2])}-01,Clinic,,,"
                    f"{rng.choice(statuses)},{date(2026, 3, 1) + timedelta(days=day[number])},,"
                    f"200,150,{100 - owed},"
                    f"{owed},{rng.randrange(0, owed + 1)},,"
                )
            self.assertEqual(import_text("claims", claims(*lines)).rejected, 0)

            expected = {
                (row["member"], 2026): (row["deductible"], row["owed"])
                for row in Claim.objects.filter(status__in=COUNTED_STATUSES)
                .values("member")
                .annotate(deductible=Sum("deductible_applied"), owed=Sum("member_responsibility"))
            }
            stored = {
                (row.member_id, row.plan_year): (row.deductible_met, row.out_of_pocket_met)
                for row in Accumulator.objects.all()
                if row.deductible_met or row.out_of_pocket_met
            }
            self.assertEqual(stored, expected)
