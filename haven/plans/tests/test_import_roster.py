from datetime import date

from haven.plans.imports import import_text
from haven.plans.models import EmployerGroup, Member
from haven.testing.people import HavenTestCase

HEADER = (
    "member_id,subscriber_id,relationship,first_name,last_name,gender,date_of_birth,"
    "group_number,group_name,plan_code,city,postal_code,coverage_start,coverage_end\n"
)
GOOD = (
    "N-100,,self,Nadia,Kowalski,F,1980-03-04,G-9,Lakeside Clinic,TEST-PPO,Hartford,06103,2026-01-01,\n"
    "N-101,N-100,child,Nico,Kowalski,M,2012-07-08,G-9,,,Hartford,06103,2026-01-01,\n"
)


def roster(*lines: str) -> str:
    return HEADER + "".join(line + "\n" for line in lines)


class RosterImportTests(HavenTestCase):
    def test_a_new_family_and_its_group_are_created(self):
        result = import_text("roster", HEADER + GOOD)

        self.assertEqual((result.created, result.updated, result.rejected), (2, 0, 0))
        group = EmployerGroup.objects.get(group_number="G-9")
        self.assertEqual((group.name, group.plan), ("Lakeside Clinic", self.plan))
        nico = Member.objects.get(member_id="N-101")
        self.assertEqual(nico.subscriber.member_id, "N-100")
        self.assertEqual(nico.relationship, "child")
        self.assertEqual(nico.date_of_birth, date(2012, 7, 8))

    def test_importing_the_same_file_again_changes_nothing(self):
        import_text("roster", HEADER + GOOD)
        before = list(Member.objects.order_by("pk").values())

        again = import_text("roster", HEADER + GOOD)

        self.assertEqual((again.created, again.updated, again.unchanged), (0, 0, 2))
        self.assertEqual(list(Member.objects.order_by("pk").values()), before)

    def test_a_changed_row_updates_the_member_in_place(self):
        import_text("roster", HEADER + GOOD)
        pk = Member.objects.get(member_id="N-100").pk

        result = import_text(
            "roster",
            roster(
                "N-100,,self,Nadia,Kowalska,F,1980-03-04,G-9,,,Hartford,06103,2026-01-01,2026-12-31"
            ),
        )

        self.assertEqual(result.updated, 1)
        nadia = Member.objects.get(member_id="N-100")
        self.assertEqual((nadia.pk, nadia.last_name), (pk, "Kowalska"))
        self.assertEqual(nadia.coverage_end, date(2026, 12, 31))

    def test_a_dependant_may_come_before_the_subscriber_in_the_file(self):
        result = import_text(
            "roster",
            roster(
                "N-201,N-200,spouse,Omar,Said,M,1979-01-01,G-1,,,,,2026-01-01,",
                "N-200,,self,Lina,Said,F,1981-01-01,G-1,,,,,2026-01-01,",
            ),
        )

        self.assertEqual((result.created, result.rejected), (2, 0))
        self.assertEqual(Member.objects.get(member_id="N-201").subscriber.member_id, "N-200")

    def test_bad_rows_are_reported_by_line_and_good_rows_are_kept(self):
        result = import_text(
            "roster",
            roster(
                "N-300,,self,Ada,Ok,F,1990-01-01,G-1,,,,,2026-01-01,",
                "N-301,,self,,Blank,F,1990-01-01,G-1,,,,,2026-01-01,",
                "N-302,,self,Bea,Date,F,1990-02-30,G-1,,,,,2026-01-01,",
                "N-303,,self,Cy,Gender,Q,1990-01-01,G-1,,,,,2026-01-01,",
                "N-304,N-999,child,Di,Orphan,F,2015-01-01,G-1,,,,,2026-01-01,",
                "N-305,,self,Ed,Group,M,1990-01-01,G-NEW,,,,,2026-01-01,",
                "N-306,,self,Fay,Plan,F,1990-01-01,G-7,Seven,NO-SUCH-PLAN,,,2026-01-01,",
                "N-300,,self,Ada,Twice,F,1990-01-01,G-1,,,,,2026-01-01,",
                "N-307,,self,Gus,Ends,M,1990-01-01,G-1,,,,,2026-01-01,2025-12-31",
            ),
        )

        reasons = {rejection.line: rejection.reason for rejection in result.rejections}
        self.assertEqual(result.created, 1)
        self.assertTrue(Member.objects.filter(member_id="N-300", last_name="Ok").exists())
        self.assertEqual(sorted(reasons), [3, 4, 5, 6, 7, 8, 9, 10])
        self.assertIn("first_name is required", reasons[3])
        self.assertIn("date_of_birth is not a date in the form YYYY-MM-DD", reasons[4])
        self.assertIn("gender ('Q') is not one of: F, M, X, U", reasons[5])
        self.assertIn("subscriber_id does not match a subscriber", reasons[6])
        self.assertIn("group G-NEW is new: give its group_name and plan_code", reasons[7])
        self.assertIn("plan_code NO-SUCH-PLAN is not a known plan", reasons[8])
        self.assertIn("the same member_id is already on line 2", reasons[9])
        self.assertIn("coverage_end is before coverage_start", reasons[10])
        for name in ("N-301", "N-302", "N-303", "N-304", "N-305", "N-306", "N-307"):
            self.assertFalse(Member.objects.filter(member_id=name).exists(), name)

    def test_reasons_never_repeat_personal_values(self):
        result = import_text(
            "roster", roster("N-400,,self,Zed,Secret,F,31/12/1970,G-1,,,,,2026-01-01,")
        )

        self.assertEqual(result.rejected, 1)
        self.assertNotIn("31/12/1970", result.rejections[0].reason)
        self.assertNotIn("N-400", result.rejections[0].reason)

    def test_a_subscriber_with_a_dependant_listed_cannot_be_the_dependant_of_someone(self):
        result = import_text(
            "roster", roster("M-ALICE,M-ELENA,spouse,Alice,Rivera,F,1986-01-01,G-1,,,,,2020-01-01,")
        )

        self.assertEqual(result.rejected, 1)
        self.assertIn("still has dependants", result.rejections[0].reason)
        self.assertIsNone(Member.objects.get(member_id="M-ALICE").subscriber)

    def test_a_relationship_that_contradicts_the_subscriber_column_is_refused(self):
        result = import_text(
            "roster",
            roster(
                "N-500,M-ALICE,self,Sam,Self,M,1990-01-01,G-1,,,,,2026-01-01,",
                "N-501,,child,Kim,Child,F,2010-01-01,G-1,,,,,2026-01-01,",
            ),
        )

        reasons = [rejection.reason for rejection in result.rejections]
        self.assertIn("a subscriber (relationship self) has no subscriber_id", reasons[0])
        self.assertIn("a dependant needs the subscriber_id of the subscriber", reasons[1])

    def test_line_numbers_count_blank_lines_and_line_breaks_inside_quotes(self):
        text = (
            HEADER
            + '\nN-600,,self,Ann,"Two\nLines",F,1990-01-01,G-1,,,,,2026-01-01,\n'
            + "N-601,,self,Bob,Bad,F,1990-13-01,G-1,,,,,2026-01-01,\n"
        )

        result = import_text("roster", text)

        self.assertEqual([rejection.line for rejection in result.rejections], [5])

    def test_a_row_with_too_many_fields_is_refused(self):
        result = import_text(
            "roster", roster("N-700,,self,Ann,Extra,F,1990-01-01,G-1,,,,,2026-01-01,,surplus")
        )

        self.assertEqual(
            result.rejections[0].reason, "the line has more fields than the header names"
        )

    def test_a_dry_run_reports_without_writing(self):
        result = import_text("roster", HEADER + GOOD, dry_run=True)

        self.assertEqual(result.created, 2)
        self.assertFalse(Member.objects.filter(member_id__in=["N-100", "N-101"]).exists())
        self.assertFalse(EmployerGroup.objects.filter(group_number="G-9").exists())

    def test_small_batches_give_the_same_result(self):
        result = import_text("roster", HEADER + GOOD, batch_size=1)

        self.assertEqual((result.created, result.rejected), (2, 0))
