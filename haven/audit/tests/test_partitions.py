"""On PostgreSQL the audit trail is range-partitioned by month and keeps every protection it had:
the hash chain verifies across months, rows cannot be changed or deleted, reviews and disclosures
must name an event that exists, and `haven partitions` is safe to run again."""

from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from haven.audit import chain
from haven.audit.models import Action, AuditEvent, AuditReview, EventType, Outcome
from haven.lib import partitions
from haven.testing.people import HavenTestCase

TABLE = "audit_auditevent"

pytestmark = [
    pytest.mark.skipif(
        not settings.USING_POSTGRES,
        reason="partitions are PostgreSQL only; on SQLite the audit trail is an ordinary table",
    ),
]


def append_at(when) -> AuditEvent:
    with transaction.atomic():
        return chain.append(
            AuditEvent(
                recorded_at=when,
                type=EventType.ACCESS,
                subtype="read",
                action=Action.READ,
                outcome=Outcome.ALLOWED,
                system_actor="partition-test",
            )
        )


def partition_holding(table: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tableoid::regclass::text FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


def months_from_now(months: int):
    start = partitions.month_start(timezone.now())
    for _month in range(months):
        start = partitions.next_month(start)
    return start


class AuditPartitionTests(HavenTestCase):
    def test_the_trail_is_range_partitioned_by_month_on_recorded_at(self):
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT part.partstrat, attribute.attname FROM pg_partitioned_table part
                JOIN pg_attribute attribute
                  ON attribute.attrelid = part.partrelid AND attribute.attnum = part.partattrs[0]
                WHERE part.partrelid = 'audit_auditevent'::regclass
                """
            )
            self.assertEqual(cursor.fetchone(), ("r", "recorded_at"))
            cursor.execute(
                "SELECT inhrelid::regclass::text FROM pg_inherits "
                "WHERE inhparent = 'audit_auditevent'::regclass"
            )
            children = {row[0] for row in cursor.fetchall()}
            # The primary key is a unique index ending with the partition key (haven/lib/partitions.py).
            cursor.execute("SELECT pg_get_indexdef('audit_auditevent_pkey'::regclass)")
            primary_key = cursor.fetchone()[0]
        self.assertIn("UNIQUE INDEX audit_auditevent_pkey", primary_key)
        self.assertTrue(primary_key.endswith("USING btree (id, recorded_at)"))
        this_month = partitions.partition_name(TABLE, months_from_now(0))
        self.assertLessEqual({this_month, f"{TABLE}_default"}, children)
        self.assertEqual(AuditEvent._meta.pk.name, "id")

    def test_an_event_lands_in_the_partition_of_its_month_or_else_the_default_one(self):
        now = timezone.now()
        next_month = months_from_now(1) + timedelta(days=3)
        far = now + timedelta(days=5 * 365)
        self.assertEqual(
            partition_holding(TABLE, append_at(now).pk),
            partitions.partition_name(TABLE, months_from_now(0)),
        )
        self.assertEqual(
            partition_holding(TABLE, append_at(next_month).pk),
            partitions.partition_name(TABLE, months_from_now(1)),
        )
        self.assertEqual(partition_holding(TABLE, append_at(far).pk), f"{TABLE}_default")
        ids = list(AuditEvent.objects.order_by("sequence").values_list("pk", flat=True))
        self.assertEqual(len(set(ids)), 3)

    @pytest.mark.promise("AUD-6")
    def test_the_chain_verifies_across_months_and_still_finds_a_changed_link(self):
        now = timezone.now()
        for when in (now - timedelta(days=95), now, months_from_now(1), months_from_now(2)):
            append_at(when)
        self.assertEqual(
            len(
                {
                    partition_holding(TABLE, pk)
                    for pk in AuditEvent.objects.values_list("pk", flat=True)
                }
            ),
            4,
        )
        result = chain.verify()
        self.assertTrue(result.intact, result.summary())
        self.assertEqual(result.records, 4)
        # Tampering is still found (with the append-only trigger set aside, as an attacker would).
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER audit_auditevent_append_only")
            cursor.execute(f"UPDATE {TABLE} SET note = 'changed' WHERE sequence = 3")  # noqa: S608
            cursor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER audit_auditevent_append_only")
        self.assertEqual(chain.verify().broken_at, 3)

    @pytest.mark.promise("AUD-6")
    def test_updates_and_deletes_are_refused_through_the_table_and_each_partition(self):
        event = append_at(timezone.now())
        partition = partition_holding(TABLE, event.pk)
        for table in (TABLE, partition):
            for statement in (
                f"UPDATE {table} SET note = 'x' WHERE id = %s",  # noqa: S608
                f"DELETE FROM {table} WHERE id = %s",  # noqa: S608
            ):
                with (
                    self.subTest(statement),
                    self.assertRaisesMessage(DatabaseError, "append-only"),
                ):
                    with transaction.atomic(), connection.cursor() as cursor:
                        cursor.execute(statement, [event.pk])
        with self.assertRaisesMessage(DatabaseError, "append-only"), transaction.atomic():
            AuditEvent.objects.filter(pk=event.pk).delete()
        self.assertTrue(AuditEvent.objects.filter(pk=event.pk, note="").exists())

    def test_a_review_must_name_an_event_that_exists(self):
        event = append_at(timezone.now())
        with transaction.atomic():
            AuditReview.objects.create(
                event=event, reviewer=self.privacy_officer, finding="appropriate", note="fine"
            )
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        with self.assertRaises(IntegrityError), transaction.atomic():
            AuditReview.objects.create(
                event_id=event.pk + 1000,
                reviewer=self.privacy_officer,
                finding="appropriate",
                note="of nothing",
            )
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        self.assertEqual(AuditReview.objects.count(), 1)

    def test_the_nightly_command_is_idempotent_and_moves_waiting_rows_out_of_default(self):
        waiting = append_at(months_from_now(8) + timedelta(days=2))
        self.assertEqual(partition_holding(TABLE, waiting.pk), f"{TABLE}_default")
        first = StringIO()
        call_command("partitions", months_ahead=9, stdout=first)
        made = partitions.partition_name(TABLE, months_from_now(8))
        self.assertIn(made, first.getvalue())
        self.assertEqual(partition_holding(TABLE, waiting.pk), made)
        names = [partition.name for partition in partitions.partitions(TABLE)]

        second = StringIO()
        call_command("partitions", months_ahead=9, stdout=second)
        self.assertEqual(
            second.getvalue().splitlines(),
            ["audit_auditevent: ready", "security_webrequest: ready"],
        )
        self.assertEqual([partition.name for partition in partitions.partitions(TABLE)], names)
        self.assertEqual(names[-1], f"{TABLE}_default")
        self.assertTrue(chain.verify().intact)
        # The moved row keeps its protection in its new partition.
        with self.assertRaisesMessage(DatabaseError, "append-only"), transaction.atomic():
            AuditEvent.objects.filter(pk=waiting.pk).update(note="x")
