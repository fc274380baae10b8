"""On PostgreSQL the web log is range-partitioned by month, and the purge past retention drops
whole months that are entirely past it, deleting only the rest row by row (LOG-1, LOG-5)."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from haven.lib import partitions
from haven.security.models import WebRequest
from haven.security.services import purge_web_log
from haven.testing.people import HavenTestCase

TABLE = "security_webrequest"
RETENTION_DAYS = 90

pytestmark = [
    pytest.mark.skipif(
        not settings.USING_POSTGRES,
        reason="partitions are PostgreSQL only; on SQLite the web log is an ordinary table",
    ),
]


def logged_at(when, path: str) -> WebRequest:
    return WebRequest.objects.create(
        at=when,
        host="haven.example",
        address="192.0.2.1",
        browser="Chrome",
        operating_system="Linux",
        method="GET",
        path=path,
        status=200,
    )


def partition_holding(pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tableoid::regclass::text FROM {TABLE} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


class WebLogPartitionTests(HavenTestCase):
    def test_the_web_log_is_range_partitioned_by_month_and_a_line_lands_in_its_month(self):
        self.assertTrue(partitions.is_partitioned(TABLE))
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_inherits WHERE inhparent = 'security_webrequest'::regclass"
            )
            self.assertGreaterEqual(cursor.fetchone()[0], partitions.MONTHS_AHEAD + 2)
        now = timezone.now()
        line = logged_at(now, "/now/")
        self.assertEqual(
            partition_holding(line.pk),
            partitions.partition_name(TABLE, partitions.month_start(now)),
        )
        # The identity sequence came along: ids keep growing, and Django still finds it.
        self.assertGreater(logged_at(now, "/later/").pk, line.pk)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_get_serial_sequence('security_webrequest', 'id')")
            self.assertEqual(cursor.fetchone()[0], "public.security_webrequest_id_seq")

    @pytest.mark.promise("LOG-5")
    @override_settings(HAVEN_WEBLOG_RETENTION_DAYS=RETENTION_DAYS)
    def test_the_purge_drops_months_wholly_past_retention_and_keeps_the_rest(self):
        now = timezone.now()
        cutoff = now - timedelta(days=RETENTION_DAYS)
        old_month = partitions.month_start(cutoff - timedelta(days=62))
        cutoff_month = partitions.month_start(cutoff)
        for month in (old_month, cutoff_month):
            partitions.ensure_partitions(TABLE, months_ahead=0, now=month)
        in_old_month = [logged_at(old_month + timedelta(days=day), "/old/") for day in (1, 9, 20)]
        before_cutoff = logged_at(cutoff_month + (cutoff - cutoff_month) / 2, "/before-cutoff/")
        after_cutoff = logged_at(cutoff + timedelta(hours=1), "/after-cutoff/")
        in_default = logged_at(old_month - timedelta(days=40), "/older-in-default/")
        recent = logged_at(now, "/recent/")
        self.assertEqual(
            partition_holding(in_old_month[0].pk), partitions.partition_name(TABLE, old_month)
        )
        self.assertEqual(partition_holding(in_default.pk), f"{TABLE}_default")

        erased = purge_web_log(now=now, batch=2)

        self.assertEqual(erased, 3 + 1 + 1)
        names = {partition.name for partition in partitions.partitions(TABLE)}
        self.assertNotIn(partitions.partition_name(TABLE, old_month), names)
        self.assertIn(partitions.partition_name(TABLE, cutoff_month), names)
        self.assertIn(f"{TABLE}_default", names)
        kept = set(WebRequest.objects.values_list("pk", flat=True))
        self.assertEqual(kept, {after_cutoff.pk, recent.pk})
        self.assertNotIn(before_cutoff.pk, kept)
        # A second run finds nothing more to erase.
        self.assertEqual(purge_web_log(now=now), 0)

    def test_the_migration_turns_the_table_back_and_forth_keeping_rows_ids_and_keys(self):
        now = timezone.now()
        lines = [logged_at(now - timedelta(days=days), f"/{days}/") for days in (0, 40, 400)]
        before = sorted(WebRequest.objects.values_list("pk", "path", "at"))

        partitions.unpartition(connection, TABLE, "at")
        self.assertFalse(partitions.is_partitioned(TABLE))
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = 'security_webrequest'::regclass AND contype = 'p'"
            )
            self.assertEqual(cursor.fetchone()[0], "PRIMARY KEY (id)")
        self.assertEqual(sorted(WebRequest.objects.values_list("pk", "path", "at")), before)

        partitions.partition_by_month(connection, TABLE, "at")
        self.assertTrue(partitions.is_partitioned(TABLE))
        self.assertEqual(sorted(WebRequest.objects.values_list("pk", "path", "at")), before)
        self.assertEqual(
            partition_holding(lines[2].pk),
            partitions.partition_name(TABLE, partitions.month_start(lines[2].at)),
        )
        # The sequence went along both times: a new line gets the next id.
        self.assertGreater(logged_at(now, "/next/").pk, max(line.pk for line in lines))
