"""On PostgreSQL, the web log becomes a table range-partitioned by month (docs/scaling.md), so
the purge past retention drops whole months instead of deleting rows.

PostgreSQL puts the partition key in every unique key: the primary key becomes (id, at) in the
database, while Django keeps `id` as the primary key and the identity sequence keeps ids unique.
Rows and ids are kept; the table is rewritten under an exclusive lock. SQLite: nothing changes.
"""

from django.db import migrations

from haven.lib.partitions import partition_by_month, unpartition

TABLE, COLUMN = "security_webrequest", "at"


def partition(apps, schema_editor):
    partition_by_month(schema_editor.connection, TABLE, COLUMN)


def unpartition_again(apps, schema_editor):
    unpartition(schema_editor.connection, TABLE, COLUMN)


class Migration(migrations.Migration):
    dependencies = [("security", "0001_initial")]

    operations = [migrations.RunPython(partition, unpartition_again)]
