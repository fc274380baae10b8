"""Only marked, may-be-late reads go to the read replica; writes and audited reads never do.

The replica here is the test database itself, declared a test mirror (haven/settings.py), reached
through its own connection: committed rows are seen on both, and each connection's queries are
captured apart. TransactionTestCase, so what a test writes is committed and the replica sees it.
"""

from contextlib import contextmanager

from django.db import connections, transaction
from django.test import TransactionTestCase, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from haven.accounts.models import User
from haven.analytics.models import ReportRun
from haven.audit.models import AuditEvent
from haven.care import services as care_services
from haven.care.models import Facility, FacilityKind, Practitioner
from haven.library import services as library_services
from haven.library.models import Status
from haven.plans.models import EmployerGroup, Plan
from haven.replica import reads_from_replica
from haven.testing.people import HavenTestCase, make_member, make_user, years_ago

ARTICLE = {"title": "Walking every day", "summary": "Thirty minutes", "body": "Walk.\n\nMore."}


@contextmanager
def queries_by_database():
    """The SQL each connection ran inside the block: {"default": [...], "replica": [...]}."""
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections["replica"]) as replica,
    ):
        captured: dict[str, list[str]] = {}
        yield captured
    captured["default"] = [query["sql"] for query in primary.captured_queries]
    captured["replica"] = [query["sql"] for query in replica.captured_queries]


def naming(queries: list[str], table: str) -> list[str]:
    return [sql for sql in queries if f'"{table}"' in sql]


