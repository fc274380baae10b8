from io import StringIO
from pathlib import Path
from tempfile import TemporaryDirectory

from django.core.management import call_command
from django.core.management.base import CommandError

from haven.plans.models import Member
from haven.testing.people import HavenTestCase

ROSTER = (
    "member_id,relationship,first_name,last_name,gender,date_of_birth,group_number,coverage_start\n"
    "K-1,self,Kai,Lund,M,1988-08-08,G-1,2026-01-01\n"
    "K-2,self,Kim,Lund,F,1988-08-32,G-1,2026-01-01\n"
)


class ImportCommandTests(HavenTestCase):
    def run_import(self, *args):
        out, err = StringIO(), StringIO()
        try:
            call_command("import", *args, stdout=out, stderr=err)
        except CommandError as error:
            return out.getvalue(), err.getvalue(), error
        return out.getvalue(), err.getvalue(), None

    def test_the_command_reports_each_bad_line_and_a_summary_and_fails(self):
        with TemporaryDirectory() as folder:
            path = Path(folder) / "roster.csv"
            path.write_text(ROSTER, encoding="utf-8")
            rejects = Path(folder) / "rejects.csv"

            out, err, error = self.run_import("roster", str(path), "--rejects", str(rejects))

            self.assertIn("line 3: date_of_birth is not a date in the form YYYY-MM-DD", err)
            self.assertIn("1 created, 0 updated, 0 unchanged, 1 rejected", out)
            self.assertEqual(error.returncode, 1)
            self.assertIn("3,date_of_birth is not a date", rejects.read_text(encoding="utf-8"))
        self.assertTrue(Member.objects.filter(member_id="K-1").exists())

    def test_a_file_without_a_required_column_is_refused_whole(self):
        with TemporaryDirectory() as folder:
            path = Path(folder) / "claims.csv"
            path.write_text("claim_number,member_id\nC-1,K-1\n", encoding="utf-8")

            _, _, error = self.run_import("claims", str(path))

        self.assertIn("the header lacks these required columns: service_start", str(error))

    def test_unknown_columns_are_named_in_a_warning(self):
        with TemporaryDirectory() as folder:
            path = Path(folder) / "roster.csv"
            path.write_text(
                ROSTER.splitlines()[0] + ",shoe_size\n" + ROSTER.splitlines()[1] + ",42\n",
                encoding="utf-8",
            )

            out, err, error = self.run_import("roster", str(path))

        self.assertIsNone(error)
        self.assertIn("not part of the roster layout and were ignored: shoe_size", err)
        self.assertIn("1 created", out)

    def test_a_file_that_is_not_utf8_is_refused(self):
        with TemporaryDirectory() as folder:
            path = Path(folder) / "roster.csv"
            path.write_bytes(ROSTER.replace("member_id", "mémber_id").encode("latin-1"))

            _, _, error = self.run_import("roster", str(path))

        self.assertIn("the first line is not UTF-8 text", str(error))
        self.assertFalse(Member.objects.filter(member_id="K-1").exists())

    def test_a_line_that_is_not_utf8_is_refused_alone(self):
        header, first, _ = ROSTER.splitlines()
        good = [first.replace("K-1", f"K-{n}") for n in range(1, 1001)]
        text = "\n".join([header, "K-X,self,Zoë,Lund,F,1990-01-01,G-1,2026-01-01", *good]) + "\n"
        with TemporaryDirectory() as folder:
            path = Path(folder) / "roster.csv"
            path.write_bytes(text.encode("latin-1"))

            _, err, error = self.run_import("roster", str(path))

        self.assertEqual(error.returncode, 1)
        self.assertIn("line 2: the line is not UTF-8 text", err)
        self.assertEqual(Member.objects.filter(member_id__startswith="K-").count(), 1000)

    def test_a_missing_file_is_a_clear_error(self):
        _, _, error = self.run_import("plans", "/nonexistent/plans.csv")

        self.assertIn("the file cannot be opened", str(error))

    def test_a_dry_run_writes_nothing(self):
        with TemporaryDirectory() as folder:
            path = Path(folder) / "roster.csv"
            path.write_text(ROSTER.splitlines()[0] + "\n" + ROSTER.splitlines()[1] + "\n")

            out, _, error = self.run_import("roster", str(path), "--dry-run")

        self.assertIsNone(error)
        self.assertIn("dry run: nothing was written", out)
        self.assertFalse(Member.objects.filter(member_id="K-1").exists())