@override_settings(READ_REPLICA="replica")
class ReadReplicaTests(TransactionTestCase):
    databases = {"default", "replica"}

    def setUp(self):
        plan = Plan.objects.create(code="P", name="P", carrier="C", year=2026)
        group = EmployerGroup.objects.create(group_number="G", name="G", plan=plan)
        self.member = make_member("M-1", group, "Alice", "Rivera", years_ago(40))
        self.alice = make_user("alice", User.Kind.MEMBER, member=self.member)
        self.officer = make_user("officer", User.Kind.STAFF, staff_role="privacy_officer")
        self.editor = make_user("editor", User.Kind.STAFF, staff_role="care_team")
        self.facility = care_services.facility_save(
            facility=Facility(
                name="Asylum Hill Family Health",
                kind=FacilityKind.CLINIC,
                address_line="85 Jefferson Street",
                city="Hartford",
                postal_code="06106",
                latitude=41.7658,
                longitude=-72.6734,
            ),
            languages=["en"],
        )
        self.practitioner = care_services.practitioner_save(
            practitioner=Practitioner(
                first_name="Ji-woo",
                last_name="Kimberly",
                specialty="family_medicine",
                facility=self.facility,
                address_line="85 Jefferson Street",
                city="Hartford",
                postal_code="06103",
                latitude=41.76,
                longitude=-72.67,
            ),
            languages=["en"],
        )
        library_services.article_save(
            article=None,
            slug="walking",
            status=Status.PUBLISHED,
            public=True,
            texts={"en": ARTICLE},
            actor=self.editor,
        )

    def sign_in(self, user: User) -> None:
        HavenTestCase.sign_in(self, user)

    def test_the_care_finder_reads_the_directory_from_the_replica(self):
        with queries_by_database() as queries:
            page = self.client.get(reverse("care:search"), {"q": "Kimberly"})
        self.assertContains(page, "Kimberly")
        self.assertTrue(naming(queries["replica"], "care_practitioner"))
        self.assertFalse(naming(queries["default"], "care_practitioner"))

    def test_the_facility_page_reads_from_the_replica(self):
        with queries_by_database() as queries:
            page = self.client.get(reverse("care:facility", args=[self.facility.pk]))
        self.assertContains(page, "Asylum Hill Family Health")
        self.assertTrue(naming(queries["replica"], "care_facility"))
        self.assertFalse(naming(queries["default"], "care_facility"))

    def test_fhir_practitioner_organization_and_location_reads_use_the_replica(self):
        for path, table in (
            (f"/fhir/Practitioner/{self.practitioner.pk}", "care_practitioner"),
            (f"/fhir/Organization/{self.facility.pk}", "care_facility"),
            ("/fhir/Location?name=Asylum", "care_facility"),
        ):
            with self.subTest(path), queries_by_database() as queries:
                response = self.client.get(path)
            self.assertEqual(response.status_code, 200, path)
            self.assertTrue(naming(queries["replica"], table), path)
            self.assertFalse(naming(queries["default"], table), path)

    def test_the_health_library_reads_from_the_replica_for_readers_not_editors(self):
        with queries_by_database() as queries:
            page = self.client.get(reverse("library:article", args=["walking"]))
        self.assertContains(page, "Walking every day")
        self.assertTrue(naming(queries["replica"], "library_article"))
        self.assertFalse(naming(queries["default"], "library_article"))

        self.sign_in(self.editor)
        with queries_by_database() as queries:
            self.client.get(reverse("library:index"))
        self.assertFalse(naming(queries["replica"], "library_article"))
        self.assertTrue(naming(queries["default"], "library_article"))

    def test_the_statistical_report_reads_from_the_replica_and_records_its_run_on_default(self):
        self.sign_in(self.officer)
        query = {"measure": "portal", "column": "region", "as_of": timezone.localdate()}
        with queries_by_database() as queries:
            page = self.client.get(reverse("analytics:report"), query)
        self.assertEqual(page.status_code, 200)
        self.assertTrue(naming(queries["replica"], "plans_member"))
        self.assertFalse(naming(queries["default"], "plans_member"))
        # The run's record is a write: on default, and nothing is written to the replica.
        self.assertTrue(naming(queries["default"], "analytics_reportrun"))
        self.assertFalse([sql for sql in queries["replica"] if not sql.startswith("SELECT")])
        self.assertEqual(ReportRun.objects.count(), 1)
        # Sign-in state (the session, the signed-in account) is read from default.
        for table in ("django_session", "accounts_user"):
            self.assertFalse([sql for sql in queries["replica"] if f'FROM "{table}"' in sql])
            self.assertTrue([sql for sql in queries["default"] if f'FROM "{table}"' in sql])

    def test_an_audited_read_of_member_data_never_uses_the_replica(self):
        self.sign_in(self.alice)
        with queries_by_database() as queries:
            page = self.client.get(reverse("plans:claims"))
        self.assertEqual(page.status_code, 200)
        self.assertEqual(queries["replica"], [])
        self.assertTrue(naming(queries["default"], "audit_auditevent"))
        self.assertEqual(AuditEvent.objects.filter(member=self.member).count(), 1)

    def test_a_write_inside_a_replica_block_goes_to_default(self):
        with queries_by_database() as queries, reads_from_replica():
            practitioner = Practitioner.objects.get(pk=self.practitioner.pk)
            practitioner.phone = "(860) 555-0199"
            practitioner.save()
        self.assertEqual(practitioner._state.db, "default")
        self.assertTrue(all(sql.startswith("SELECT") for sql in queries["replica"]))
        self.assertTrue(naming(queries["default"], "care_practitioner"))
        self.assertEqual(Practitioner.objects.get().phone, "(860) 555-0199")

    def test_reads_inside_a_transaction_or_of_the_audit_trail_stay_on_default(self):
        with queries_by_database() as queries, reads_from_replica():
            with transaction.atomic():
                list(Practitioner.objects.all())
            AuditEvent.objects.count()
            User.objects.count()
        self.assertEqual(queries["replica"], [])

    def test_without_a_replica_everything_reads_from_default(self):
        with override_settings(READ_REPLICA=""), queries_by_database() as queries:
            page = self.client.get(reverse("care:search"), {"q": "Kimberly"})
        self.assertContains(page, "Kimberly")
        self.assertEqual(queries["replica"], [])
